/* cc_status.c - the table from project status to text, HTTP status and code. */
#include "cc_status.h"

#include <string.h>

static const struct {
    const char *str;
    int http;
    const char *code;
} table[CC_STATUS_COUNT] = {
    [CC_OK] = {"ok", 200, "ok"},
    [CC_ERR_INVALID] = {"invalid input", 400, "bad_request"},
    [CC_ERR_UNAUTHORIZED] = {"unauthorized", 401, "unauthorized"},
    [CC_ERR_FORBIDDEN] = {"forbidden", 403, "forbidden"},
    [CC_ERR_NOT_FOUND] = {"not found", 404, "not_found"},
    [CC_ERR_METHOD] = {"method not allowed", 405, "method_not_allowed"},
    [CC_ERR_CONFLICT] = {"conflict", 409, "conflict"},
    [CC_ERR_TOO_LARGE] = {"too large", 413, "too_large"},
    [CC_ERR_RATE_LIMITED] = {"rate limited", 429, "rate_limited"},
    [CC_ERR_NOMEM] = {"out of memory", 500, "internal"},
    [CC_ERR_INTERNAL] = {"internal error", 500, "internal"},
    [CC_ERR_IO] = {"i/o error", 503, "unavailable"},
    [CC_ERR_UNAVAILABLE] = {"unavailable", 503, "unavailable"},
    [CC_ERR_TIMEOUT] = {"timeout", 503, "unavailable"},
};

static int valid(enum cc_status st)
{
    return (unsigned)st < CC_STATUS_COUNT;
}

const char *cc_status_str(enum cc_status st)
{
    return valid(st) ? table[st].str : "unknown status";
}

int cc_status_http(enum cc_status st)
{
    return valid(st) ? table[st].http : 500;
}

const char *cc_status_code(enum cc_status st)
{
    return valid(st) ? table[st].code : "internal";
}

enum cc_status cc_status_from_code(const char *code)
{
    for (int i = 0; code && i < CC_STATUS_COUNT; i++)
        if (strcmp(table[i].code, code) == 0)
            return (enum cc_status)i;
    return CC_ERR_INTERNAL;
}
