/* registry.c - what provisioning asks agent-registry over NATS: users,
 * teams, skills and agent skills (cc.registry.obj.<kind>.<verb>,
 * cc.registry.agent_skills.<verb>), as crm-sync itself (a service caller). */
#include "registry.h"
#include "cc_log.h"
#include "cc_subjects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMEOUT_MS 5000

enum cc_status reg_call(struct crm *c, const char *subject, const char *id, const char *parent,
                        const ProtobufCMessage *body, const char *const *fields, size_t nfields,
                        Cc__V1__ObjectReply **out, char *why, size_t cap)
{
    Cc__V1__ObjectRequest req = CC__V1__OBJECT_REQUEST__INIT;
    Cc__V1__Caller self = CC__V1__CALLER__INIT;
    ProtobufCMessage *rep = NULL;
    uint8_t *buf = NULL;
    self.user_id = CC_PB_STR("crm-sync"), self.role = CC_PB_STR("admin");
    self.has_service = 1, self.service = 1;
    req.caller = &self, req.id = CC_PB_STR(id), req.parent_id = CC_PB_STR(parent);
    req.fields = (char **)fields, req.n_fields = nfields;
    if (body) {
        size_t len = protobuf_c_message_get_packed_size(body);
        if (!(buf = malloc(len + 1)))
            return CC_ERR_NOMEM;
        protobuf_c_message_pack(body, buf);
        req.has_body = 1, req.body.data = buf, req.body.len = len;
    }
    enum cc_status st = cc_nats_request(
        c->nats, subject, &req.base, &cc__v1__object_reply__descriptor, TIMEOUT_MS, &rep, why, cap);
    free(buf);
    if (st != CC_OK && why[0] == 0)
        snprintf(why, cap, "agent-registry: %s", cc_status_str(st));
    if (out)
        *out = (Cc__V1__ObjectReply *)rep;
    else if (rep)
        protobuf_c_message_free_unpacked(rep, NULL);
    return st;
}

enum cc_status reg_exists(struct crm *c, const char *kind, const char *id, char *why, size_t cap)
{
    char subject[96];
    snprintf(subject, sizeof subject, SUBJ_REGISTRY_OBJ_GET, kind);
    return reg_call(c, subject, id, NULL, NULL, NULL, 0, NULL, why, cap);
}
