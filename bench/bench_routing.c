/* bench_routing.c - how fast skill-router offers an interaction to an agent
 * with 10,000 agents online, 50 queues and 1,000 interactions waiting, two
 * replicas sharing the work, beside a bare NATS request and a bare Redis
 * EVALSHA measured in the same run (the goals: p50 <= 1 ms, p99 <= 5 ms,
 * >= 5,000 decisions per second, p50 at most 3 times the two baselines).
 *
 * Set-up over NATS as api-gateway would make it: a team whose chat invitations
 * ring for an hour (no offer times out during the run), 50 skills, 50 chat
 * queues (mostly longest_idle, one in nine each of most_skilled, round_robin,
 * fewest_interactions and random), 10,000 agents holding two or three of the
 * first 45 skills, signed in and in callcenter; then 1,000 chats in the last
 * five queues, whose skills nobody holds, so they wait. Measured:
 *  (a) enqueue-to-offer latency: one enqueue at a time (cc.router.enqueue),
 *      from sending it to the Offer on cc.router.offer.<agent>;
 *  (b) decisions per second: a burst of enqueues from several threads, offers
 *      counted as they arrive.
 * Each offer leaves its agent offering, so every decision takes a fresh agent.
 * To show what limits the figures it also prints, per decision, the Redis
 * commands run and the CPU each process spent (CC_BENCH_PIDS), and replays
 * the router's candidate read for one skill.
 * NATS messages per decision come from the server's own counters (/varz
 * in_msgs and out_msgs of CC_BENCH_NATS_MONITOR), Redis commands from INFO
 * commandstats (commands run inside scripts are counted there too, so both
 * the script calls and everything they ran are printed).
 * Environment: CC_BENCH_NATS, CC_BENCH_REDIS, CC_BENCH_NATS_MONITOR, CC_BENCH_PIDS (name:pid,...),
 * CC_BENCH_AGENTS (10000), CC_BENCH_WAITING (1000), CC_BENCH_SEQ (2000),
 * CC_BENCH_BURST (3000), CC_BENCH_THREADS (16). */
#include "bench_http.h"
#include "bench_lib.h"
#include "cc/v1/registry.pb-c.h"
#include "cc/v1/routing.pb-c.h"
#include "cc_config.h"
#include "cc_nats.h"
#include "cc_redis.h"
#include "cc_time.h"
#include "cc_keys.h"
#include "cc_subjects.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ID_LEN 40
#define QUEUES 50
#define SERVED 45          /* queues 0..44 have agents; 45..49 hold the waiting chats */
#define OFFER_WAIT_MS 2000 /* an offer later than this counts as missing */
#define MAX_PROCS 12
#define MAX_THREADS 64
#define REPLAYS 200
#define BASELINE_CALLS 5200 /* what bench_lib's baselines send: 200 warm-up + 5,000 */

/* The strategy of served queue q is mix[q % 9]: mostly longest_idle. */
static const char *const mix[] = {"longest_idle", "longest_idle",        "longest_idle",
                                  "longest_idle", "longest_idle",        "most_skilled",
                                  "round_robin",  "fewest_interactions", "random"};
static const char *const strategies[] = {"longest_idle", "most_skilled", "round_robin",
                                         "fewest_interactions", "random"};

struct proc {
    char name[32];
    int pid;
    int64_t cpu_ms; /* user + system at the last snapshot */
};

struct bench {
    struct cc_nats *nats;
    struct cc_redis *redis;
    int agents, waiting, seq, burst, threads;
    char (*agent_ids)[ID_LEN];
    char team[ID_LEN], skills[QUEUES][ID_LEN], queues[QUEUES][ID_LEN];
    int64_t *sent_us;  /* per measured interaction (sequential, then burst): mono µs */
    int64_t *offer_us; /* when its offer arrived; 0 until then */
    int *queue_of;     /* its queue */
    atomic_int next, failures, offers, unexpected, duplicates, mon_offers;
    pthread_mutex_t lock; /* guards offer_us with the condition */
    pthread_cond_t offered;
    struct proc procs[MAX_PROCS];
    int nprocs;
};

static const char *strategy_of(int q)
{
    return q < SERVED ? mix[q % 9] : "longest_idle";
}

/* --- set-up -------------------------------------------------------------------------------- */

