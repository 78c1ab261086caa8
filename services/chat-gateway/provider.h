/* provider.h - the chat providers' wire formats, as pure functions.
 *
 * chat-gateway talks to Telegram, Viber, WhatsApp through Infobip, the
 * WhatsApp Cloud API and Facebook Messenger. This module knows, for each one,
 * how a webhook is signed, what its body means, how a send request looks,
 * what the send answer says and how an inbound file is downloaded. It does no
 * I/O: the gateway verifies and parses what arrived, performs the requests
 * built here with its HTTP client, and hands the answers back to be read. */
#ifndef PROVIDER_H
#define PROVIDER_H

#include "cc/v1/registry.pb-c.h"
#include "cc_pool.h"
#include "cc_status.h"

#include <stddef.h>
#include <stdint.h>

enum provider_type {
    PROVIDER_UNKNOWN = 0,
    PROVIDER_TELEGRAM,
    PROVIDER_VIBER,
    PROVIDER_INFOBIP_WHATSAPP,
    PROVIDER_WHATSAPP_CLOUD,
    PROVIDER_MESSENGER,
    PROVIDER_WEBCHAT, /* no provider API: every function below refuses it */
};

/* The type named by a channel type ("infobip_whatsapp") or by a webhook path
 * segment ("infobip", "whatsapp"); PROVIDER_UNKNOWN for NULL or anything else. */
enum provider_type provider_type_parse(const char *name);

/* The channel type name ("whatsapp_cloud"); "unknown" when out of range. Never NULL. */
const char *provider_type_name(enum provider_type type);

/* --- webhook verification (SPEC section 8) ----------------------------------- */

/* Returns the value of request header `name` (matched without case), or NULL.
 * The string must stay valid until the verifying call returns. */
typedef const char *(*provider_header_fn)(void *arg, const char *name);

/* Checks that a webhook request comes from the provider, in constant time:
 * Telegram X-Telegram-Bot-Api-Secret-Token equal to secret_token; Viber
 * X-Viber-Content-Signature, the hex HMAC-SHA256 of the raw body keyed with
 * auth_token; Messenger and WhatsApp Cloud X-Hub-Signature-256 "sha256=<hex>"
 * keyed with app_secret; Infobip an Authorization header equal to
 * webhook_authorization. Returns 1 when it does, 0 otherwise, also when the
 * channel has no such secret configured (fail closed) or for webchat. `cred`
 * may be NULL (then 0); `body` is the raw body as received. */
int provider_verify(enum provider_type type, const Cc__V1__ChannelCredentials *cred,
                    provider_header_fn header, void *arg, const char *body, size_t len);

/* Meta's subscription check (GET ...?hub.mode=subscribe&hub.verify_token=...
 * &hub.challenge=...), for Messenger and WhatsApp Cloud only. Returns 1 when
 * `mode` is "subscribe" and `verify_token` equals the channel's verify_token
 * (constant time): the gateway then answers hub.challenge as text/plain with
 * 200. Returns 0 otherwise (answer 403). */
int provider_verify_challenge(enum provider_type type, const Cc__V1__ChannelCredentials *cred,
                              const char *mode, const char *verify_token);

/* --- webhook bodies ------------------------------------------------------------ */

enum provider_event_kind {
    PROVIDER_EVENT_MESSAGE,     /* a customer wrote: text and/or attachments */
    PROVIDER_EVENT_EDIT,        /* a customer changed an earlier message: the id names it */
    PROVIDER_EVENT_RECEIPT,     /* one of our messages was delivered, read, or failed */
    PROVIDER_EVENT_UNSUPPORTED, /* a customer sent what we cannot show (location, poll...) */
    PROVIDER_EVENT_IGNORED,     /* nothing for the chat (echo, subscribed, a ping, "sent") */
};

enum provider_receipt {
    PROVIDER_RECEIPT_NONE = 0, /* the event is not a receipt */
    PROVIDER_RECEIPT_DELIVERED,
    PROVIDER_RECEIPT_READ,
    PROVIDER_RECEIPT_FAILED, /* the event's text holds the provider's reason */
};

enum provider_attachment_type {
    PROVIDER_ATTACHMENT_IMAGE,
    PROVIDER_ATTACHMENT_DOCUMENT,
    PROVIDER_ATTACHMENT_AUDIO, /* voice notes too */
    PROVIDER_ATTACHMENT_VIDEO,
    PROVIDER_ATTACHMENT_STICKER,
};

struct provider_attachment {
    enum provider_attachment_type type;
    const char *ref;  /* for provider_build_media_fetch: a URL (Viber, Infobip, Messenger)
                         or a file/media id (Telegram, WhatsApp Cloud); never NULL */
    const char *mime; /* NULL when the provider does not say */
    const char *name; /* the file's name, NULL when none */
    int64_t size;     /* bytes, -1 when the provider does not say */
};

/* One thing a webhook reported. Strings are UTF-8 as the provider sent them
 * (emoji intact) and belong to the batch. */
