/* callrouter.h - call-router's shared state and the pieces its modules use.
 *
 * A PBX speaks HTTP (/pbx/v1, docs/calls.md); a queue call becomes an
 * interaction of kind "call" in skill-router, which offers it; the PBX learns
 * the offer through a long-poll and reports what the agent's phone did. The
 * call record lives in Redis ({cc}:call:<id>) and every version of it goes to
 * the RECORDS stream for crm-sync. Stateless: any number of replicas. */
#ifndef CALLROUTER_H
#define CALLROUTER_H

#include "cc/v1/call.pb-c.h"
#include "cc/v1/routing.pb-c.h"
#include "cc_service.h"

#include <pthread.h>

struct waiters;     /* waiters.c */
struct directory;   /* directory.c */
struct offers;      /* offers.c */
struct note_job;    /* flow.c */
struct pending_rec; /* calls.c */

struct call_router {
    struct cc_service *svc;
    struct cc_nats *nats;
    struct cc_redis *redis;
    char token[256];             /* CC_PBX_TOKEN */
    int64_t identify_timeout_ms; /* CC_CRM_IDENTIFY_MS: 0 = no identification */
    struct waiters *waiters;     /* route long-polls */
    struct waiters *cmd_waiters; /* command long-polls */
    struct directory *dir;
    struct offers *offers; /* the latest offer of each call, the PBX's call ids */
    pthread_t noter;       /* flow.c: writes offers into records after the answer */
    pthread_mutex_t note_lock;
    pthread_cond_t note_cond;
    struct note_job *notes, **notes_tail;
    int noting, notes_stop;
    struct cc_metric *m_calls, *m_events, *m_route;
    pthread_t pump; /* calls.c: puts records in RECORDS */
    pthread_mutex_t pump_lock;
    pthread_cond_t pump_cond;
    struct pending_rec *pending; /* calls.c: the latest version of each changed record */
    int64_t pending_since;       /* when the oldest of them came */
    int pumping, pump_stop;
    volatile int stopping;
};

/* --- calls.c: the call record -------------------------------------------------------- */

/* A call record as read from Redis (strings are empty when unset). */
struct call_rec {
    char id[64], call_id[256], direction[12], from[128], to[128], queue_id[64], queue_name[128];
    char agent_id[64], state[12], hangup_by[12], outcome[12], result_id[64];
    char result_details[1024], customer_name[256], account_name[256], callback_of[64];
    char caller_name[256]; /* as the PBX gave it (the SIP From display name) */
    char reserved_agent[64];
    char link_account[64], link_contact[64], link_activity[64], link_case[64];
    int64_t enq_ms, offered_ms, answered_ms, ended_ms, attempts, version;
    int64_t offered_done_ms; /* offers made up to then were reported missed by the PBX */
    int64_t ring_ms;         /* the offer (its offered ms) the record says rings now */
};

/* One change to a record: NULL-terminated field/value pairs, applied only
 * when the record exists and its state is not "ended" (unless `any_state`). */
struct call_change {
    const char *fields[40];
    int n;
    int any_state;
};

void call_change_set(struct call_change *c, const char *field, const char *value);
void call_change_ms(struct call_change *c, const char *field, int64_t ms);

/* Creates the record of a new call under `call_id` unless the PBX created it
 * before. *created is 1 for a new one; `rec` holds the record either way. */
enum cc_status calls_create(struct call_router *cr, struct call_change *fields, const char *call_id,
                            struct call_rec *rec, int *created);

/* The interaction id of PBX call `call_id`. CC_ERR_NOT_FOUND when unknown. */
enum cc_status calls_lookup(struct call_router *cr, const char *call_id, char *id, size_t cap);

/* Reads record `id`. CC_ERR_NOT_FOUND when there is none. */
enum cc_status calls_read(struct call_router *cr, const char *id, struct call_rec *rec);

/* Applies `ch` to record `id` atomically (version + 1) and publishes the new
 * version (RECORDS, cc.call.updated.<agent>). *applied (may be NULL) is 0 when
 * the record was ended already (nothing changed). `rec` gets the record after. */
enum cc_status calls_update(struct call_router *cr, const char *id, struct call_change *ch,
                            struct call_rec *rec, int *applied);

/* Records that offer `offered_ms` of call `id` rings `agent` (state ringing,
 * attempts + 1, the first offer's time), once per offer and only while the
 * call waits or rings for an older offer: a late note after the call moved
 * on changes nothing. *applied (may be NULL) is 1 when it changed the record. */
enum cc_status calls_offered(struct call_router *cr, const char *id, const char *agent,
                             int64_t offered_ms, int *applied);

/* Fills `msg` (strings point into `rec`; `links` and time buffers are the caller's). */
struct call_view {
    Cc__V1__Call msg;
    Cc__V1__ChatLinks links;
    char enq[32], offered[32], answered[32], ended[32];
};
void calls_view(const struct call_rec *rec, struct call_view *v);

