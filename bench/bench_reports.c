/* bench_reports.c - historical reports over 10,000 interactions: how fast
 * agent-registry counts call records from RECORDS, and how long
 * GET /api/v1/reports/queues (15-minute, hourly and daily rows) and
 * /reports/agents take for that day through api-gateway, beside a bare
 * authenticated GET (/api/v1/me) measured in the same run.
 *
 * Yesterday (UTC, the organisation's default zone) gets `n` inbound calls
 * spread evenly over the day across QUEUES queues and AGENTS agents: most
 * answered (the wait and talk time vary with the call), every seventh
 * abandoned. Each is published once, in its final state, as call-router
 * publishes a record. The figures the reports return are checked against
 * what was published (offered, answered and abandoned summed over the rows;
 * the agents' handled calls, those answered before midnight), so a fast
 * wrong answer fails.
 *
 * Configured by environment (bench/run.py starts the system and sets them):
 * CC_BENCH_API, CC_BENCH_NATS, CC_BENCH_PASSWORD (admin's), CC_BENCH_CALLS
 * (10000), CC_BENCH_REQUESTS (50 of each report), CC_BENCH_PIDS. */
#include "bench_http.h"
#include "bench_lib.h"
#include "bench_procs.h"
#include "bench_records.h"
#include "cc/v1/registry.pb-c.h"
#include "cc_config.h"
#include "cc_time.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define QUEUES 10
#define AGENTS 20
#define ID_LEN 40
#define PUB_THREADS 4
#define DAY_MS 86400000LL
#define WAIT_S 60

struct bench {
    const char *api;
    struct cc_nats *nats;
    CURL *h;
    char auth[256];
    char team[ID_LEN], queues[QUEUES][ID_LEN], agents[AGENTS][ID_LEN];
    int64_t day_ms; /* yesterday's midnight, UTC */
    char day[16];
    long n;
    long answered, abandoned; /* what was published */
    long handled;             /* answered that day (an agent's row counts when answered) */
    struct bench_procs procs;
};

/* Totals of a report's rows. */
struct totals {
    long rows, offered, answered, abandoned, handled;
};

/* --- set-up ---------------------------------------------------------------------------------- */

static enum cc_status make_config(struct bench *b)
{
    Cc__V1__Team team = CC__V1__TEAM__INIT;
    char skill[ID_LEN], name[32];
    team.name = CC_PB_STR("reports-bench");
    enum cc_status st = bench_create(b->nats, "teams", &team.base, b->team, ID_LEN);
    for (int i = 0; i < QUEUES && st == CC_OK; i++) {
        Cc__V1__Skill s = CC__V1__SKILL__INIT;
        Cc__V1__Queue q = CC__V1__QUEUE__INIT;
        snprintf(name, sizeof name, "calls-%02d", i);
        s.name = name;
        if ((st = bench_create(b->nats, "skills", &s.base, skill, ID_LEN)) != CC_OK)
            break;
        q.name = name, q.channel = CC_PB_STR("call"), q.skill_id = skill;
        st = bench_create(b->nats, "queues", &q.base, b->queues[i], ID_LEN);
    }
    for (int i = 0; i < AGENTS && st == CC_OK; i++) {
        Cc__V1__User u = CC__V1__USER__INIT;
        Cc__V1__AgentSettings ag = CC__V1__AGENT_SETTINGS__INIT;
        snprintf(name, sizeof name, "report%02d", i);
        u.login = name, u.password = CC_PB_STR("bench-password"), u.role = CC_PB_STR("agent");
        ag.has_enabled = ag.enabled = 1, ag.team_id = b->team;
        u.agent = &ag;
        st = bench_create(b->nats, "users", &u.base, b->agents[i], ID_LEN);
    }
    return st;
}

