/* crm.h - crm-sync's shared state and the pieces its modules use.
 *
 * settings.c holds the configuration (environment defaults overlaid by
 * what admins stored in Redis) as an immutable, reference-counted snapshot
 * with its Creatio client, replaced whole when it changes; records.c
 * writes chat and call records from the RECORDS stream to the CRM;
 * identify.c answers cc.crm.identify and staff searches; provisioning.c
 * takes agents and skills from the CRM into agent-registry; desk.c serves
 * the desk's CRM actions; webhook.c is the generic signed-webhook adapter;
 * status.c keeps the sync status admins see. Stateless: any number of
 * replicas. See docs/crm.md. */
#ifndef CRM_H
#define CRM_H

#include "cc/v1/crm.pb-c.h"
#include "cc/v1/records.pb-c.h"
#include "cc_service.h"
#include "creatio.h"
#include "names.h"

#include <pthread.h>
#include <stdatomic.h>

enum crm_type { CRM_NONE, CRM_CREATIO, CRM_WEBHOOK };

/* One version of the configuration: never changed once published. */
struct crm_conf {
    atomic_int refs;
    Cc__V1__CrmSettings *s; /* effective settings (environment + stored) */
    uint8_t *stored;        /* the stored part it was built from, for change detection */
    size_t stored_len;
    enum crm_type type;
    struct crm_names names;
    struct creatio *creatio; /* type creatio */
    int allow_private;       /* CC_CRM_ALLOW_PRIVATE: internal addresses allowed (tests) */
};

struct crm {
    struct cc_service *svc;
    struct cc_nats *nats;
    struct cc_redis *redis;
    pthread_mutex_t lock;  /* guards conf */
    struct crm_conf *conf; /* never NULL once started */
    pthread_t worker;      /* settings reload, provisioning polls, status */
    int working;
    atomic_int stopping;
    struct cc_metric *m_records, *m_requests, *m_failures, *m_provisioning, *m_lag, *m_backlog;
};

/* A name of the current configuration. */
#define CRM_NAME(conf, n) ((conf)->names.v[(n)])

/* --- settings.c: the configuration -------------------------------------------------------- */

/* The environment variables settings.c reads, for --help. */
extern const struct cc_env_var crm_env[];

/* Loads the configuration (environment, then Redis when reachable). */
enum cc_status settings_start(struct crm *c) __attribute__((warn_unused_result));
void settings_release(struct crm *c);

/* The current version, held until settings_put. Never NULL. */
struct crm_conf *settings_get(struct crm *c);
void settings_put(struct crm_conf *conf);

/* Reads the stored part again and swaps in a new version when it changed. */
void settings_reload(struct crm *c);

/* cc.crm.settings.get / put. */
void settings_on_get(void *arg, const struct cc_nats_msg *m);
void settings_on_put(void *arg, const struct cc_nats_msg *m);

/* The link to `object` record `id` in the CRM's UI into out ("" when no
 * CC_CRM_UI_URL). */
void settings_ui_url(const struct crm_conf *conf, const char *object, const char *id, char *out,
                     size_t cap);

/* --- status.c: what admins see of the sync --------------------------------------------- */

/* The CRM answered 2xx / failed (reason) just now. */
void status_success(struct crm *c, int64_t records);
void status_error(struct crm *c, const char *reason);

/* Records `kind`/`id` as given up on with `reason` (and `record`, packed,
 * to try again later; may be NULL); clears it when reason is NULL. */
void status_failure(struct crm *c, const char *kind, const char *id, const char *reason,
                    const uint8_t *record, size_t len);

/* An agent record applied (counted). */
void status_agent_applied(struct crm *c);
void status_reconciled(struct crm *c);

/* cc.crm.status.get. */
void status_on_get(void *arg, const struct cc_nats_msg *m);

/* Answers request `m` with the status now. */
void status_answer(struct crm *c, const struct cc_nats_msg *m);

/* The "<kind>:<id>" of every failure (free each and the array). */
enum cc_status status_failed_list(struct crm *c, char ***fields, size_t *n)
    __attribute__((warn_unused_result));

/* The record kept with failure `field` (malloc'ed); CC_ERR_NOT_FOUND. */
enum cc_status status_failed_record(struct crm *c, const char *field, uint8_t **rec, size_t *len)
    __attribute__((warn_unused_result));

/* Updates the backlog gauge from the consumer (worker thread). */
void status_refresh_backlog(struct crm *c);

/* --- records.c: chat and call records to the CRM ---------------------------------------- */

#define RECORDS_DURABLE "crm-records"

enum cc_status records_start(struct crm *c) __attribute__((warn_unused_result));

/* --- identify.c: contacts ------------------------------------------------------------------ */

enum cc_status identify_start(struct crm *c) __attribute__((warn_unused_result));

/* Contacts matching `q` (identification or staff search) into *out (free
 * with cc__v1__contact_list__free_unpacked). */
enum cc_status identify_find(struct crm *c, struct crm_conf *conf, const Cc__V1__ContactQuery *q,
                             Cc__V1__ContactList **out, char *why, size_t cap)
    __attribute__((warn_unused_result));

/* Contact row `row` of the CRM (Id and the contact.* fields) as a new
 * Contact with its UI link (free with cc__v1__contact__free_unpacked);
 * NULL when out of memory. */
Cc__V1__Contact *identify_contact(struct crm_conf *conf, const cJSON *row);

/* Fills in the account names of the contacts of `l` (best effort). */
void identify_account_names(struct crm_conf *conf, Cc__V1__ContactList *l);

/* --- desk.c: the desk's actions (link or create a contact, create or consult a case) ---- */

enum cc_status desk_start(struct crm *c) __attribute__((warn_unused_result));

/* --- retry.c: cc.crm.status.retry -------------------------------------------------------- */

/* Failed records back into RECORDS, failed agent records provisioned again. */
void retry_on_request(void *arg, const struct cc_nats_msg *m);

/* --- webhook.c: the generic signed-webhook adapter ------------------------------------- */

/* POSTs `body` signed to the configured webhook URL; the answer (2xx only)
 * in *answer (malloc'ed, may be NULL). CC_ERR_UNAVAILABLE / TIMEOUT when it
 * should be tried again, CC_ERR_INVALID when the receiver refused it. */
enum cc_status webhook_post(struct crm_conf *conf, const char *event, const char *body,
                            char **answer, char *why, size_t cap)
    __attribute__((warn_unused_result));

#endif