static enum cc_status make_config(struct bench *b)
{
    Cc__V1__Team team = CC__V1__TEAM__INIT;
    team.name = CC_PB_STR("routing-bench");
    team.has_chat_invite_timeout_s = 1, team.chat_invite_timeout_s = 3600;
    enum cc_status st = bench_create(b->nats, "teams", &team.base, b->team, ID_LEN);
    for (int i = 0; i < QUEUES && st == CC_OK; i++) {
        Cc__V1__Skill s = CC__V1__SKILL__INIT;
        Cc__V1__Queue q = CC__V1__QUEUE__INIT;
        char name[32];
        snprintf(name, sizeof name, "bench-%02d", i);
        s.name = name;
        if ((st = bench_create(b->nats, "skills", &s.base, b->skills[i], ID_LEN)) != CC_OK)
            break;
        q.name = name, q.channel = CC_PB_STR("chat"), q.skill_id = b->skills[i];
        q.strategy = CC_PB_STR(strategy_of(i));
        st = bench_create(b->nats, "queues", &q.base, b->queues[i], ID_LEN);
    }
    return st;
}

/* Agent i: created in the team, two or three served skills, signed in, callcenter. */
static enum cc_status make_agent(struct bench *b, int i)
{
    Cc__V1__User u = CC__V1__USER__INIT;
    Cc__V1__AgentSettings ag = CC__V1__AGENT_SETTINGS__INIT;
    char login[32];
    snprintf(login, sizeof login, "rbench%05d", i);
    u.login = login, u.password = CC_PB_STR("bench-password"), u.role = CC_PB_STR("agent");
    ag.has_enabled = ag.enabled = 1, ag.team_id = b->team;
    u.agent = &ag;
    enum cc_status st = bench_create(b->nats, "users", &u.base, b->agent_ids[i], ID_LEN);
    for (int k = 0; k < 2 + (i & 1) && st == CC_OK; k++) /* 15 apart: always distinct */
        st = bench_put_skill(b->nats, b->agent_ids[i], b->skills[(i + 15 * k) % SERVED],
                             1 + (i * 31 + k * 17) % 100);
    if (st == CC_OK)
        st = bench_sign_in(b->nats, login, "bench-password");
    if (st == CC_OK)
        st = bench_set_status(b->nats, b->agent_ids[i], "callcenter");
    return st;
}

static void *agent_worker(void *arg)
{
    struct bench *b = arg;
    for (int i; (i = atomic_fetch_add(&b->next, 1)) < b->agents;)
        if (make_agent(b, i) != CC_OK)
            atomic_fetch_add(&b->failures, 1);
    return NULL;
}

static enum cc_status enqueue(struct bench *b, const char *id, int queue)
{
    Cc__V1__Interaction ix = CC__V1__INTERACTION__INIT;
    Cc__V1__Customer c = CC__V1__CUSTOMER__INIT;
    ProtobufCMessage *rep = NULL;
    c.id = CC_PB_STR(id), c.name = CC_PB_STR("Bench Customer");
    ix.id = CC_PB_STR(id), ix.kind = CC_PB_STR("chat"), ix.queue_id = b->queues[queue];
    ix.customer = &c, ix.preview = CC_PB_STR("Hello, where is my order?");
    enum cc_status st = cc_nats_request(b->nats, SUBJ_ROUTER_ENQUEUE, &ix.base,
                                        &cc__v1__interaction__descriptor, 10000, &rep, NULL, 0);
    if (rep)
        protobuf_c_message_free_unpacked(rep, NULL);
    return st;
}

static void *waiting_worker(void *arg)
{
    struct bench *b = arg;
    char id[ID_LEN];
    for (int i; (i = atomic_fetch_add(&b->next, 1)) < b->waiting;) {
        snprintf(id, sizeof id, "wait-%d", i);
        if (enqueue(b, id, SERVED + i % (QUEUES - SERVED)) != CC_OK)
            atomic_fetch_add(&b->failures, 1);
    }
    return NULL;
}

static void run_threads(struct bench *b, void *(*fn)(void *))
{
    pthread_t t[MAX_THREADS];
    int started = 0;
    atomic_store(&b->next, 0);
    while (started < b->threads && pthread_create(&t[started], NULL, fn, b) == 0)
        started++;
    if (started == 0)
        atomic_fetch_add(&b->failures, 1);
    for (int i = 0; i < started; i++)
        pthread_join(t[i], NULL);
}

/* Interactions now waiting in the last five queues ({cc}:wait:<queue>). */
static long long count_waiting(struct bench *b)
{
    long long n = 0;
    for (int q = SERVED; q < QUEUES; q++) {
        struct cc_redis_conn *c;
        redisReply *rep = NULL;
        if (cc_redis_acquire(b->redis, &c) != CC_OK)
            return -1;
        if (cc_redis_cmd(c, &rep, "ZCARD " KEY_WAIT, cc_tag(), b->queues[q]) == CC_OK)
            n += rep->integer;
        if (rep)
            freeReplyObject(rep);
        cc_redis_release(b->redis, c);
    }
    return n;
}

