/* cc_buf.c - growable buffer. */
#include "cc_buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum cc_status grow(struct cc_buf *b, size_t extra)
{
    if (b->oom)
        return CC_ERR_NOMEM;
    if (b->len + extra + 1 <= b->cap)
        return CC_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->oom = 1;
        return CC_ERR_NOMEM;
    }
    b->data = p;
    b->cap = cap;
    return CC_OK;
}

enum cc_status cc_buf_add(struct cc_buf *b, const void *data, size_t len)
{
    if (grow(b, len) != CC_OK)
        return CC_ERR_NOMEM;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return CC_OK;
}

enum cc_status cc_buf_adds(struct cc_buf *b, const char *s)
{
    return cc_buf_add(b, s, strlen(s));
}

enum cc_status cc_buf_addf(struct cc_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || grow(b, (size_t)n) != CC_OK)
        return CC_ERR_NOMEM;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return CC_OK;
}

char *cc_buf_detach(struct cc_buf *b, size_t *len)
{
    if (!b->data && grow(b, 0) == CC_OK)
        b->data[0] = '\0';
    char *p = b->oom ? NULL : b->data;
    if (len)
        *len = b->len;
    if (b->oom)
        free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
    return p;
}

void cc_buf_release(struct cc_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}
