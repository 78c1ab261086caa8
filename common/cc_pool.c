/* cc_pool.c - bump allocation in 4 KiB blocks; large requests get a block of
 * their own. */
#include "cc_pool.h"

#include <stdarg.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_SIZE 4096

struct cc_pool_block {
    struct cc_pool_block *next;
    size_t used, cap;
    alignas(max_align_t) unsigned char data[];
};

void *cc_pool_alloc(struct cc_pool *p, size_t size)
{
    const size_t align = alignof(max_align_t);
    size = (size + align - 1) & ~(align - 1);
    if (size == 0)
        size = align;
    struct cc_pool_block *b = p->head;
    if (!b || b->cap - b->used < size) {
        size_t cap = size > BLOCK_SIZE ? size : BLOCK_SIZE;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->used = 0;
        b->cap = cap;
        b->next = p->head;
        p->head = b;
    }
    void *ptr = b->data + b->used;
    b->used += size;
    memset(ptr, 0, size);
    return ptr;
}

char *cc_pool_strndup(struct cc_pool *p, const char *s, size_t len)
{
    char *d = cc_pool_alloc(p, len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

char *cc_pool_strdup(struct cc_pool *p, const char *s)
{
    return s ? cc_pool_strndup(p, s, strlen(s)) : NULL;
}

char *cc_pool_printf(struct cc_pool *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *d = n >= 0 ? cc_pool_alloc(p, (size_t)n + 1) : NULL;
    if (d) {
        va_start(ap, fmt);
        vsnprintf(d, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return d;
}

void cc_pool_release(struct cc_pool *p)
{
    struct cc_pool_block *b = p->head;
    while (b) {
        struct cc_pool_block *next = b->next;
        free(b);
        b = next;
    }
    p->head = NULL;
}
