/* bench_lib.h - what every benchmark shares: latency samples with
 * percentiles, the baselines measured in the same run (a bare NATS
 * request round trip, a bare Redis EVALSHA round trip and a bare JetStream
 * publish), and set-up requests to agent-registry made as api-gateway would
 * make them. */
#ifndef BENCH_LIB_H
#define BENCH_LIB_H

#include "cc_nats.h"

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

/* 5,000 sequential JetStream publishes of 200 bytes, each with its own
 * Nats-Msg-Id and waiting for its PubAck (what chat-gateway does per event),
 * to a stream of its own (BENCH_JS, subject bench.js.in, file storage, the
 * duplicate window of CHAT_IN) after 200 of warm-up. Returns 0, or -1 when
 * NATS or JetStream failed. */
int js_baseline(const char *url, struct samples *s);

/* The same publishes from `threads` threads sharing one connection (as a
 * service's HTTP threads share its one) for `seconds`: their latencies into
 * `s` and the acknowledged publishes per second into *rate. Returns 0, or -1
 * when a publish or a thread failed. */
int js_load(const char *url, int threads, int seconds, struct samples *s, double *rate);

/* --- set-up through agent-registry (cc.registry.*), as an admin caller ------------ */

/* Creates one configuration object of `kind` ("users", "teams", "skills",
 * "queues", ...) from `obj` and copies the new object's id into `id` (`idcap`
 * bytes; "" when the reply cannot be read). Returns the request's status. */
enum cc_status bench_create(struct cc_nats *n, const char *kind, const ProtobufCMessage *obj,
                            char *id, size_t idcap);

/* Gives user `user` skill `skill` at `capacity` (1..100), active. */
enum cc_status bench_put_skill(struct cc_nats *n, const char *user, const char *skill,
                               int64_t capacity);

/* Signs `login` in (offline -> ready), as the desktop would. */
enum cc_status bench_sign_in(struct cc_nats *n, const char *login, const char *password);

/* Agent `agent` chooses `status` ("callcenter", ...) for themself. */
enum cc_status bench_set_status(struct cc_nats *n, const char *agent, const char *status);

#endif