/* --- offers -------------------------------------------------------------------------------- */

/* The measured interaction an id names ("seq-<i>", "burst-<i>"), or -1. */
static int measured_index(const struct bench *b, const char *id)
{
    int64_t i;
    if (id && !strncmp(id, "seq-", 4) && cc_parse_int(id + 4, 0, b->seq - 1, &i) == 0)
        return (int)i;
    if (id && !strncmp(id, "burst-", 6) && cc_parse_int(id + 6, 0, b->burst - 1, &i) == 0)
        return b->seq + (int)i;
    return -1;
}

static void on_offer(void *arg, const struct cc_nats_msg *m)
{
    struct bench *b = arg;
    int64_t now = cc_time_mono_us();
    Cc__V1__Offer *o = cc__v1__offer__unpack(NULL, m->len, m->data);
    int i = o ? measured_index(b, o->interaction_id) : -1;
    if (o && o->interaction_id && !strncmp(o->interaction_id, "mon-", 4)) {
        pthread_mutex_lock(&b->lock); /* the monitored phase counts commands, not time */
        atomic_fetch_add(&b->mon_offers, 1);
        pthread_cond_broadcast(&b->offered);
        pthread_mutex_unlock(&b->lock);
    } else if (i < 0) {
        atomic_fetch_add(&b->unexpected, 1); /* a waiting chat offered: the set-up is wrong */
    } else {
        pthread_mutex_lock(&b->lock);
        if (b->offer_us[i])
            atomic_fetch_add(&b->duplicates, 1);
        else
            b->offer_us[i] = now, atomic_fetch_add(&b->offers, 1);
        pthread_cond_broadcast(&b->offered);
        pthread_mutex_unlock(&b->lock);
    }
    if (o)
        cc__v1__offer__free_unpacked(o, NULL);
}

/* Waits until measured interaction i has its offer; 0 when it came, -1 after OFFER_WAIT_MS. */
static int wait_offer(struct bench *b, int i)
{
    struct timespec until;
    int rc = 0;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += OFFER_WAIT_MS / 1000;
    pthread_mutex_lock(&b->lock);
    while (!b->offer_us[i] && rc == 0)
        rc = pthread_cond_timedwait(&b->offered, &b->lock, &until);
    int got = b->offer_us[i] != 0;
    pthread_mutex_unlock(&b->lock);
    return got ? 0 : -1;
}

/* --- the measured phases ------------------------------------------------------------------- */

/* (a) one enqueue at a time, each waiting for its offer; round robin over the served queues. */
static void measure_sequential(struct bench *b)
{
    char id[ID_LEN];
    for (int i = 0; i < b->seq; i++) {
        snprintf(id, sizeof id, "seq-%d", i);
        b->queue_of[i] = i % SERVED;
        b->sent_us[i] = cc_time_mono_us();
        if (enqueue(b, id, b->queue_of[i]) != CC_OK || wait_offer(b, i) != 0)
            atomic_fetch_add(&b->failures, 1);
    }
}

static void *burst_worker(void *arg)
{
    struct bench *b = arg;
    char id[ID_LEN];
    for (int i; (i = atomic_fetch_add(&b->next, 1)) < b->burst;) {
        int k = b->seq + i;
        snprintf(id, sizeof id, "burst-%d", i);
        b->queue_of[k] = i % SERVED;
        b->sent_us[k] = cc_time_mono_us();
        if (enqueue(b, id, b->queue_of[k]) != CC_OK)
            atomic_fetch_add(&b->failures, 1);
    }
    return NULL;
}

/* (b) every burst enqueue sent from b->threads threads; returns the seconds from the
 * first send to the last offer, having waited for the stragglers. */
static double measure_burst(struct bench *b)
{
    int64_t t0 = cc_time_mono_us(), last = t0;
    run_threads(b, burst_worker);
    for (int idle = 0, seen = -1; atomic_load(&b->offers) < b->seq + b->burst && idle < 20;) {
        int now = atomic_load(&b->offers);
        idle = now == seen ? idle + 1 : 0, seen = now;
        usleep(100000);
    }
    pthread_mutex_lock(&b->lock);
    for (int i = b->seq; i < b->seq + b->burst; i++)
        last = b->offer_us[i] > last ? b->offer_us[i] : last;
    pthread_mutex_unlock(&b->lock);
    return (double)(last - t0) / 1e6;
}

/* --- what limits it ---------------------------------------------------------------------- */

