/* creatio.h - a client of one Creatio site over OData 4, with libcurl.
 *
 * Authentication is kept inside: forms login (every cookie kept, BPMCSRF
 * sent back as a header, ForceUseSession) or OAuth 2.0 client credentials
 * against a separate Identity Service (the token cached until shortly
 * before it expires). A 401 logs in again once; a 429 or 503 whose
 * Retry-After is short is waited once in place, a longer one is handed back
 * so the caller can retry later. TLS is verified (a CA file may be given).
 * Only public addresses are connected to unless allow_private is set, and
 * redirects are not followed (cc_netguard.h).
 * Thread-safe: requests run in parallel, logins one at a time. */
#ifndef CREATIO_H
#define CREATIO_H

#include "cc_status.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

struct creatio_config {
    const char *url;          /* the site root, e.g. https://x.creatio.com */
    const char *odata_prefix; /* "/0/odata" or "/odata" */
    int oauth;                /* 1: client credentials; 0: forms login */
    const char *user, *password;
    const char *identity_url; /* OAuth: the Identity Service root */
    const char *client_id, *client_secret;
    const char *ca_file; /* NULL or "": the system's CAs */
    long timeout_ms;     /* one HTTP exchange */
    long max_wait_ms;    /* longest Retry-After waited in place */
    int allow_private;   /* 1: internal addresses allowed (tests; cc_netguard.h) */
};

struct creatio;

/* One answer of the CRM. */
struct creatio_answer {
    long status; /* HTTP status; 0 when nothing answered */
    char *body;  /* malloc'ed, NUL-terminated, or NULL */
    size_t len;
    int64_t retry_after_ms; /* 429/503: what the CRM asked for; else 0 */
    char error[256];        /* the CRM's error message or why nothing answered */
};

/* Makes a client (strings copied). CC_ERR_INVALID when url or the
 * credentials of the chosen method are missing. */
enum cc_status creatio_new(struct creatio **out, const struct creatio_config *cfg)
    __attribute__((warn_unused_result));
void creatio_free(struct creatio *c);

/* Frees the answer's body and clears it. */
void creatio_answer_release(struct creatio_answer *a);

/* Sends `method` to `path` under the OData root ("Contact?$filter=...",
 * "UsrChat(<guid>)", "$batch") with JSON `body` (may be NULL) and an extra
 * header line (may be NULL), logged in. Returns CC_OK when the CRM answered
 * (whatever the status: see a->status), CC_ERR_UNAUTHORIZED when it refused
 * the credentials, CC_ERR_UNAVAILABLE or CC_ERR_TIMEOUT when nothing
 * answered; a->error says why. Release `a` in every case. */
enum cc_status creatio_request(struct creatio *c, const char *method, const char *path,
                               const char *body, const char *header, struct creatio_answer *a)
    __attribute__((warn_unused_result));

/* The project status of an answer: 2xx CC_OK, 401 CC_ERR_UNAUTHORIZED, 404
 * CC_ERR_NOT_FOUND, 429 CC_ERR_RATE_LIMITED, other 4xx CC_ERR_INVALID, 5xx
 * and no answer CC_ERR_UNAVAILABLE. */
enum cc_status creatio_status(const struct creatio_answer *a);

/* GETs `path` and every further page (@odata.nextLink on the same site, or
 * $top/$skip by `page` when the CRM gives no link; page 0: one request),
 * up to `max_items` rows, into *items (a new array; the caller deletes it).
 * On failure a->error says why and *items is NULL. */
enum cc_status creatio_list(struct creatio *c, const char *path, int page, size_t max_items,
                            cJSON **items, struct creatio_answer *a)
    __attribute__((warn_unused_result));

/* GETs one entity: *obj is the parsed answer (caller deletes). */
enum cc_status creatio_get(struct creatio *c, const char *path, cJSON **obj,
                           struct creatio_answer *a) __attribute__((warn_unused_result));

/* Sends `body` (may be NULL) as JSON and answers the parsed entity in *obj
 * (NULL when the answer has none, e.g. 204). */
enum cc_status creatio_send(struct creatio *c, const char *method, const char *path,
                            const cJSON *body, cJSON **obj, struct creatio_answer *a)
    __attribute__((warn_unused_result));

#endif
