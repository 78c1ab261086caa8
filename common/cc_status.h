/* cc_status.h - the one status enum of the project.
 *
 * Every function that can fail returns an enum cc_status; CC_OK is 0. Each
 * status maps to exactly one HTTP status and one API error code, in one table
 * (cc_status.c), so a failure that reaches a user always reads the same. */
#ifndef CC_STATUS_H
#define CC_STATUS_H

enum cc_status {
    CC_OK = 0,
    CC_ERR_INVALID,      /* bad input: 400 bad_request */
    CC_ERR_UNAUTHORIZED, /* no or bad credentials: 401 */
    CC_ERR_FORBIDDEN,    /* not allowed for this caller: 403 */
    CC_ERR_NOT_FOUND,    /* no such object: 404 */
    CC_ERR_METHOD,       /* route exists, method does not: 405 */
    CC_ERR_CONFLICT,     /* duplicate, impossible transition, referenced: 409 */
    CC_ERR_TOO_LARGE,    /* body over its cap: 413 */
    CC_ERR_RATE_LIMITED, /* too many tries: 429 */
    CC_ERR_NOMEM,        /* allocation failed: 500 */
    CC_ERR_INTERNAL,     /* a bug or an unexpected answer: 500 */
    CC_ERR_IO,           /* a socket or file failed: 503 */
    CC_ERR_UNAVAILABLE,  /* a dependency (NATS, Redis, a service) is down: 503 */
    CC_ERR_TIMEOUT,      /* a dependency did not answer in time: 503 */
    CC_STATUS_COUNT
};

/* Short English name of the status ("not found"). Never NULL. */
const char *cc_status_str(enum cc_status st);

/* HTTP status code for the status (CC_OK is 200). */
int cc_status_http(enum cc_status st);

/* API error code for the status ("not_found"); "ok" for CC_OK. Never NULL. */
const char *cc_status_code(enum cc_status st);

/* The status whose API error code is `code`, CC_ERR_INTERNAL when unknown. */
enum cc_status cc_status_from_code(const char *code);

#endif