/* Ensures the RECORDS stream and starts the thread that publishes records. */
enum cc_status calls_start(struct call_router *cr);

/* Tells every part that call-router stops (long-polls are not parked again). */
void calls_stop(struct call_router *cr);

/* Publishes the versions still pending and stops the pump thread (after
 * flow_stop, before the connections are released). */
void calls_release(struct call_router *cr);

/* --- staff.c: cc.call.list / get / update ------------------------------------------ */

enum cc_status staff_start(struct call_router *cr);

/* --- directory.c: agents by sip_account / agent_number ----------------------------------- */

struct agent_entry {
    char id[64], sip_uri[256], name[256];
    int64_t callback_after_s; /* queues: a caller who waited this long gets a callback */
};

enum cc_status directory_start(struct call_router *cr);
void directory_free(struct directory *d);

/* Finds the agent whose user id, sip_account or agent_number is `key`
 * (reloading once on a miss: read your writes). CC_ERR_NOT_FOUND when none. */
enum cc_status directory_find(struct call_router *cr, const char *key, struct agent_entry *out);

/* The name of queue `queue_id` (reloading once on a miss). */
enum cc_status directory_queue_name(struct call_router *cr, const char *queue_id, char *name,
                                    size_t cap);

/* Queue `queue_id` (its name, callback_after_s), reloading once on a miss. */
enum cc_status directory_queue(struct call_router *cr, const char *queue_id,
                               struct agent_entry *out);

/* --- offers.c: the latest offer of each call, the PBX's call ids ---------------------- */

#define CALL_RING_MAX 16 /* skill-router's RING_MAX: agents rung at once */

/* An offer of a queue call as skill-router published it. */
struct call_offer {
    int64_t offered_ms, expires_ms;
    char queue_id[64];
    char ringing[CALL_RING_MAX][64];
    int n;
};

enum cc_status offers_new(struct offers **out);
void offers_free(struct offers *o);

/* Notes offer `offer` of call `id` unless a newer one is known or it is over. */
void offers_put(struct offers *o, const char *id, const struct call_offer *offer);

/* The offer of call `id` that is current as far as this replica heard and
 * not timed out: 1 and `out`, else 0 (ask skill-router). */
int offers_get(struct offers *o, const char *id, struct call_offer *out);

/* The offers of call `id` made up to `upto_ms` are over (INT64_MAX: every
 * one, the call ended): never taken from here again. */
void offers_done(struct offers *o, const char *id, int64_t upto_ms);

/* Something moved call `id` elsewhere: its known offer is not trusted and
 * no offer made up to now is taken again. */
void offers_drop(struct offers *o, const char *id);

/* Call `id` was created here now: until its offer comes, the route may wait
 * for it (offers_fresh) rather than ask skill-router. */
void offers_created(struct offers *o, const char *id);

/* Whether call `id` was created here less than a second ago and nothing is
 * known of it since (no offer, no event): its offer is on its way. */
int offers_fresh(struct offers *o, const char *id);

/* call_id -> our id, as created here (an id never changes once given). */
void offers_remember_id(struct offers *o, const char *call_id, const char *id);
void offers_forget_id(struct offers *o, const char *call_id);
int offers_find_id(struct offers *o, const char *call_id, char *id, size_t cap);

/* --- waiters.c: long-polls of the PBX ------------------------------------------------- */

/* Called (on the waiters' thread or a NATS thread) when the waiter of call
 * `id` should look again; `timed_out` is 1 at its deadline. It answers with
 * cc_http_resume, or parks `d` again with waiters_add until `deadline_ms`. */
typedef void (*waiter_fn)(struct call_router *cr, struct cc_http_deferred *d, const char *id,
                          int64_t deadline_ms, int timed_out);

enum cc_status waiters_new(struct call_router *cr, waiter_fn fn, struct waiters **out);

/* Parks deferred request `d` for call `id` until woken or `deadline_ms`. */
enum cc_status waiters_add(struct waiters *w, const char *id, struct cc_http_deferred *d,
                           int64_t deadline_ms);

/* Parks `d` like waiters_add, and has it look again (not timed out) at
 * `check_ms` should nothing wake it before. */
enum cc_status waiters_add_check(struct waiters *w, const char *id, struct cc_http_deferred *d,
                                 int64_t check_ms, int64_t deadline_ms);

/* Wakes every waiter of call `id` (this replica's). */
void waiters_wake(struct waiters *w, const char *id);

/* Wakes every waiter as timed out and frees (at shutdown, before HTTP stops). */
void waiters_free(struct waiters *w);

/* --- flow.c: the call lifecycle ------------------------------------------------------ */

enum cc_status flow_start(struct call_router *cr);

/* Writes the offers still to be noted and stops the thread that notes them. */
void flow_stop(struct call_router *cr);

/* Our id of PBX call `call_id` (this replica's memory, else Redis). */
enum cc_status flow_lookup(struct call_router *cr, const char *call_id, char *id, size_t cap);