static int sign_in(struct bench *b, const char *password)
{
    static const char *const json[] = {"Content-Type: application/json", NULL};
    struct bench_buf out = {0};
    char url[512], body[256];
    snprintf(url, sizeof url, "%s/api/v1/auth/login", b->api);
    snprintf(body, sizeof body, "{\"login\":\"admin\",\"password\":\"%s\"}", password);
    cJSON *j =
        bench_http(b->h, "POST", url, body, json, &out) == 200 ? cJSON_Parse(out.data) : NULL;
    const cJSON *t = cJSON_GetObjectItem(j, "token");
    int rc = cJSON_IsString(t) && strlen(t->valuestring) < 200 ? 0 : -1;
    if (rc == 0)
        snprintf(b->auth, sizeof b->auth, "Authorization: Bearer %s", t->valuestring);
    cJSON_Delete(j);
    bench_buf_free(&out);
    return rc;
}

/* --- the day's calls ---------------------------------------------------------------------------
 */

/* Call i: when it arrived, waited and talked (ms); abandoned every seventh. */
static void call_times(const struct bench *b, long i, int64_t *enq, int64_t *ans, int64_t *end)
{
    *enq = b->day_ms + i * DAY_MS / b->n + (i * 7919) % 1000;
    int64_t wait = (i * 104729) % 90000; /* 0..90 s */
    if (i % 7 == 3) {
        *ans = 0, *end = *enq + wait;
        return;
    }
    *ans = *enq + wait;
    *end = *ans + 30000 + (i * 15485863) % 570000; /* 30 s .. 10 min */
}

static enum cc_status publish_call(struct bench *b, struct cc_nats *n, long i)
{
    Cc__V1__Record r = CC__V1__RECORD__INIT;
    Cc__V1__Call c = CC__V1__CALL__INIT;
    char id[32], enq_s[40], ans_s[40], end_s[40], now[40];
    int64_t enq, ans, end;
    call_times(b, i, &enq, &ans, &end);
    snprintf(id, sizeof id, "call_rb%06ld", i);
    cc_time_format_ms(enq, enq_s, sizeof enq_s);
    cc_time_format_ms(ans, ans_s, sizeof ans_s);
    cc_time_format_ms(end, end_s, sizeof end_s);
    cc_time_format_ms(cc_time_now_ms(), now, sizeof now);
    c.id = id, c.call_id = id, c.direction = CC_PB_STR("inbound");
    c.from = CC_PB_STR("+380501234567"), c.to = CC_PB_STR("+380443334455");
    c.queue_id = b->queues[i % QUEUES], c.state = CC_PB_STR("ended");
    c.enqueued_at = enq_s, c.ended_at = end_s, c.has_version = 1, c.version = 3;
    c.has_wait_s = 1, c.wait_s = (double)((ans ? ans : end) - enq) / 1000.0;
    if (ans) {
        c.agent_id = b->agents[i % AGENTS], c.answered_at = ans_s, c.offered_at = enq_s;
        c.has_talk_s = 1, c.talk_s = (double)(end - ans) / 1000.0;
        c.outcome = CC_PB_STR("answered"), c.hangup_by = CC_PB_STR("caller");
    } else {
        c.outcome = CC_PB_STR("abandoned"), c.hangup_by = CC_PB_STR("caller");
    }
    r.kind = CC_PB_STR("call"), r.id = id, r.has_version = 1, r.version = 3;
    r.changed_at = now, r.call = &c;
    return bench_publish_record(n, &r);
}

struct publisher {
    pthread_t thread;
    struct bench *b;
    int k;
    enum cc_status st;
};

static void *publish_share(void *arg)
{
    struct publisher *w = arg;
    for (long i = w->k; i < w->b->n && w->st == CC_OK; i += PUB_THREADS)
        w->st = publish_call(w->b, w->b->nats, i);
    return NULL;
}

static int publish_day(struct bench *b)
{
    struct publisher ws[PUB_THREADS];
    int rc = 0, started = 0;
    for (long i = 0; i < b->n; i++) {
        int64_t enq, ans, end;
        call_times(b, i, &enq, &ans, &end);
        b->answered += ans != 0, b->abandoned += ans == 0;
        b->handled += ans != 0 && ans < b->day_ms + DAY_MS;
    }
    for (int k = 0; k < PUB_THREADS; k++) {
        ws[k] = (struct publisher){.b = b, .k = k, .st = CC_OK};
        if (pthread_create(&ws[k].thread, NULL, publish_share, &ws[k]) != 0)
            break;
        started++;
    }
    for (int k = 0; k < started; k++) {
        pthread_join(ws[k].thread, NULL);
        rc |= ws[k].st != CC_OK;
    }
    return rc || started < PUB_THREADS ? -1 : 0;
}

