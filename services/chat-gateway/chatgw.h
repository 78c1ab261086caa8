/* chatgw.h - chat-gateway's shared state and the pieces its modules use.
 *
 * A provider webhook (webhooks.c) or a web-chat customer (webchat.c) is
 * verified, parsed and stored in JetStream (CHAT_IN) before it is answered;
 * inbound.c consumes CHAT_IN into chats in Redis (store.c) and hands new
 * chats to skill-router; chats.c serves the chat subjects api-gateway calls
 * for agents and supervisors; outbound.c consumes CHAT_OUT and delivers the
 * agents' messages through the providers (provider.h). Stateless: any
 * number of replicas. See docs/chat-gateway.md. */
#ifndef CHATGW_H
#define CHATGW_H

#include "cc/v1/chat.pb-c.h"
#include "cc/v1/registry.pb-c.h"
#include "cc_events.h"
#include "cc_refresh.h"
#include "cc_service.h"

#include <pthread.h>
#include <stdatomic.h>

#define CHAT_IN_STREAM "CHAT_IN"
#define CHAT_OUT_STREAM "CHAT_OUT"

/* Web-chat limits, each per minute and also allowed at once; 0: none. */
struct webchat_limits {
    int64_t sessions_per_address, sessions_per_channel;
    int64_t messages_per_address, messages_per_channel;
};

/* One version of the channels, with their credentials: replaced whole on
 * every change, shared read-only by reference count. */
struct channels {
    atomic_int refs;
    Cc__V1__Channel **items;
    size_t n;
};

struct chatgw {
    struct cc_service *svc;
    struct cc_nats *nats;
    struct cc_redis *redis;
    pthread_mutex_t lock;       /* guards the channels pointer */
    struct channels *channels;  /* never NULL once started */
    struct cc_refresh refresh;  /* a look-up that misses reloads once (read your writes) */
    struct cc_events *events;   /* web-chat event streams */
    const char *public_url;     /* how customers and providers reach this service */
    const char *file_dir;       /* where files live (shared by every replica) */
    int64_t file_max_bytes, link_ttl_s, sse_keepalive_us;
    int64_t identify_timeout_ms; /* identify.c: how long crm-sync may take; 0 = never ask */
    struct webchat_limits limits; /* webchat_guard.c */
    int64_t media_timeout_ms;     /* media.c: a whole fetch, redirects included */
    pthread_t sweeper;          /* inbound.c: chats not handed to skill-router yet */
    int sweeping;
    pthread_t records_sweeper;  /* records.c: chat versions not in RECORDS yet */
    int records_sweeping;
    volatile int stopping;
    struct cc_metric *m_webhooks, *m_messages, *m_delivery_failures, *m_ingest_latency,
        *m_offer_latency, *m_webchat_limited, *m_webchat_refused, *m_media;
};

/* --- channels.c: the channels, with credentials, from agent-registry ---------------- */

enum cc_status channels_start(struct chatgw *g);
void channels_release(struct chatgw *g);

/* The current version, held until channels_put. */
const struct channels *channels_get(struct chatgw *g);
void channels_put(const struct channels *c);

/* Channel `id` of version `c`, or NULL. */
const Cc__V1__Channel *channel_find(const struct channels *c, const char *id);

/* The current version, reloaded from agent-registry first when it lacks
 * channel `id` (a channel created a moment ago); held until channels_put.
 * *ch is channel `id` in it, or NULL when the registry has none either. */
const struct channels *channels_get_for(struct chatgw *g, const char *id,
                                        const Cc__V1__Channel **ch);

/* --- store.c: chats and messages in Redis --------------------------------------------- */

/* What storing an inbound message did. */
struct stored {
    char chat_id[64], message_id[64], agent_id[64];
    int opened;   /* the message opened a new chat */
    int created;  /* the message is new (0: a provider retry, already stored) */
    int enqueued; /* the chat was handed to skill-router already */
};

/* Who wrote a message, as the provider (or the web-chat session) tells:
 * each may be NULL. A new chat keeps them. */
struct customer {
    const char *name, *phone, *email, *language;
};

/* Stores customer message `msg` (direction, text, attachments, created_at
 * and seq set) of `conversation` on channel `ch`, once per
 * `provider_message_id`, in the open chat of the conversation or a new one. */
enum cc_status store_inbound(struct chatgw *g, const Cc__V1__Channel *ch, const char *conversation,
                             const struct customer *cust, const char *provider_message_id,
                             Cc__V1__ChatMessage *msg, struct stored *out);