/* Parses CC_BENCH_PIDS ("name:pid,...") and adds this process as "bench". */
static void procs_parse(struct bench *b, const char *spec)
{
    char buf[512], *save = NULL;
    snprintf(buf, sizeof buf, "%s", spec ? spec : "");
    for (char *t = strtok_r(buf, ",", &save); t && b->nprocs < MAX_PROCS - 1;
         t = strtok_r(NULL, ",", &save)) {
        char *colon = strrchr(t, ':');
        int64_t pid;
        if (!colon || cc_parse_int(colon + 1, 1, 1 << 30, &pid) != 0)
            continue;
        *colon = '\0';
        snprintf(b->procs[b->nprocs].name, sizeof b->procs[0].name, "%s", t);
        b->procs[b->nprocs++].pid = (int)pid;
    }
    snprintf(b->procs[b->nprocs].name, sizeof b->procs[0].name, "bench");
    b->procs[b->nprocs++].pid = (int)getpid();
}

/* User + system CPU of `pid` in milliseconds (/proc/<pid>/stat), or -1. */
static int64_t cpu_ms(int pid)
{
    char path[64], buf[1024];
    unsigned long long ut = 0, st = 0;
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (int64_t)((ut + st) * 1000 / (unsigned long long)sysconf(_SC_CLK_TCK));
}

static void procs_snapshot(struct bench *b)
{
    for (int i = 0; i < b->nprocs; i++)
        b->procs[i].cpu_ms = cpu_ms(b->procs[i].pid);
}

/* CPU each process spent since the last snapshot, per unit of work (`what`). */
static void procs_print(struct bench *b, const char *what, int units, double secs)
{
    int64_t total = 0;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    cores = cores > 0 ? cores : 1;
    printf("  CPU per %s (us):", what);
    for (int i = 0; i < b->nprocs; i++) {
        int64_t now = cpu_ms(b->procs[i].pid), used = now - b->procs[i].cpu_ms;
        if (now < 0 || b->procs[i].cpu_ms < 0)
            continue;
        total += used;
        printf(" %s %.0f", b->procs[i].name, units ? used * 1000.0 / units : 0);
    }
    printf("; all %.0f (%.0f %% of %ld cores over %.1f s)\n", units ? total * 1000.0 / units : 0,
           secs > 0 ? total / (secs * 10.0 * (double)cores) : 0, cores, secs);
}

/* Runs one command of two words (a command and its argument). */
static enum cc_status redis_command(struct bench *b, redisReply **rep, const char *cmd,
                                    const char *arg)
{
    struct cc_redis_conn *c;
    const char *argv[] = {cmd, arg};
    enum cc_status st = cc_redis_acquire(b->redis, &c);
    *rep = NULL;
    if (st == CC_OK) {
        st = cc_redis_cmdv(c, rep, 2, argv, NULL);
        cc_redis_release(b->redis, c);
    }
    return st;
}

static void redis_reset_stats(struct bench *b)
{
    redisReply *rep;
    if (redis_command(b, &rep, "CONFIG", "RESETSTAT") != CC_OK)
        atomic_fetch_add(&b->failures, 1);
    if (rep)
        freeReplyObject(rep);
}

struct cmdstat {
    char name[32];
    long long calls, usec;
};

static int by_usec(const void *x, const void *y)
{
    const struct cmdstat *a = x, *b = y;
    return (a->usec < b->usec) - (a->usec > b->usec);
}

/* Redis commands per decision since the last reset (INFO commandstats): how many, and
 * the four that took the most time inside Redis. Commands run by scripts count both
 * under their own name and inside evalsha's time. */
static void redis_print_stats(struct bench *b, int decisions)
{
    struct cmdstat s[64];
    int n = 0;
    long long calls = 0;
    redisReply *rep;
    if (redis_command(b, &rep, "INFO", "commandstats") == CC_OK &&
        rep->type == REDIS_REPLY_STRING) {
        char *save = NULL;
        for (char *l = strtok_r(rep->str, "\r\n", &save); l && n < 64;
             l = strtok_r(NULL, "\r\n", &save))
            if (sscanf(l, "cmdstat_%31[^:]:calls=%lld,usec=%lld", s[n].name, &s[n].calls,
                       &s[n].usec) == 3 &&
                strncmp(s[n].name, "config", 6) != 0) /* our own RESETSTAT */
                calls += s[n++].calls;
    }
    if (rep)
        freeReplyObject(rep);
    qsort(s, (size_t)n, sizeof *s, by_usec);
    double d = decisions ? decisions : 1;
    printf("  Redis commands per decision: %.0f; most time:", calls / d);
    for (int i = 0; i < n && i < 4; i++)
        printf(" %s %.1f calls %.0f us%s", s[i].name, s[i].calls / d, s[i].usec / d,
               i < 3 && i + 1 < n ? "," : "");
    printf("\n");
}

/* The server's message counters (/varz): messages it received and sent. */
struct nats_counts {
    long long in, out;
};

