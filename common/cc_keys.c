/* cc_keys.c - the routing domain's hash tag of every Redis key (cc_keys.h). */
#include "cc_keys.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIXED_MAX 64 /* keys without ids: cc_keys.h has fewer */

static char tag[CC_TAG_MAX + 1] = "{cc:" CC_DOMAIN_DEFAULT "}";
static char domain[CC_DOMAIN_MAX + 1] = CC_DOMAIN_DEFAULT;

/* The keys cc_key_fixed made so far: read without a lock (an entry is
 * complete before `nfixed` counts it), added under `fixed_lock`. */
static struct {
    const char *fmt;
    char key[CC_TAG_MAX + 40];
} fixed[FIXED_MAX];
static atomic_int nfixed;
static pthread_mutex_t fixed_lock = PTHREAD_MUTEX_INITIALIZER;

int cc_domain_valid(const char *d)
{
    size_t n = d ? strlen(d) : 0;
    if (n < 1 || n > CC_DOMAIN_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((d[i] >= 'a' && d[i] <= 'z') || (d[i] >= '0' && d[i] <= '9') || d[i] == '-'))
            return 0;
    return 1;
}

enum cc_status cc_keys_init(const char *d)
{
    if (!cc_domain_valid(d))
        return CC_ERR_INVALID;
    if (atomic_load(&nfixed)) /* keys were made with the old tag */
        return CC_ERR_INVALID;
    snprintf(domain, sizeof domain, "%s", d);
    snprintf(tag, sizeof tag, "{cc:%s}", d);
    return CC_OK;
}

const char *cc_key_fixed(const char *fmt)
{
    int n = atomic_load_explicit(&nfixed, memory_order_acquire);
    for (int i = 0; i < n; i++)
        if (!strcmp(fixed[i].fmt, fmt))
            return fixed[i].key;
    pthread_mutex_lock(&fixed_lock);
    n = atomic_load_explicit(&nfixed, memory_order_relaxed);
    for (int i = 0; i < n; i++)
        if (!strcmp(fixed[i].fmt, fmt)) {
            pthread_mutex_unlock(&fixed_lock);
            return fixed[i].key;
        }
    if (n == FIXED_MAX) { /* a programming error: cc_keys.h grew past FIXED_MAX */
        fprintf(stderr, "cc_key_fixed: more than %d keys without ids\n", FIXED_MAX);
        abort();
    }
    fixed[n].fmt = fmt;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(fixed[n].key, sizeof fixed[n].key, fmt, tag);
#pragma GCC diagnostic pop
    atomic_store_explicit(&nfixed, n + 1, memory_order_release);
    pthread_mutex_unlock(&fixed_lock);
    return fixed[n].key;
}

const char *cc_tag(void)
{
    return tag;
}

const char *cc_domain(void)
{
    return domain;
}

void cc_key_prefix(char *buf, size_t cap, const char *fmt)
{
    const char *rest = fmt + strlen(CC_TAG); /* every format starts with the tag */
    size_t n = strcspn(rest, "%");
    snprintf(buf, cap, "%s%.*s", tag, (int)n, rest);
}
