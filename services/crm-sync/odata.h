/* odata.h - the pure half of the Creatio client: OData 4 URLs and filters
 * with proper quoting, the shapes of Creatio's answers (lists, errors, the
 * login answer, OAuth tokens, $batch), cookies and Retry-After. No I/O:
 * creatio.c performs the requests; tests/unit/test_crm_odata.c tests this.
 *
 * Every answer parsed here comes from outside and is treated as hostile:
 * types are checked, sizes are capped, ids are validated before they go
 * back into a URL. */
#ifndef ODATA_H
#define ODATA_H

#include "cc_buf.h"
#include "cc_status.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define ODATA_BATCH_MAX 100 /* requests per $batch (Creatio's limit) */
#define ODATA_MAX_COOKIES 16

/* 1 when `s` is a GUID (8-4-4-4-12 hex digits), else 0. */
int odata_guid_valid(const char *s);

/* 1 when `s` may be an object or field name: 1..64 of [A-Za-z0-9_], else 0. */
int odata_name_valid(const char *s);

/* Appends `s` as an OData string literal: 'it''s'. */
enum cc_status odata_quote(struct cc_buf *b, const char *s) __attribute__((warn_unused_result));

/* Appends `s` percent-encoded for a URL's query (unreserved characters kept). */
enum cc_status odata_pct(struct cc_buf *b, const char *s) __attribute__((warn_unused_result));

/* Appends "?key=value" (or "&key=value" when b already holds a '?'), the
 * value percent-encoded. A NULL value appends nothing. */
enum cc_status odata_query(struct cc_buf *b, const char *key, const char *value)
    __attribute__((warn_unused_result));

/* Writes the last `n` digits of `phone` reversed into out (what Creatio's
 * SearchNumber starts with). Returns how many digits were written, -1 when
 * the phone has fewer than `min` digits or out is too small. */
int odata_reverse_digits(const char *phone, int n, int min, char *out, size_t cap);

/* Parses an OData list answer {"value":[{...},...], "@odata.nextLink":...}.
 * On CC_OK, *root is the parsed document (the caller deletes it), *values
 * its "value" array (each element checked to be an object) and *next the
 * nextLink string or NULL (both borrowed from root). CC_ERR_INTERNAL when
 * the answer is not that shape. */
enum cc_status odata_parse_list(const char *body, size_t len, cJSON **root, cJSON **values,
                                const char **next) __attribute__((warn_unused_result));

/* The message of an OData error answer ({"error":{"message"...}}) into out;
 * "" when the body is not one. */
void odata_error_message(const char *body, size_t len, char *out, size_t cap);

/* The string member `name` of object `o` when it is a string of at most
 * `max` bytes, else NULL. */
const char *odata_str(const cJSON *o, const char *name, size_t max);

/* A GUID member of `o` (validated), else NULL. */
const char *odata_guid(const cJSON *o, const char *name);

/* AuthService.svc/Login's answer: 1 when "Code" is 0, else 0 with the
 * CRM's Message (or what was wrong with the answer) in msg. */
int odata_login_ok(const char *body, size_t len, char *msg, size_t cap);

/* An OAuth token answer: access_token (<= cap-1 bytes) and expires_in
 * (seconds, 1..86400*30; 3600 when absent). CC_ERR_INTERNAL otherwise. */
enum cc_status odata_token_parse(const char *body, size_t len, char *token, size_t cap,
                                 int64_t *expires_s) __attribute__((warn_unused_result));

/* Every cookie the CRM set (name -> value), as a browser keeps them. */
struct odata_cookies {
    int n;
    char name[ODATA_MAX_COOKIES][64];
    char value[ODATA_MAX_COOKIES][512];
};

/* Takes one response header line; keeps it when it is a Set-Cookie (a
 * cookie set again replaces the old value; too long or too many: ignored). */
void odata_cookie_take(struct odata_cookies *j, const char *line, size_t len);

/* Value of cookie `name`, or NULL. */
const char *odata_cookie_get(const struct odata_cookies *j, const char *name);

/* Appends "Cookie: a=1; b=2" (nothing when there is none). */
enum cc_status odata_cookie_header(const struct odata_cookies *j, struct cc_buf *b)
    __attribute__((warn_unused_result));

/* A Retry-After value (delta seconds, or an HTTP date against `now_ms`) in
 * milliseconds, capped at one hour; -1 when it is neither. */
int64_t odata_retry_after_ms(const char *value, int64_t now_ms);

/* One request of a $batch. */
struct odata_op {
    const char *method; /* POST, PATCH, GET, DELETE */
    const char *url;    /* relative to the OData root: "UsrChat", "Call(<guid>)" */
    const cJSON *body;  /* may be NULL; borrowed */
};

/* The JSON $batch body for `n` (1..ODATA_BATCH_MAX) requests with ids
 * "r0".."r<n-1>", each independent (no atomicity group). Returns a malloc'ed
 * string or NULL (too many, or out of memory). */
char *odata_batch_body(const struct odata_op *ops, int n);

/* Parses a $batch answer for `n` requests: status[i] and body[i] (borrowed
 * from *root, may be NULL) of request "r<i>"; status 0 when the CRM did not
 * answer it (it stopped at a failure). The caller deletes *root.
 * CC_ERR_INTERNAL when the answer is not a batch answer. */
enum cc_status odata_batch_parse(const char *text, size_t len, int n, long *status, cJSON **body,
                                 cJSON **root) __attribute__((warn_unused_result));

#endif