static int nats_counts(struct nats_counts *c)
{
    const char *mon = cc_env_str("CC_BENCH_NATS_MONITOR", NULL);
    char url[256];
    struct bench_buf body = {0};
    c->in = c->out = -1;
    if (!mon)
        return -1;
    snprintf(url, sizeof url, "%s/varz", mon);
    if (bench_http(NULL, "GET", url, NULL, NULL, &body) == 200 && body.data) {
        const char *i = strstr(body.data, "\"in_msgs\":"), *o = strstr(body.data, "\"out_msgs\":");
        if (i && o)
            c->in = strtoll(i + 10, NULL, 10), c->out = strtoll(o + 11, NULL, 10);
    }
    bench_buf_free(&body);
    return c->in < 0 ? -1 : 0;
}

static void nats_print_stats(const struct nats_counts *before, int decisions)
{
    struct nats_counts after;
    double d = decisions ? decisions : 1;
    if (before->in < 0 || nats_counts(&after) != 0) {
        printf("  NATS messages per decision: not read (no CC_BENCH_NATS_MONITOR)\n");
        return;
    }
    printf("  NATS messages per decision (server counters): %.2f published, %.2f delivered\n",
           (after.in - before->in) / d, (after.out - before->out) / d);
}

/* --- Redis calls per decision, from the server's MONITOR stream ---------------------------- */

/* MONITOR says who sent each command: a client ("[0 127.0.0.1:port]") or a
 * script ("[0 lua]"). Counted while `stop` is 0. */
struct monitor {
    redisContext *c;
    atomic_int stop;
    long long client, lua, scripts; /* scripts: EVALSHA / EVAL sent by clients */
    pthread_t thread;
};

static void *monitor_loop(void *arg)
{
    struct monitor *m = arg;
    redisReply *rep;
    while (!atomic_load(&m->stop) && redisGetReply(m->c, (void **)&rep) == REDIS_OK) {
        if (rep->type == REDIS_REPLY_STATUS && rep->str) {
            const char *who = strchr(rep->str, '['), *cmd = strchr(rep->str, ']');
            if (who && cmd && !atomic_load(&m->stop)) {
                if (strstr(who, " lua]") && strstr(who, " lua]") < cmd + 1)
                    m->lua++;
                else
                    m->client++, m->scripts += !strncasecmp(cmd + 2, "\"evalsha\"", 9) ||
                                               !strncasecmp(cmd + 2, "\"eval\"", 6);
            }
        }
        freeReplyObject(rep);
    }
    return NULL;
}

static int monitor_start(struct monitor *m, const char *url)
{
    char host[64] = "127.0.0.1";
    int port = 6379;
    memset(m, 0, sizeof *m);
    if (sscanf(url, "redis://%63[^:]:%d", host, &port) < 1)
        return -1;
    struct timeval tv = {1, 0};
    m->c = redisConnectWithTimeout(host, port, tv);
    redisReply *rep = m->c && !m->c->err ? redisCommand(m->c, "MONITOR") : NULL;
    if (!rep) {
        if (m->c)
            redisFree(m->c);
        m->c = NULL;
        return -1;
    }
    freeReplyObject(rep);
    redisSetTimeout(m->c, tv);
    return pthread_create(&m->thread, NULL, monitor_loop, m) == 0 ? 0 : -1;
}

static void monitor_stop(struct monitor *m)
{
    atomic_store(&m->stop, 1);
    pthread_join(m->thread, NULL); /* the read times out within a second */
    redisFree(m->c);
}

/* Redis calls per decision with a script call counted as one: MONITOR over
 * `n` more decisions, one at a time, less what the same time idle costs (the
 * sweepers and timers of the services). */
static void measure_monitored(struct bench *b, const char *url, int n)
{
    struct monitor idle, busy;
    char id[ID_LEN];
    if (monitor_start(&busy, url) != 0) {
        printf("  Redis calls per decision: MONITOR not available\n");
        return;
    }
    int64_t t0 = cc_time_mono_us();
    for (int i = 0; i < n; i++) {
        struct timespec until;
        snprintf(id, sizeof id, "mon-%d", i);
        if (enqueue(b, id, i % SERVED) != CC_OK)
            continue;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += OFFER_WAIT_MS / 1000;
        pthread_mutex_lock(&b->lock);
        while (atomic_load(&b->mon_offers) <= i &&
               pthread_cond_timedwait(&b->offered, &b->lock, &until) == 0)
            ;
        pthread_mutex_unlock(&b->lock);
    }
    usleep(20000);
    int64_t took = cc_time_mono_us() - t0;
    monitor_stop(&busy);
    if (monitor_start(&idle, url) != 0)
        return;
    usleep((useconds_t)took);
    monitor_stop(&idle);
    double d = atomic_load(&b->mon_offers) ? atomic_load(&b->mon_offers) : 1;
    printf("  Redis calls per decision (MONITOR, %d decisions one at a time, less the same time "
           "idle): %.1f sent by the services (%.1f of them script calls), %.1f run inside "
           "scripts; idle background in that time: %lld sent, %lld inside scripts\n",
           n, (busy.client - idle.client) / d, (busy.scripts - idle.scripts) / d,
           (busy.lua - idle.lua) / d, idle.client, idle.lua);
}