/* --- reports ---------------------------------------------------------------------------------- */

static long num(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItem(o, name);
    return cJSON_IsNumber(v)   ? (long)v->valuedouble
           : cJSON_IsString(v) ? strtol(v->valuestring, NULL, 10)
                               : 0;
}

/* GET `path` (after /api/v1) for the day; its time into *us, totals into `t`.
 * Returns the HTTP status. */
static long report(struct bench *b, const char *path, int64_t *us, struct totals *t)
{
    const char *const hdr[] = {b->auth, NULL};
    struct bench_buf out = {0};
    char url[512];
    const cJSON *row;
    snprintf(url, sizeof url, "%s/api/v1%s%cfrom=%s&to=%s", b->api, path,
             strchr(path, '?') ? '&' : '?', b->day, b->day);
    int64_t t0 = cc_time_mono_us();
    long code = bench_http(b->h, "GET", url, NULL, hdr, &out);
    *us = cc_time_mono_us() - t0;
    cJSON *j = code == 200 && t ? cJSON_Parse(out.data) : NULL;
    if (t)
        memset(t, 0, sizeof *t);
    cJSON_ArrayForEach(row, cJSON_GetObjectItem(j, "items"))
    {
        t->rows++, t->offered += num(row, "offered"), t->answered += num(row, "answered");
        t->abandoned += num(row, "abandoned"), t->handled += num(row, "handled");
    }
    cJSON_Delete(j);
    bench_buf_free(&out);
    return code;
}

/* Polls the daily queue report until it counts every call; the seconds it took. */
static double wait_counted(struct bench *b, int64_t t0)
{
    int64_t until = cc_time_mono_us() + (int64_t)WAIT_S * 1000000, us;
    struct totals t;
    while (cc_time_mono_us() < until) {
        if (report(b, "/reports/queues?interval=day", &us, &t) == 200 && t.offered >= b->n)
            return (double)(cc_time_mono_us() - t0) / 1e6;
        usleep(50000);
    }
    return -1;
}

/* The figures a report must show: every call, answered and abandoned as published. */
static int check(const struct bench *b, const char *what, const struct totals *t, long rows,
                 int agents)
{
    int ok = agents ? t->handled == b->handled && t->rows == rows
                    : t->offered == b->n && t->answered == b->answered &&
                          t->abandoned == b->abandoned && t->rows == rows;
    if (!ok)
        fprintf(stderr,
                "bench: %s: %ld rows (want %ld), offered %ld answered %ld abandoned %ld "
                "handled %ld; published %ld calls, %ld answered (%ld that day), %ld abandoned\n",
                what, t->rows, rows, t->offered, t->answered, t->abandoned, t->handled, b->n,
                b->answered, b->handled, b->abandoned);
    return ok ? 0 : -1;
}

/* `requests` GETs of one report: prints p50/p99 beside the bare GET's p50. */
static int time_report(struct bench *b, const char *what, const char *path, long rows, int agents,
                       long requests, double me_p50)
{
    struct samples s = samples_new();
    struct totals t;
    int64_t us;
    int rc = s.us && report(b, path, &us, &t) == 200 ? check(b, what, &t, rows, agents) : -1;
    int64_t t0 = cc_time_mono_us();
    bench_procs_snapshot(&b->procs);
    for (long i = 0; i < requests && rc == 0; i++) {
        if (report(b, path, &us, NULL) != 200)
            rc = -1;
        add(&s, (double)us);
    }
    if (rc == 0)
        bench_procs_print(&b->procs, "request", requests, (double)(cc_time_mono_us() - t0) / 1e6);
    if (rc == 0)
        printf("GET %-34s %4ld rows  p50 %6.2f ms  p99 %6.2f ms (goal < 200 ms: %s)  "
               "ratio p50 to the bare GET %.1f\n",
               what, t.rows, pct(&s, .5), pct(&s, .99), pct(&s, .99) < 200 ? "met" : "NOT met",
               pct(&s, .5) / me_p50);
    free(s.us);
    return rc;
}