/* What the route long-poll answers now: 200 with the offer(s), 204 nothing
 * (yet or any more), 409 ended by the engine. Returns 0 when the caller
 * should keep waiting (nothing yet and not ended). */
int flow_route_answer(struct call_router *cr, const char *id, struct cc_http_resp *resp);

/* The same for a long-poll that may wait: returns -1 (without asking
 * anyone) when the call was just created here and its offer is on its way:
 * park it and look again at the latest after ROUTE_CHECK_MS. */
int flow_route_try(struct call_router *cr, const char *id, struct cc_http_resp *resp);
#define ROUTE_CHECK_MS 50

/* POST /pbx/v1/calls, events, direct calls: see pbx.c for the HTTP side. */
struct new_call {
    const char *call_id, *queue_id, *from, *to, *from_name;
    int64_t priority;
    int has_priority;
};
enum cc_status flow_create(struct call_router *cr, const struct new_call *nc, struct call_rec *rec,
                           int *created, const char **why);

/* Enqueues call `rec` (a queue call or a callback) in skill-router;
 * idempotent. */
enum cc_status flow_enqueue(struct call_router *cr, const struct call_rec *rec, int has_priority,
                            int64_t priority, char *why, size_t whycap);

struct call_event {
    const char *type, *offer_id, *by, *reason;
};
enum cc_status flow_event(struct call_router *cr, const char *id, const struct call_event *ev,
                          struct call_rec *rec, int *ignored, const char **why);

struct direct_call {
    const char *call_id, *direction, *from, *to, *from_name;
};
enum cc_status flow_direct(struct call_router *cr, const struct agent_entry *agent,
                           const struct direct_call *dc, struct call_rec *rec, int *created,
                           const char **why);

/* The agent's status ("offline", "dnd", ...) into `status`. */
enum cc_status flow_agent_status(struct call_router *cr, const char *agent_id, char *status,
                                 size_t cap);

/* --- commands.c: what the engine asks of the PBX ------------------------------------- */

enum cc_status commands_start(struct call_router *cr);

/* Queues a command of `type` with `n` field/value strings; its id into `id`. */
enum cc_status commands_push(struct call_router *cr, const char *type, const char *const *fields,
                             int n, char *id, size_t cap);

/* GET /pbx/v1/commands: answers the queued commands (leased), or parks the
 * request up to `wait_s`, or 204. */
void commands_fetch(struct call_router *cr, struct cc_http_req *req, int64_t wait_s,
                    struct cc_http_resp *resp);

/* Records the PBX's result of command `id`; its type into `type`.
 * CC_ERR_CONFLICT when it was reported before; CC_ERR_NOT_FOUND unknown. */
enum cc_status commands_result(struct call_router *cr, const char *id, int ok, const char *reason,
                               char *type, size_t cap);

/* Field `field` of command `id`. */
enum cc_status commands_field(struct call_router *cr, const char *id, const char *field, char *out,
                              size_t cap);

/* --- supervision.c: listen, whisper, barge ------------------------------------------- */

enum cc_status supervision_start(struct call_router *cr);

/* The PBX's result of a supervise command. */
void supervision_result(struct call_router *cr, const char *command_id, int ok, const char *reason);

/* --- callbacks.c: calling customers back --------------------------------------------- */

enum cc_status callbacks_start(struct call_router *cr);

/* After `rec` (a queue call) ended unanswered: a callback when the caller
 * waited at least the queue's callback_after_s, or asked for one (`asked`). */
void callbacks_after_abandon(struct call_router *cr, const struct call_rec *rec, int asked);

/* --- pbx.c: the HTTP API ---------------------------------------------------------------- */

/* Fills `out` (room for `cap`) with the /pbx/v1 routes; returns how many, or
 * -1 when they do not fit. */
int pbx_routes(struct call_router *cr, struct cc_http_route *out, int cap);

/* --- pbx_body.c: what the PBX sends, checked without I/O ----------------------------------
 * The readers take the parsed body (NULL when none) and return NULL when it
 * is acceptable (the out-parameters then point into `json`), else the reason
 * for the 400. */

/* Percent-decodes path segment `s` into `out` (room for strlen(s) + 1):
 * 1 when the result is 1..255 printable characters, 0 when malformed. */
int pbx_decode_segment(const char *s, char *out);
/* POST /pbx/v1/calls {call_id, queue_id, from, to?, priority?} */
const char *pbx_read_new_call(const cJSON *json, struct new_call *nc);
/* POST /pbx/v1/calls/{call_id}/events {type, offer_id?, by?, reason?} */
const char *pbx_read_event(const cJSON *json, struct call_event *ev);
/* POST /pbx/v1/agents/{agent}/calls {call_id, direction, from, to} */
const char *pbx_read_direct_call(const cJSON *json, struct direct_call *dc);
/* POST /pbx/v1/commands/{id}/result {status: done|failed, reason?}: *done 1 for done. */
const char *pbx_read_command_result(const cJSON *json, int *done, const char **reason);

#endif