/* Replays the router's candidate read for queue 0's skill from here: ZRANGEBYSCORE of
 * {cc}:rt:cand:<skill>, then one HMGET of the presence record per agent, pipelined. */
static void replay_candidates(struct bench *b, struct samples *s, size_t *agents)
{
    struct cc_redis_conn *c;
    for (int r = 0; r < REPLAYS && cc_redis_acquire(b->redis, &c) == CC_OK; r++) {
        redisReply *ids = NULL, *rec;
        size_t queued = 0, read = 0;
        int64_t t0 = cc_time_mono_us();
        if (cc_redis_cmd(c, &ids, "ZRANGEBYSCORE " KEY_RT_CAND " 1 +inf WITHSCORES LIMIT 0 5000",
                         cc_tag(), b->skills[0]) == CC_OK) {
            for (size_t i = 0; i + 1 < ids->elements; i += 2) {
                char key[160];
                snprintf(key, sizeof key, KEY_AGENT, cc_tag(), ids->element[i]->str);
                const char *argv[] = {"HMGET", key,       "status", "state", "offers", "calls",
                                      "chats", "pending", "since",  "team",  "version"};
                queued += cc_redis_append(c, 11, argv, NULL) == CC_OK;
            }
            while (read < queued && cc_redis_reply(c, &rec) == CC_OK)
                freeReplyObject(rec), read++;
            if (read == ids->elements / 2)
                add(s, (double)(cc_time_mono_us() - t0));
            *agents = ids->elements / 2;
        }
        if (ids)
            freeReplyObject(ids);
        cc_redis_release(b->redis, c);
    }
}

/* --- report -------------------------------------------------------------------------------- */

/* Enqueue-to-offer samples of measured interactions [from, to), of one strategy or all. */
static void collect(struct bench *b, int from, int to, const char *strategy, struct samples *s)
{
    s->n = 0;
    pthread_mutex_lock(&b->lock);
    for (int i = from; i < to; i++)
        if (b->offer_us[i] && (!strategy || !strcmp(strategy, strategy_of(b->queue_of[i]))))
            add(s, (double)(b->offer_us[i] - b->sent_us[i]));
    pthread_mutex_unlock(&b->lock);
}

static void print_by_strategy(struct bench *b, struct samples *tmp)
{
    printf("  by strategy:");
    for (size_t k = 0; k < sizeof strategies / sizeof *strategies; k++) {
        collect(b, 0, b->seq, strategies[k], tmp);
        printf(" %s p50 %.2f p99 %.2f (%zu)%s", strategies[k], pct(tmp, .5), pct(tmp, .99), tmp->n,
               k + 1 < sizeof strategies / sizeof *strategies ? "," : "\n");
    }
}

static const char *verdict(int met)
{
    return met ? "met" : "NOT met";
}

static void print_goals(double p50, double p99, double rate, double ratio)
{
    printf("goals: p50 <= 1 ms %s (%.2f); p99 <= 5 ms %s (%.2f); >= 5,000 decisions/s %s (%.0f); "
           "ratio <= 3 %s (%.1f)\n",
           verdict(p50 <= 1), p50, verdict(p99 <= 5), p99, verdict(rate >= 5000), rate,
           verdict(ratio <= 3), ratio);
}

/* --- main ---------------------------------------------------------------------------------- */

static int config_from_env(struct bench *b)
{
    int64_t agents, waiting, seq, burst, threads;
    if (cc_env_int("CC_BENCH_AGENTS", 10000, 100, 100000, &agents) ||
        cc_env_int("CC_BENCH_WAITING", 1000, 0, 100000, &waiting) ||
        cc_env_int("CC_BENCH_SEQ", 2000, 10, 100000, &seq) ||
        cc_env_int("CC_BENCH_BURST", 3000, 10, 100000, &burst) ||
        cc_env_int("CC_BENCH_THREADS", 16, 1, MAX_THREADS, &threads))
        return -1;
    if ((seq + burst) * 10 > agents * 7) { /* each offer takes an agent for the whole run */
        fprintf(stderr, "CC_BENCH_SEQ + CC_BENCH_BURST must stay within 70 %% of "
                        "CC_BENCH_AGENTS\n");
        return -1;
    }
    b->agents = (int)agents, b->waiting = (int)waiting, b->seq = (int)seq;
    b->burst = (int)burst, b->threads = (int)threads;
    b->agent_ids = calloc((size_t)agents, ID_LEN);
    b->sent_us = calloc((size_t)(seq + burst), sizeof *b->sent_us);
    b->offer_us = calloc((size_t)(seq + burst), sizeof *b->offer_us);
    b->queue_of = calloc((size_t)(seq + burst), sizeof *b->queue_of);
    return b->agent_ids && b->sent_us && b->offer_us && b->queue_of ? 0 : -1;
}

