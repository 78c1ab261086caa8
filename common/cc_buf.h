/* cc_buf.h - a growable byte buffer, always NUL-terminated (like git's strbuf). */
#ifndef CC_BUF_H
#define CC_BUF_H

#include "cc_status.h"

#include <stdarg.h>
#include <stddef.h>

struct cc_buf {
    char *data; /* NUL-terminated; NULL until the first append */
    size_t len; /* bytes used, without the NUL */
    size_t cap; /* bytes allocated */
    int oom;    /* set once an allocation failed; later appends do nothing */
};

#define CC_BUF_INIT {NULL, 0, 0, 0}

/* Appends `len` bytes. Returns CC_OK or CC_ERR_NOMEM (and sets b->oom). */
enum cc_status cc_buf_add(struct cc_buf *b, const void *data, size_t len);

/* Appends a NUL-terminated string. */
enum cc_status cc_buf_adds(struct cc_buf *b, const char *s);

/* Appends printf-formatted text. */
enum cc_status cc_buf_addf(struct cc_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Takes the bytes out: the caller now owns and frees the returned string
 * (never NULL unless out of memory); the buffer is empty again. */
char *cc_buf_detach(struct cc_buf *b, size_t *len);

/* Frees the storage and empties the buffer. */
void cc_buf_release(struct cc_buf *b);

#endif