struct provider_event {
    enum provider_event_kind kind;
    enum provider_receipt receipt;   /* RECEIPT: which; NONE for the other kinds */
    const char *provider_message_id; /* MESSAGE, EDIT, UNSUPPORTED: the customer's message;
                                        RECEIPT: ours it refers to (NULL for a watermark
                                        receipt); exact (Viber's 64-bit tokens as digits;
                                        Telegram "<chat id>:<message id>", since Telegram
                                        numbers messages per chat); may be NULL for IGNORED */
    const char *conversation;        /* the customer's id in the channel: Telegram chat id, Viber
                                        user id, WhatsApp number, Messenger PSID; NULL only for
                                        some IGNORED events */
    const char *customer_name;       /* NULL when the provider does not say */
    const char *customer_phone;      /* NULL when the provider does not say */
    const char *customer_language;   /* the customer's language (Telegram), or NULL */
    const char *text;                /* MESSAGE, EDIT: the text or caption, NULL when none;
                                        RECEIPT FAILED: the reason; else NULL */
    struct provider_attachment *attachments;
    size_t n_attachments;
    int64_t timestamp_ms; /* when it happened by the provider's clock; 0 when unknown */
    int64_t watermark_ms; /* Messenger receipts without ids: every message sent up to this
                             time is covered; else 0 */
    const char *note;     /* UNSUPPORTED, IGNORED: what it was ("viber: subscribed"); else NULL */
};

/* The events of one webhook body, in the order the provider sent them. */
struct provider_batch {
    struct provider_event *events;
    size_t n;
    size_t cap;          /* private */
    struct cc_pool pool; /* private: holds every string and attachment */
};

#define PROVIDER_MAX_EVENTS 4096    /* per body; a body holding more is refused */
#define PROVIDER_MAX_ATTACHMENTS 16 /* per message; more are dropped */

/* Reads a webhook body (verify it first) into a new batch of zero or more
 * events. On CC_OK the caller owns *out and frees it with provider_batch_free.
 * Malformed JSON, invalid UTF-8, a body that is not the provider's, a missing
 * or mistyped required field give CC_ERR_INVALID (answer 400) with the reason
 * in `why` ("message.chat.id: expected an integer"); CC_ERR_NOMEM when out of
 * memory. On error *out is NULL. `why` (may be NULL) is always NUL-terminated
 * when whycap > 0, "" on CC_OK. */
enum cc_status provider_parse(enum provider_type type, const char *body, size_t len,
                              struct provider_batch **out, char *why, size_t whycap);

/* Frees a batch and everything in it. NULL is allowed. */
void provider_batch_free(struct provider_batch *b);

/* Short lower-case names for logs and storage ("message", "read", "image"). Never NULL. */
const char *provider_event_kind_name(enum provider_event_kind kind);
const char *provider_receipt_name(enum provider_receipt receipt);
const char *provider_attachment_type_name(enum provider_attachment_type type);

/* --- outbound requests ---------------------------------------------------------- */

#define PROVIDER_MAX_HEADERS 4

/* An HTTP request to perform. Everything is malloc'ed and owned by the
 * request; provider_request_release frees it. The URL and headers may hold
 * credentials (Telegram puts the bot token in the path): log log_url. */
struct provider_request {
    const char *method;                  /* "GET" or "POST"; static */
    char *url;                           /* absolute */
    char *log_url;                       /* url with any credential replaced by "<redacted>" */
    char *headers[PROVIDER_MAX_HEADERS]; /* "Name: value" lines, as curl_slist_append takes */
    int n_headers;
    char *body; /* POST: the JSON body; GET: NULL */
    size_t body_len;
    int lookup; /* media fetch: 1 when the answer is not the file but names it, to be
                   read by provider_parse_media_lookup; 0 when the answer is the file */
};

#define PROVIDER_REQUEST_INIT                                                                      \
    {                                                                                              \
        NULL, NULL, NULL, {NULL}, 0, NULL, 0, 0                                                    \
    }

/* Frees what the request holds and empties it; it can be filled again. */
void provider_request_release(struct provider_request *req);

/* A file an agent sends, already stored where the provider can fetch it. */
struct provider_file {
    const char *url;  /* http(s), reachable by the provider */
    const char *mime; /* may be NULL: then the name's extension decides */
    const char *name; /* may be NULL */
    int64_t size;     /* bytes; 0 or less when unknown (Viber then gets a link) */
};

/* Builds the request that sends `text` and/or `file` to `recipient` (an
 * event's conversation) on channel `ch`: the URL is the channel's
 * api_base_url (or the provider's public root when empty; Infobip has none)
 * plus the provider's path, with api_version (default "v21.0") for Meta.
 * png/jpg/jpeg/gif files go as images with preview and `text` as caption;
 * other files go as documents where the provider can fetch any file by URL
 * (Infobip, WhatsApp Cloud, Messenger, Telegram for pdf/zip, Viber when the
 * size is known), otherwise, and wherever the provider has no caption for the
 * kind of message, as a text message with the link. `text` and `file` may be
 * NULL, not both. On CC_OK the caller releases *out; on error *out is left
 * empty and `why` says what is missing or wrong (CC_ERR_INVALID: a channel
 * without its credentials, a bad recipient, a file URL that is not http(s);
 * CC_ERR_NOMEM). */
