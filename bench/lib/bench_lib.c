/* bench_lib.c - samples and baselines shared by the benchmarks. */
#include "bench_lib.h"
#include "cc_nats.h"
#include "cc_redis.h"
#include "cc_time.h"

#include <stdlib.h>
#include <unistd.h>

struct samples samples_new(void)
{
    struct samples s = {malloc(sizeof(double) * MAX_SAMPLES), 0};
    return s;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double pct(struct samples *s, double p)
{
    if (!s->n)
        return 0;
    qsort(s->us, s->n, sizeof *s->us, cmp_double);
    size_t i = (size_t)(p * (double)(s->n - 1));
    return s->us[i] / 1000.0;
}

void add(struct samples *s, double us)
{
    if (s->n < MAX_SAMPLES)
        s->us[s->n++] = us;
}

/* --- baselines ------------------------------------------------------------------ */

static void echo(void *arg, const struct cc_nats_msg *m)
{
    cc_nats_respond(arg, m, NULL);
}

int nats_baseline(const char *url, struct samples *s)
{
    struct cc_nats *n;
    if (cc_nats_connect(&n, url, "bench") != CC_OK)
        return -1;
    for (int i = 0; i < 200 && !cc_nats_connected(n); i++)
        usleep(10000);
    if (cc_nats_subscribe(n, "bench.echo", NULL, echo, n) != CC_OK)
        return -1;
    for (int i = 0; i < 5200; i++) {
        ProtobufCMessage *rep;
        int64_t t0 = cc_time_mono_us();
        if (cc_nats_request(n, "bench.echo", NULL, NULL, 1000, &rep, NULL, 0) != CC_OK)
            return -1;
        if (i >= 200) /* warm-up */
            add(s, (double)(cc_time_mono_us() - t0));
    }
    cc_nats_drain(n, 1000);
    cc_nats_free(n);
    return 0;
}

int redis_baseline(const char *url, struct samples *s)
{
    static struct cc_redis_script one = CC_REDIS_SCRIPT("one", "return 1");
    struct cc_redis *r;
    struct cc_redis_conn *c;
    redisReply *rep;
    if (cc_redis_new(&r, url, 1) != CC_OK || cc_redis_acquire(r, &c) != CC_OK)
        return -1;
    for (int i = 0; i < 5200; i++) {
        int64_t t0 = cc_time_mono_us();
        if (cc_redis_eval(c, &one, &rep, 0, 0, NULL, NULL) != CC_OK)
            return -1;
        freeReplyObject(rep);
        if (i >= 200)
            add(s, (double)(cc_time_mono_us() - t0));
    }
    cc_redis_release(r, c);
    cc_redis_free(r);
    return 0;
}