/* The lock and the condition the offers are waited on (a monotonic clock). */
static void sync_init(struct bench *b)
{
    pthread_condattr_t ca;
    pthread_mutex_init(&b->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&b->offered, &ca);
    pthread_condattr_destroy(&ca);
}

static int connect_all(struct bench *b, const char *nats, const char *redis)
{
    if (cc_nats_connect(&b->nats, nats, "bench_routing") != CC_OK ||
        cc_redis_new(&b->redis, redis, 2) != CC_OK)
        return -1;
    for (int i = 0; i < 200 && !cc_nats_connected(b->nats); i++)
        usleep(10000);
    return cc_nats_subscribe(b->nats, SUBJ_ROUTER_OFFER_ANY, NULL, on_offer, b) == CC_OK ? 0 : -1;
}

/* Everything before the measured phases; 0 when the system is as described above. */
static int set_up(struct bench *b)
{
    int64_t t0 = cc_time_mono_ms();
    printf("== set-up\n");
    procs_snapshot(b);
    if (make_config(b) != CC_OK)
        return -1;
    run_threads(b, agent_worker);
    int64_t t1 = cc_time_mono_ms();
    procs_print(b, "agent set up", b->agents, (double)(t1 - t0) / 1000);
    run_threads(b, waiting_worker);
    usleep(1000000); /* a sweep or two: nothing of the waiting may be offered */
    long long waiting = count_waiting(b);
    printf("  %d agents (%d agent skills) created, signed in and in callcenter in %.1f s; "
           "%lld chats waiting in %d queues (enqueued in %.1f s); failures %d\n",
           b->agents, 2 * b->agents + b->agents / 2, (double)(t1 - t0) / 1000, waiting,
           QUEUES - SERVED, (double)(cc_time_mono_ms() - t1 - 1000) / 1000,
           atomic_load(&b->failures));
    return atomic_load(&b->failures) || atomic_load(&b->unexpected) || waiting != b->waiting ? -1
                                                                                             : 0;
}

static void report(struct bench *b, struct samples *nb, struct samples *rb, double burst_s)
{
    struct samples tmp = samples_new();
    double n50 = pct(nb, .5), n99 = pct(nb, .99), r50 = pct(rb, .5), r99 = pct(rb, .99);
    printf("baseline NATS request round trip   p50 %.3f ms  p99 %.3f ms\n", n50, n99);
    printf("baseline Redis EVALSHA round trip  p50 %.3f ms  p99 %.3f ms\n", r50, r99);
    printf("baseline sum                       p50 %.3f ms  p99 %.3f ms\n", n50 + r50, n99 + r99);
    collect(b, 0, b->seq, NULL, &tmp);
    double p50 = pct(&tmp, .5), p99 = pct(&tmp, .99), ratio = p50 / (n50 + r50);
    printf("enqueue-to-offer, one at a time (%zu of %d offered): p50 %.3f ms  p99 %.3f ms  "
           "max %.3f ms\n",
           tmp.n, b->seq, p50, p99, pct(&tmp, 1));
    print_by_strategy(b, &tmp);
    collect(b, b->seq, b->seq + b->burst, NULL, &tmp);
    double rate = burst_s > 0 ? (double)tmp.n / burst_s : 0;
    printf("decisions per second, burst of %d from %d threads, two replicas: %.0f "
           "(%zu offered in %.2f s; enqueue-to-offer under load p50 %.1f ms  p99 %.1f ms)\n",
           b->burst, b->threads, rate, tmp.n, burst_s, pct(&tmp, .5), pct(&tmp, .99));
    printf("ratio p50 / (NATS p50 + Redis p50): %.1f\n", ratio);
    print_goals(p50, p99, rate, ratio);
    free(tmp.us);
}

static double secs_since(int64_t t0_us)
{
    return (double)(cc_time_mono_us() - t0_us) / 1e6;
}

