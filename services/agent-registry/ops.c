/* ops.c - the helpers every kind of configuration object shares: a
 * refusal with its reason, the caller's role, the change event
 * (cc.registry.changed.<kind>) and the reply. Called by rpc.c and the kinds'
 * hooks; calls nothing of theirs. */
#include "registry.h"
#include "cc_log.h"
#include "cc_subjects.h"
#include "cc_time.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum cc_status op_fail(struct op *op, enum cc_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(op->why, sizeof op->why, fmt, ap);
    va_end(ap);
    return st;
}

int caller_is(const struct op *op, const char *role)
{
    return op->caller->role && strcmp(op->caller->role, role) == 0;
}

void registry_changed(struct registry *reg, const char *kind, const char *id, const char *what,
                      const Cc__V1__Caller *by)
{
    Cc__V1__ConfigChanged ev = CC__V1__CONFIG_CHANGED__INIT;
    char at[32], subject[96];
    cc_time_format_ms(cc_time_now_ms(), at, sizeof at);
    ev.kind = CC_PB_STR(kind), ev.id = CC_PB_STR(id), ev.op = CC_PB_STR(what);
    ev.by = by ? by->user_id : NULL;
    ev.at = at;
    snprintf(subject, sizeof subject, SUBJ_REGISTRY_CHANGED, kind);
    if (cc_nats_publish(reg->nats, subject, &ev.base) != CC_OK)
        CC_WARN("cannot publish %s change of %s", kind, id);
}

void registry_reply(struct registry *reg, const struct cc_nats_msg *m, const ProtobufCMessage *obj)
{
    Cc__V1__ObjectReply rep = CC__V1__OBJECT_REPLY__INIT;
    size_t len = protobuf_c_message_get_packed_size(obj);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        cc_nats_respond_error(reg->nats, m, CC_ERR_NOMEM, NULL);
        return;
    }
    protobuf_c_message_pack(obj, buf);
    rep.has_body = 1;
    rep.body.data = buf, rep.body.len = len;
    cc_nats_respond(reg->nats, m, &rep.base);
    free(buf);
}

int ids_contain(char *const *ids, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ids[i], id) == 0)
            return 1;
    return 0;
}

/* Sets id (create), created_at and updated_at. */