static int bare_get(struct bench *b, struct samples *s)
{
    const char *const hdr[] = {b->auth, NULL};
    char url[512];
    snprintf(url, sizeof url, "%s/api/v1/me", b->api);
    for (int i = 0; i < 220; i++) {
        int64_t t0 = cc_time_mono_us();
        if (bench_http(b->h, "GET", url, NULL, hdr, NULL) != 200)
            return -1;
        if (i >= 20)
            add(s, (double)(cc_time_mono_us() - t0));
    }
    return 0;
}

static int run(struct bench *b, long requests)
{
    struct samples me = samples_new();
    if (!me.us || bare_get(b, &me) != 0) {
        fprintf(stderr, "bench: the bare GET /api/v1/me failed\n");
        free(me.us);
        return -1;
    }
    printf("baseline bare authenticated GET /api/v1/me      p50 %.2f ms  p99 %.2f ms\n",
           pct(&me, .5), pct(&me, .99));
    bench_procs_snapshot(&b->procs);
    int64_t t0 = cc_time_mono_us();
    int rc = publish_day(b);
    double pub_s = (double)(cc_time_mono_us() - t0) / 1e6, secs = rc ? -1 : wait_counted(b, t0);
    if (secs < 0) {
        fprintf(stderr, "bench: the calls were not all counted in %d s\n", WAIT_S);
        free(me.us);
        return -1;
    }
    bench_procs_print(&b->procs, "record", b->n, secs);
    printf("ingest: %ld call records published in %.2f s, counted by agent-registry in %.2f s: "
           "%.0f records per second\n",
           b->n, pub_s, secs, (double)b->n / secs);
    double p50 = pct(&me, .5);
    free(me.us);
    return time_report(b, "/reports/queues?interval=15m", "/reports/queues?interval=15m",
                       QUEUES * 96, 0, requests, p50) ||
           time_report(b, "/reports/queues?interval=hour", "/reports/queues?interval=hour",
                       QUEUES * 24, 0, requests, p50) ||
           time_report(b, "/reports/queues?interval=day", "/reports/queues?interval=day", QUEUES, 0,
                       requests, p50) ||
           time_report(b, "/reports/agents", "/reports/agents", AGENTS, 1, requests, p50);
}

int main(void)
{
    struct bench b = {.api = cc_env_str("CC_BENCH_API", NULL)};
    const char *nats = cc_env_str("CC_BENCH_NATS", NULL),
               *password = cc_env_str("CC_BENCH_PASSWORD", NULL);
    int64_t n, requests;
    if (!b.api || !nats || !password || cc_env_int("CC_BENCH_CALLS", 10000, 100, 1000000, &n) ||
        cc_env_int("CC_BENCH_REQUESTS", 50, 1, 10000, &requests)) {
        fprintf(stderr, "set CC_BENCH_API, CC_BENCH_NATS, CC_BENCH_PASSWORD\n");
        return 2;
    }
    b.n = (long)n;
    b.day_ms = (cc_time_now_ms() / DAY_MS - 1) * DAY_MS;
    cc_time_day(b.day_ms, b.day, sizeof b.day);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    bench_procs_init(&b.procs, cc_env_str("CC_BENCH_PIDS", NULL));
    b.h = curl_easy_init();
    b.nats = bench_records_connect(nats, "bench-reports");
    int rc = b.h && b.nats ? 0 : -1;
    if (rc == 0 && (make_config(&b) != CC_OK || sign_in(&b, password) != 0)) {
        fprintf(stderr, "bench: creating the queues and agents or signing in failed\n");
        rc = -1;
    }
    if (rc == 0) {
        printf("%ld calls on %s over %d queues and %d agents\n", b.n, b.day, QUEUES, AGENTS);
        rc = run(&b, (long)requests);
    }
    if (b.nats) {
        cc_nats_drain(b.nats, 1000);
        cc_nats_free(b.nats);
    }
    if (b.h)
        curl_easy_cleanup(b.h);
    curl_global_cleanup();
    cc_nats_library_close();
    return rc ? 1 : 0;
}
