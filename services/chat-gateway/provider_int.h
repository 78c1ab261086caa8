/* provider_int.h - what provider.c shares with the per-provider files.
 *
 * Each provider_<name>.c fills one struct provider__ops; provider.c checks
 * the arguments once and dispatches. The helpers here read JSON defensively
 * (every getter checks the type), collect events into the batch, and build
 * requests. Not part of the module's interface. */
#ifndef PROVIDER_INT_H
#define PROVIDER_INT_H

#include "provider.h"

#include <cjson/cJSON.h>
#include <stdarg.h>

/* One webhook body being read. Allocation failures only set `oom`, so the
 * readers need not check every copy; provider_parse turns it into CC_ERR_NOMEM. */
struct provider__ctx {
    struct provider_batch *batch;
    const char *body; /* the raw body, for numbers a double cannot hold */
    size_t len;
    char *why;
    size_t whycap;
    int oom;
};

/* One outbound call (send, media fetch or lookup) being built. */
struct provider__call {
    const Cc__V1__Channel *ch;
    const Cc__V1__ChannelCredentials *cred; /* never NULL: empty when the channel has none */
    const char *base;                       /* API root without a trailing '/' */
    const char *version;                    /* Graph API version ("v21.0") */
    struct provider_request *req;
    char *why;
    size_t whycap;
};

struct provider__ops {
    enum cc_status (*parse)(struct provider__ctx *c, const cJSON *root);
    /* text: NULL or non-empty; file: NULL or checked; image: file is png/jpg/gif */
    enum cc_status (*send)(struct provider__call *k, const char *to, const char *text,
                           const struct provider_file *file, int image);
    /* root: the parsed answer or NULL; out already holds the HTTP verdict */
    void (*result)(long http, const cJSON *root, const char *body, size_t len,
                   struct provider_send_result *out);
    enum cc_status (*media)(struct provider__call *k, const char *ref);
    enum cc_status (*lookup)(struct provider__call *k, const cJSON *root); /* NULL: no lookup */
    const char *default_base; /* public API root, NULL when there is none */
    /* the agent is writing to `to`; NULL: the provider shows no such thing */
    enum cc_status (*typing)(struct provider__call *k, const char *to);
    /* the customer's profile (their display name); NULL: the provider has none */
    enum cc_status (*profile)(struct provider__call *k, const char *who);
    /* the display name in a profile answer (allocated), or NULL */
    char *(*profile_name)(const cJSON *root);
};

extern const struct provider__ops provider__telegram;
extern const struct provider__ops provider__viber;
extern const struct provider__ops provider__infobip;
extern const struct provider__ops provider__whatsapp;
extern const struct provider__ops provider__messenger;

/* --- errors ---------------------------------------------------------------------- */

