/* workload.c - random streams and the customers of a run (see workload.h). */
#include "workload.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void rng_init(struct rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ splitmix64(&stream);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static uint64_t next(struct rng *r)
{
    uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0], s[3] ^= s[1], s[1] ^= s[2], s[0] ^= s[3];
    s[2] ^= t, s[3] = rotl(s[3], 45);
    return out;
}

double rng_uniform(struct rng *r)
{
    return (double)(next(r) >> 11) * 0x1.0p-53;
}

double rng_exp(struct rng *r, double mean)
{
    return -mean * log1p(-rng_uniform(r)); /* 1 - u is in (0, 1]: never log(0) */
}

/* FNV-1a of the queue's name: the stream does not depend on queue order. */
static uint64_t name_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

/* Expected customers plus a wide margin, to refuse absurd scenarios early. */
static double expected(const struct scenario *sc)
{
    double n = 0;
    for (size_t q = 0; q < sc->n_queues; q++)
        n += sc->queues[q].arrivals_per_hour / 3600.0 * sc->duration_s;
    return n + 10 * sqrt(n) + 16;
}

static enum cc_status draw_queue(const struct scenario *sc, uint32_t qi, struct sim_customer **all,
                                 size_t *n, size_t *cap)
{
    const struct sim_queue_cfg *q = &sc->queues[qi];
    struct rng arr, hold, pat;
    uint64_t base = name_hash(q->name);
    rng_init(&arr, sc->seed, base * 3);
    rng_init(&hold, sc->seed, base * 3 + 1);
    rng_init(&pat, sc->seed, base * 3 + 2);
    for (double t = rng_exp(&arr, 3600.0 / q->arrivals_per_hour); t < sc->duration_s;
         t += rng_exp(&arr, 3600.0 / q->arrivals_per_hour)) {
        if (*n == *cap) {
            size_t ncap = *cap ? *cap * 2 : 1024;
            struct sim_customer *grown =
                ncap <= WORKLOAD_MAX_CUSTOMERS * 2 ? realloc(*all, ncap * sizeof **all) : NULL;
            if (!grown)
                return CC_ERR_NOMEM;
            *all = grown, *cap = ncap;
        }
        struct sim_customer *c = &(*all)[(*n)++];
        memset(c, 0, sizeof *c);
        c->queue = qi, c->arrive_s = t, c->agent = -1, c->state = SIM_PENDING;
        c->handle_s = rng_exp(&hold, q->handling_s);
        c->patience_s = q->patience_s > 0 ? rng_exp(&pat, q->patience_s) : 0;
        c->measured = t >= sc->warmup_s;
    }
    return *n > WORKLOAD_MAX_CUSTOMERS ? CC_ERR_INVALID : CC_OK;
}

static int by_arrival(const void *x, const void *y)
{
    const struct sim_customer *a = x, *b = y;
    if (a->arrive_s != b->arrive_s)
        return a->arrive_s < b->arrive_s ? -1 : 1;
    return (a->queue > b->queue) - (a->queue < b->queue);
}

enum cc_status workload_draw(const struct scenario *sc, struct sim_customer **out, size_t *n)
{
    struct sim_customer *all = NULL;
    size_t cap = 0;
    enum cc_status st = expected(sc) > WORKLOAD_MAX_CUSTOMERS ? CC_ERR_INVALID : CC_OK;
    *out = NULL, *n = 0;
    for (uint32_t q = 0; q < sc->n_queues && st == CC_OK; q++)
        st = draw_queue(sc, q, &all, n, &cap);
    if (st != CC_OK) {
        free(all);
        *n = 0;
        return st;
    }
    qsort(all, *n, sizeof *all, by_arrival);
    *out = all;
    return CC_OK;
}
