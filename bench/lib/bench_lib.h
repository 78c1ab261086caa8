/* bench_lib.h - what every benchmark shares: latency samples with
 * percentiles, and the baselines measured in the same run (a bare NATS
 * request round trip and a bare Redis EVALSHA round trip). */
#ifndef BENCH_LIB_H
#define BENCH_LIB_H

#include <stddef.h>

#define MAX_SAMPLES 2000000

struct samples {
    double *us; /* MAX_SAMPLES microsecond values */
    size_t n;
};

/* Allocates room for MAX_SAMPLES; NULL us when out of memory. */
struct samples samples_new(void);

/* Adds one value (dropped beyond MAX_SAMPLES). */
void add(struct samples *s, double us);

/* Percentile `p` (0..1) in milliseconds; sorts the samples. */
double pct(struct samples *s, double p);

/* 5,000 sequential request/reply round trips to an in-process echo responder. */
int nats_baseline(const char *url, struct samples *s);

/* 5,000 sequential EVALSHA calls of a script returning 1. */
int redis_baseline(const char *url, struct samples *s);

#endif
