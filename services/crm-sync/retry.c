/* retry.c - cc.crm.status.retry (admin, the sync status page's Retry
 * button): every record given up on (KEY_CRM_FAILED) is stored again in
 * RECORDS, so it goes through the outbox once more with the same
 * guarantees (the version check skips it when a newer version was written
 * meanwhile); every failed agent record is provisioned again. A failure
 * is cleared when its record is queued; one that fails again is reported
 * again with its new reason. */
#include "crm.h"
#include "provisioning.h"
#include "cc_log.h"
#include "cc_time.h"
#include "cc_subjects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PUBLISH_TIMEOUT_MS 5000

/* Stores the kept record of failure `field` ("chat:<id>") in RECORDS again. */
static enum cc_status requeue(struct crm *c, const char *field)
{
    const char *colon = strchr(field, ':');
    uint8_t *rec = NULL;
    size_t len = 0;
    char subject[192], msg_id[192];
    enum cc_status st = status_failed_record(c, field, &rec, &len);
    if (st != CC_OK)
        return st;
    Cc__V1__Record *r = cc__v1__record__unpack(NULL, len, rec);
    if (!r || !r->kind || !r->id || !colon || strncmp(field, r->kind, (size_t)(colon - field)) ||
        strcmp(colon + 1, r->id)) {
        st = CC_ERR_INTERNAL;
        goto out;
    }
    snprintf(subject, sizeof subject, SUBJ_RECORDS, r->kind, r->id);
    /* a new message id: the original one may still be in the duplicate window */
    snprintf(msg_id, sizeof msg_id, "%s:%lld:retry:%lld", r->id, (long long)r->version,
             (long long)cc_time_now_ms());
    st = cc_nats_js_publish(c->nats, subject, rec, len, msg_id, PUBLISH_TIMEOUT_MS, NULL);
    if (st == CC_OK)
        status_failure(c, r->kind, r->id, NULL, NULL, 0);
out:
    if (r)
        cc__v1__record__free_unpacked(r, NULL);
    free(rec);
    return st;
}

/* Tries agent record `crm_id` again (provisioning reports the outcome). */
static enum cc_status reprovision(struct crm *c, const char *crm_id)
{
    char why[256] = "";
    struct crm_conf *conf = settings_get(c);
    enum cc_status st = provisioning_user(c, conf, crm_id, why, sizeof why);
    settings_put(conf);
    return st;
}

void retry_on_request(void *arg, const struct cc_nats_msg *m)
{
    struct crm *c = arg;
    Cc__V1__SettingsRequest *req = cc__v1__settings_request__unpack(NULL, m->len, m->data);
    char **fields = NULL;
    size_t n = 0, queued = 0;
    if (!req || !req->caller || !req->caller->role || strcmp(req->caller->role, "admin")) {
        (void)cc_nats_respond_error(c->nats, m, req ? CC_ERR_FORBIDDEN : CC_ERR_INVALID, NULL);
        goto out;
    }
    if (status_failed_list(c, &fields, &n) != CC_OK) {
        (void)cc_nats_respond_error(c->nats, m, CC_ERR_UNAVAILABLE,
                                    "the sync status store is down");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        enum cc_status st = !strncmp(fields[i], "agent:", 6) ? reprovision(c, fields[i] + 6)
                                                             : requeue(c, fields[i]);
        if (st == CC_OK)
            queued++;
        else
            CC_WARN("crm: retry of %s: %s", fields[i], cc_status_str(st));
    }
    CC_INFO("crm: retry by %s: %zu of %zu failures tried again",
            req->caller->user_id ? req->caller->user_id : "?", queued, n);
    status_answer(c, m);
out:
    for (size_t i = 0; i < n; i++)
        free(fields[i]);
    free(fields);
    if (req)
        cc__v1__settings_request__free_unpacked(req, NULL);
}