/* The two baselines with the CPU each costs, then the candidate read replayed. */
static int baselines(struct bench *b, const char *nats, const char *redis, struct samples *nb,
                     struct samples *rb)
{
    struct samples replay = samples_new();
    size_t per_skill = 0;
    int rc = -1;
    printf("== baselines\n");
    procs_snapshot(b);
    int64_t t0 = cc_time_mono_us();
    if (!replay.us || nats_baseline(nats, nb) != 0)
        goto out;
    procs_print(b, "bare NATS round trip", BASELINE_CALLS, secs_since(t0));
    procs_snapshot(b), t0 = cc_time_mono_us();
    if (redis_baseline(redis, rb) != 0)
        goto out;
    procs_print(b, "bare Redis EVALSHA", BASELINE_CALLS, secs_since(t0));
    replay_candidates(b, &replay, &per_skill);
    printf("router step replayed from here: candidates of one skill (%zu agents, ZRANGEBYSCORE + "
           "pipelined HMGET) p50 %.3f ms  p99 %.3f ms\n",
           per_skill, pct(&replay, .5), pct(&replay, .99));
    rc = 0;
out:
    free(replay.us);
    return rc;
}

/* (a) then (b), each followed by where the CPU and the Redis time went.
 * Returns the burst's seconds. */
static double measure(struct bench *b)
{
    struct nats_counts nc;
    printf("== one at a time\n");
    redis_reset_stats(b), procs_snapshot(b), nats_counts(&nc);
    int64_t t0 = cc_time_mono_us();
    measure_sequential(b);
    int seq_offers = atomic_load(&b->offers);
    procs_print(b, "decision", seq_offers, secs_since(t0));
    redis_print_stats(b, seq_offers);
    nats_print_stats(&nc, seq_offers);
    printf("== burst\n");
    redis_reset_stats(b), procs_snapshot(b), nats_counts(&nc);
    double burst_s = measure_burst(b);
    procs_print(b, "decision", atomic_load(&b->offers) - seq_offers, burst_s);
    redis_print_stats(b, atomic_load(&b->offers) - seq_offers);
    nats_print_stats(&nc, atomic_load(&b->offers) - seq_offers);
    return burst_s;
}

/* 0 when every enqueue got exactly one offer and no waiting chat was offered. */
static int check(struct bench *b)
{
    int offers = atomic_load(&b->offers);
    if (!atomic_load(&b->failures) && !atomic_load(&b->unexpected) &&
        !atomic_load(&b->duplicates) && offers == b->seq + b->burst)
        return 0;
    printf("FAILED: failures %d, offers of waiting chats %d, duplicate offers %d, offers %d of "
           "%d\n",
           atomic_load(&b->failures), atomic_load(&b->unexpected), atomic_load(&b->duplicates),
           offers, b->seq + b->burst);
    return 1;
}

int main(void)
{
    struct bench b = {0};
    struct samples nb = samples_new(), rb = samples_new();
    const char *nats = cc_env_str("CC_BENCH_NATS", NULL),
               *redis = cc_env_str("CC_BENCH_REDIS", NULL);
    double burst_s;
    if (cc_keys_init(cc_env_str("CC_DOMAIN", CC_DOMAIN_DEFAULT)) != CC_OK) {
        fprintf(stderr, "CC_DOMAIN: not a routing domain ([a-z0-9-]{1,32})\n");
        return 2;
    }
    int rc = 2;
    setvbuf(stdout, NULL, _IOLBF, 0); /* keeps run.py's lines and ours in order in a log */
    sync_init(&b);
    if (!nats || !redis || !nb.us || !rb.us || config_from_env(&b) != 0 ||
        connect_all(&b, nats, redis) != 0)
        goto out;
    procs_parse(&b, cc_env_str("CC_BENCH_PIDS", NULL));
    rc = 1;
    if (set_up(&b) != 0 || baselines(&b, nats, redis, &nb, &rb) != 0) {
        printf("FAILED: set-up or baselines (failures %d, offers of waiting chats %d)\n",
               atomic_load(&b.failures), atomic_load(&b.unexpected));
        goto out;
    }
    burst_s = measure(&b);
    printf("== monitored\n");
    measure_monitored(&b, redis, 100);
    printf("==\n");
    report(&b, &nb, &rb, burst_s);
    rc = check(&b);
out:
    if (b.nats) {
        cc_nats_drain(b.nats, 1000); /* no offer callback runs after this */
        cc_nats_free(b.nats);
    }
    cc_nats_library_close();
    if (b.redis)
        cc_redis_free(b.redis);
    pthread_cond_destroy(&b.offered);
    pthread_mutex_destroy(&b.lock);
    free(b.agent_ids), free(b.sent_us), free(b.offer_us), free(b.queue_of);
    free(nb.us), free(rb.us);
    return rc;
}