enum cc_status provider_build_send(enum provider_type type, const Cc__V1__Channel *ch,
                                   const char *recipient, const char *text,
                                   const struct provider_file *file, struct provider_request *out,
                                   char *why, size_t whycap);

enum provider_send_status {
    PROVIDER_SEND_OK,        /* sent: message_id is the provider's id (may be "") */
    PROVIDER_SEND_TRANSIENT, /* try again later: no answer, 5xx, 429, rate limits */
    PROVIDER_SEND_PERMANENT, /* will never work: other 4xx, refusals; reason says why */
};

#define PROVIDER_ID_MAX 256
#define PROVIDER_REASON_MAX 256

struct provider_send_result {
    enum provider_send_status status;
    char message_id[PROVIDER_ID_MAX]; /* OK: the id receipts will name; else "" */
    char reason[PROVIDER_REASON_MAX]; /* not OK: the provider's words, else ours; "" on OK
                                         unless the answer had no usable id */
};

/* Reads a send answer: `http_status` as received (0 when there was none:
 * timeout, connection refused), `body` as received (may be NULL). Fills *out
 * and returns its status. Never fails: an answer that cannot be read is
 * judged by its HTTP status, and a 2xx without a readable id counts as sent
 * (sending again could deliver twice). */
enum provider_send_status provider_parse_send_result(enum provider_type type, long http_status,
                                                     const char *body, size_t len,
                                                     struct provider_send_result *out);

/* --- typing and profiles ----------------------------------------------------------- */

/* Builds the request that shows `recipient` the agent is writing (Telegram
 * sendChatAction "typing"). CC_ERR_NOT_FOUND: the provider has no such
 * thing (nothing to release). Same ownership and errors as provider_build_send. */
enum cc_status provider_build_typing(enum provider_type type, const Cc__V1__Channel *ch,
                                     const char *recipient, struct provider_request *out, char *why,
                                     size_t whycap);

/* Builds the request for customer `who`'s profile (Messenger: the Graph API's
 * first_name, last_name with the page token; allowed only with the page's
 * "User Profile" access). CC_ERR_NOT_FOUND: the provider has none. */
enum cc_status provider_build_profile(enum provider_type type, const Cc__V1__Channel *ch,
                                      const char *who, struct provider_request *out, char *why,
                                      size_t whycap);

/* The display name in a 2xx profile answer ("First Last"), malloc'ed, or
 * NULL when it holds none (refusals, errors, other providers). */
char *provider_parse_profile(enum provider_type type, const char *body, size_t len);

/* --- inbound media ---------------------------------------------------------------- */

/* Builds the first request for an attachment's `ref`: for Telegram (getFile)
 * and WhatsApp Cloud (the media's metadata) a lookup (out->lookup = 1) whose
 * answer goes to provider_parse_media_lookup; for the others the download
 * itself, with the channel's credentials where the provider wants them
 * (Infobip: Authorization: App, sent only to the channel's own API root).
 * Same ownership and errors as provider_build_send. */
enum cc_status provider_build_media_fetch(enum provider_type type, const Cc__V1__Channel *ch,
                                          const char *ref, struct provider_request *out, char *why,
                                          size_t whycap);

/* Reads a lookup answer and builds the download request into *out. A non-2xx
 * status or an answer without the file's location gives CC_ERR_UNAVAILABLE
 * for 0, 429 and 5xx (try again) and CC_ERR_NOT_FOUND otherwise, with the
 * provider's reason in `why`. */
enum cc_status provider_parse_media_lookup(enum provider_type type, const Cc__V1__Channel *ch,
                                           long http_status, const char *body, size_t len,
                                           struct provider_request *out, char *why, size_t whycap);

/* --- where inbound files may come from (SPEC section 8) ------------------------------ */

enum provider_media_source {
    PROVIDER_MEDIA_REFUSED = 0,
    PROVIDER_MEDIA_CHANNEL, /* the origin (scheme, host, port) of the channel's API root
                               (api_base_url, or the provider's public root when empty):
                               whatever address the admin pointed it at */
    PROVIDER_MEDIA_HOST,    /* https, port 443, a host on the channel's media_hosts (or,
                               when it lists none, the provider's own): only at public
                               addresses, which the fetch checks after resolving the name */
};

/* The provider's own media hosts ("*.fbcdn.net": any name under fbcdn.net),
 * NULL-terminated; an empty list for webchat and unknown types. */
const char *const *provider_media_hosts(enum provider_type type);

/* Where `url` (an inbound file's or a redirect's) would be fetched from for
 * channel `ch`: PROVIDER_MEDIA_REFUSED, with the reason in `why`, for what
 * is neither the channel's API origin nor an https URL of one of its media
 * hosts, and for any URL with user info, an address written out as host on
 * the media-host path, or that is not http(s). Pure. */
enum provider_media_source provider_media_source(enum provider_type type, const Cc__V1__Channel *ch,
                                                 const char *url, char *why, size_t whycap);

/* 1 when URLs `a` and `b` have the same origin (scheme, host, port). */
int provider_same_origin(const char *a, const char *b);

#endif