/* Chat `id` (free with cc__v1__chat__free_unpacked); CC_ERR_NOT_FOUND. */
enum cc_status store_chat(struct chatgw *g, const char *id, Cc__V1__Chat **out);

/* Where a chat is in its history: every change of its fields bumps `version`. */
struct chat_version {
    int64_t version;    /* 0 for a chat stored before versions existed */
    int64_t changed_ms; /* when that version was made */
};

/* store_chat, and the chat's version read in the same command (ver may be NULL). */
enum cc_status store_chat_version(struct chatgw *g, const char *id, Cc__V1__Chat **out,
                                  struct chat_version *ver);

/* Sets `npairs` field, value pairs (at most 16; a NULL value stores "") of
 * existing chat `id` and gives it a new version in the same step (it waits
 * in RECORDS_PENDING until records_publish). CC_ERR_NOT_FOUND: no such chat. */
enum cc_status store_chat_set(struct chatgw *g, const char *id, const char *const *pairs,
                              size_t npairs);

/* Message `id` (free with cc__v1__chat_message__free_unpacked). */
enum cc_status store_message(struct chatgw *g, const char *id, Cc__V1__ChatMessage **out);

/* Writes message `m` back (its delivery changed). */
enum cc_status store_message_put(struct chatgw *g, const Cc__V1__ChatMessage *m);

/* Appends agent message `m` (id, created_at, seq set) to its chat; the first
 * one moves a new chat to in_progress (a bot's message does not). */
enum cc_status store_outbound(struct chatgw *g, Cc__V1__ChatMessage *m);

/* The chat's messages in order (free each and the array). */
enum cc_status store_messages(struct chatgw *g, const char *chat_id, Cc__V1__ChatMessage ***out,
                              size_t *n);

/* A new random id with `prefix` ("cht_", "msg_") into out (>= 32 bytes). */
void store_new_id(const char *prefix, char *out, size_t cap);

/* --- files.c: files in chats ----------------------------------------------------------- */

/* Attachment of stored file `file_id` with a new expiring link; release
 * with files_attachment_release. CC_ERR_NOT_FOUND when unknown. */
enum cc_status files_attachment(struct chatgw *g, const char *file_id, Cc__V1__Attachment *att);
void files_attachment_release(Cc__V1__Attachment *att);

/* GET /files/{token}. */
void files_serve(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);

/* --- inbound.c: CHAT_IN into chats ---------------------------------------------------- */

enum cc_status inbound_start(struct chatgw *g);

/* Stops the sweeper of chats not handed to skill-router yet. */
void inbound_stop(struct chatgw *g);

/* Stores `in` in CHAT_IN (deduplicated on channel and provider message id)
 * and returns once JetStream has it: what a webhook waits for before 2xx. */
enum cc_status inbound_publish(struct chatgw *g, const Cc__V1__Inbound *in);

/* --- outbound.c, http_client.c, media.c: talking to the providers ------------------ */

enum cc_status outbound_start(struct chatgw *g);

struct provider_request;

/* Performs `req` within `timeout_ms`, keeping at most `max_bytes` of the
 * answer (CC_ERR_TOO_LARGE beyond), following no redirect (a 3xx is the answer). *status is 0 when nothing answered
 * (CC_ERR_UNAVAILABLE); *body (malloc'ed, NUL-terminated) may be NULL. */
enum cc_status http_perform(const struct provider_request *req, long timeout_ms, size_t max_bytes,
                            long *status, char **body, size_t *len);

/* Fetches what `req` names for an inbound file of channel `ch`, only where
 * provider_media_source allows (SPEC section 8), also after each redirect
 * (at most 3, followed by hand; the request's headers, its credentials, only
 * to its own origin). A media host's name is resolved first, refused when
 * any address is internal (cc_netguard) and pinned for the connection. The
 * whole fetch ends by `deadline_us` (cc_time_mono_us) and keeps at most
 * `max_bytes`. CC_ERR_FORBIDDEN: refused (`why` says what);
 * CC_ERR_TOO_LARGE; CC_ERR_UNAVAILABLE: nothing answered; else as
 * http_perform. */
enum cc_status http_fetch_media(const Cc__V1__Channel *ch, const struct provider_request *req,
                                int64_t deadline_us, size_t max_bytes, long *status, char **body,
                                size_t *len, char *why, size_t whycap);

/* Fetches an inbound attachment from the provider (att->provider_ref) and
 * stores it: att gets file_id, mime (sniffed), size and a link.
 * CC_ERR_UNAVAILABLE: try again later; other errors: it cannot be fetched,
 * and att->unavailable says why (a refused one loses its provider_ref). */
