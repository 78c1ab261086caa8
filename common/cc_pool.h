/* cc_pool.h - a per-request memory pool: many allocations, one free at the
 * end of the request (the shape h2o uses for HTTP handlers). */
#ifndef CC_POOL_H
#define CC_POOL_H

#include <stddef.h>

struct cc_pool_block;

struct cc_pool {
    struct cc_pool_block *head; /* newest block first */
};

#define CC_POOL_INIT {NULL}

/* Returns `size` zeroed bytes aligned for any type, valid until
 * cc_pool_release; NULL when out of memory. */
void *cc_pool_alloc(struct cc_pool *p, size_t size);

/* Copies `s` (NULL gives NULL) into the pool. */
char *cc_pool_strdup(struct cc_pool *p, const char *s);

/* Copies `len` bytes of `s` and adds a NUL. */
char *cc_pool_strndup(struct cc_pool *p, const char *s, size_t len);

/* printf into the pool. */
char *cc_pool_printf(struct cc_pool *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Frees everything allocated from the pool; it can be used again. */
void cc_pool_release(struct cc_pool *p);

#endif