/* Writes the reason into why/whycap (may be NULL) and returns `st`. */
enum cc_status provider__fail(char *why, size_t whycap, enum cc_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* --- reading JSON ------------------------------------------------------------------ */

const char *provider__str(const cJSON *obj, const char *key);  /* a string member, else NULL */
const cJSON *provider__obj(const cJSON *obj, const char *key); /* an object member, else NULL */
const cJSON *provider__arr(const cJSON *obj, const char *key); /* an array member, else NULL */

/* An integral number member within +-2^53 into *out: 1, else 0. */
int provider__int(const cJSON *obj, const char *key, int64_t *out);

/* A decimal integer of at most 15 digits in a string member ("1603059201") into *out: 1, else 0. */
int provider__int_str(const cJSON *obj, const char *key, int64_t *out);

/* An id member given as a non-empty string or an integral number, copied into
 * the batch as text; NULL when absent or of another type. */
const char *provider__id(struct provider__ctx *c, const cJSON *obj, const char *key);

/* The raw text of the member `key` of the body's top-level object (a number
 * exactly as written, a string's inside): 1 with *val and *vlen set, else 0. */
int provider__raw_member(const char *body, size_t len, const char *key, const char **val,
                         size_t *vlen);

/* Milliseconds of an ISO 8601 time with any UTC offset ("2019-07-19T11:23:55.000+0000",
 * "...Z", "...+02:00"; none means UTC); 0 when it is not one. */
int64_t provider__iso_ms(const char *s);

/* --- building the batch -------------------------------------------------------------- */

/* Appends a zeroed event of `kind` into *out: CC_OK, CC_ERR_NOMEM, or
 * CC_ERR_INVALID when the body holds more than PROVIDER_MAX_EVENTS. The
 * pointer is valid until the next event is added. */
enum cc_status provider__event(struct provider__ctx *c, enum provider_event_kind kind,
                               struct provider_event **out);

/* Appends an IGNORED or UNSUPPORTED event with a printf note; CC_OK or an error. */
enum cc_status provider__note(struct provider__ctx *c, enum provider_event_kind kind,
                              const char *conversation, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Room for `n` attachments on `ev` (n_attachments stays 0); NULL when out of memory. */
struct provider_attachment *provider__attachments(struct provider__ctx *c,
                                                  struct provider_event *ev, size_t n);

/* Copies into the batch; NULL in gives NULL, a failure sets c->oom. */
const char *provider__dup(struct provider__ctx *c, const char *s);
const char *provider__printf(struct provider__ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Reports a missing or mistyped field: CC_ERR_INVALID with "<where>: <what>". */
enum cc_status provider__bad(struct provider__ctx *c, const char *where, const char *what);

/* --- building requests ------------------------------------------------------------------ */

/* Sets method and url = base + path; log_url hides `secret` (may be NULL). */
enum cc_status provider__url(struct provider__call *k, const char *method, const char *path,
                             const char *secret);

/* Sets method and url to an absolute http(s) URL (copied); log_url drops its query. */
enum cc_status provider__url_abs(struct provider__call *k, const char *method, const char *url);

/* Adds "name: value"; CC_ERR_INVALID for a value with control characters. */
enum cc_status provider__header(struct provider__call *k, const char *name, const char *value);

/* Renders `json` (consumed, may be NULL after a failed build) as the body and
 * adds Content-Type: application/json. */
enum cc_status provider__json_body(struct provider__call *k, cJSON *json);

/* JSON building: 0 (or NULL) when out of memory or when `o` is NULL, so a
 * builder can chain them and check once. */
int provider__put_str(cJSON *o, const char *key, const char *val);
int provider__put_num(cJSON *o, const char *key, double val);
int provider__put_bool(cJSON *o, const char *key, int val);
cJSON *provider__put_obj(cJSON *o, const char *key);

/* 1 when `s` may go into a URL path or query as is: 1..256 of [A-Za-z0-9_.:-],
 * not "." or "..". */
int provider__safe_segment(const char *s);

/* 1 when `url` is http:// or https:// with a host and no space or control character. */
int provider__http_url(const char *url);

/* "text\n\nname: url" (text, name optional) for files sent as a link; malloc'ed. */
char *provider__link_text(const char *text, const struct provider_file *file);

/* Adds Authorization: Bearer <token>; CC_ERR_INVALID when the token is missing. */
enum cc_status provider__bearer(struct provider__call *k, const char *token);

/* --- send answers -------------------------------------------------------------------------- */

/* The verdict of an HTTP status alone: 2xx OK; none, 408, 425, 429 and 5xx
 * TRANSIENT; the rest PERMANENT. */
enum provider_send_status provider__http_verdict(long http);

/* Sets out's status and copies `id` / `reason` (either may be NULL), cutting
 * the reason at a UTF-8 boundary; an id too long to keep is dropped and said so. */
void provider__result(struct provider_send_result *out, enum provider_send_status st,
                      const char *id, const char *reason);

/* Reads a Graph API error ({"error":{"message","code","is_transient",
 * "error_data":{"details"}}}) into out, keeping out's HTTP verdict unless
 * the code says the failure passes with time. Does nothing without "error". */
void provider__meta_error(const cJSON *root, struct provider_send_result *out);

#endif