enum cc_status media_fetch(struct chatgw *g, const Cc__V1__Channel *ch, Cc__V1__Attachment *att);

/* Marks an attachment unavailable for `why` (the provider never answered). */
void media_unavailable(struct chatgw *g, Cc__V1__Attachment *att, const char *why);

/* --- webhooks.c, webchat.c: the public HTTP side ------------------------------------ */

void webhooks_post(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);
void webhooks_get(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);
void webchat_session_new(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);
void webchat_config(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);
void webchat_typing(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);
void webchat_file(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);
void webchat_send(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);
void webchat_messages(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);
void webchat_events(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);
void webchat_widget(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);
void webchat_widget_css(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);
void webchat_demo(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);
enum cc_status webchat_start(struct chatgw *g);

/* --- webchat_guard.c: who may call the web-chat API (CORS) and how often ------------ */

/* Checks the request's Origin against web-chat channel `channel_id` (NULL:
 * any web-chat channel, for a session not known) and adds the CORS headers
 * to resp. Returns 1 when the request goes on (no Origin, this service's own
 * origin, or one the channel allows), 0 after answering 403. */
int webchat_cors(struct chatgw *g, struct cc_http_req *req, struct cc_http_resp *resp,
                 const char *channel_id);

enum webchat_limit { WEBCHAT_LIMIT_SESSION, WEBCHAT_LIMIT_MESSAGE };

/* Counts one session or message against the client address's and channel
 * `channel_id`'s limits: 1 when within them, 0 after answering 429 with
 * Retry-After (counted). 1 also when Redis cannot answer. */
int webchat_limit(struct chatgw *g, struct cc_http_req *req, struct cc_http_resp *resp,
                  enum webchat_limit what, const char *channel_id);

/* OPTIONS /webchat/v1/{channel_id}/sessions and /webchat/v1/sessions/{id}/...:
 * 204 with the CORS headers for an allowed origin, else 403. */
void webchat_preflight_channel(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);
void webchat_preflight_session(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);

/* --- records.c: every version of every chat into the RECORDS stream ---------------- */

/* Finishes the accepts that skill-router took but this service did not
 * record (its answer came late or this replica died in between): run by
 * the records sweeper on every replica. */
void chats_sweep_accepts(struct chatgw *g);

/* Ensures the RECORDS stream and starts the sweeper that publishes the
 * versions a failed publish left behind. */
enum cc_status records_start(struct chatgw *g);

/* Stops the sweeper (g->stopping must be set). */
void records_stop(struct chatgw *g);

/* Publishes chat `id` as it is now (cc.v1.Record, Nats-Msg-Id "<id>:<version>")
 * and waits for JetStream's ack (at most about a second); on failure the chat
 * stays pending and the sweeper publishes it later. Call after every
 * store_chat_set (and the scripts that bump a version). */
enum cc_status records_publish(struct chatgw *g, const char *id);

/* store_chat_set, then records_publish: how a chat's fields change. Returns
 * the status of the change (a failed publish is left to the sweeper). */
enum cc_status records_chat_set(struct chatgw *g, const char *id, const char *const *pairs,
                                size_t npairs);

/* --- identify.c: the customer of a new chat in the CRM -------------------------------- */

/* Asks crm-sync who customer `customer_id` (`phone` may be NULL) of channel
 * `ch` is; one match sets the chat's name, contact_id and account_id (a new
 * version). Nothing happens on none, many, no answer within
 * identify_timeout_ms, or an error. */
void identify_chat(struct chatgw *g, const char *chat_id, const Cc__V1__Channel *ch,
                   const char *customer_id, const char *phone);

/* --- chats.c: the chat subjects -------------------------------------------------------- */

enum cc_status chats_start(struct chatgw *g);

/* What the web-chat customer sees of chat `c` (id, state, agent's name,
 * times, language): fields of `out` point into `c`. */
void chats_customer_view(const Cc__V1__Chat *c, Cc__V1__Chat *out);

/* Publishes chat `c` changed (cc.chat.updated.<agent>, and to its web-chat
 * customer), and its brief to the monitors (chats_publish_changed). */
void chats_publish_updated(struct chatgw *g, const Cc__V1__Chat *c);

/* Publishes the brief of chat `c` (id, queue, state, agent, the agent it
 * rings for) on cc.chat.changed.<queue>, for the supervisors' open chats. */
void chats_publish_changed(struct chatgw *g, const Cc__V1__Chat *c);

/* Publishes message `m` of chat `c` to whoever follows the chat. */
void chats_publish_message(struct chatgw *g, const Cc__V1__Chat *c, const Cc__V1__ChatMessage *m);

#endif
