/* bench_crm.c - records into the stand-in Creatio through crm-sync: records
 * per second for a burst (a backlog written in $batch requests) and the sync
 * lag from a record's change to the CRM's 2xx at a steady rate, printed
 * beside bare libcurl POSTs (one record, and a $batch of 100) to the same
 * stand-in measured in the same run. Every interaction must end up as
 * exactly one row, created once.
 *
 * Records are new chats (version 1, changed_at the moment they are
 * published) stored in RECORDS as chat-gateway stores them; the lag is the
 * stand-in's request log time of the first 2xx write of each (t_done) minus
 * that moment. The stand-in is reset before each phase so that every phase
 * starts from the same store.
 *
 * Configured by environment (bench/run.py starts the system and sets them):
 * CC_BENCH_NATS, CC_BENCH_CRM (the stand-in's root URL), CC_BENCH_CRM_SYNC
 * (crm-sync base URLs, comma-separated: the replicas), CC_BENCH_LABEL (names
 * the run and its ids), CC_BENCH_BURST (5000 records), CC_BENCH_RATE (100 a
 * second), CC_BENCH_SECONDS (10 of steady rate), CC_BENCH_PIDS. */
#include "bench_http.h"
#include "bench_lib.h"
#include "bench_procs.h"
#include "bench_records.h"
#include "cc_config.h"
#include "cc_time.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PUB_THREADS 4
#define BASE_POSTS 300
#define BASE_BATCHES 10
#define WAIT_S 90

struct bench {
    const char *crm, *syncs, *label;
    struct cc_nats *nats;
    CURL *h;
    char auth[1100]; /* "Authorization: Bearer ..." */
    struct bench_procs procs;
};

/* One phase: `n` interactions named <prefix><i>, published at pub_ms[i]. */
struct phase {
    char prefix[48];
    long n;
    int64_t *pub_ms;
    int64_t *done_ms; /* first 2xx write; 0 = none */
    int *creates;     /* 2xx creates of each */
    long batches, batched, singles, lookups, failed_writes;
    long rows, dup_rows, missing;
};

/* --- the bare POST baseline -------------------------------------------------------------- */

static int get_token(struct bench *b)
{
    static const char *const form[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    struct bench_buf out = {0};
    char url[512];
    snprintf(url, sizeof url, "%s/connect/token", b->crm);
    long code = bench_http(b->h, "POST", url,
                           "grant_type=client_credentials&client_id=cc-client&"
                           "client_secret=cc-secret",
                           form, &out);
    cJSON *j = code == 200 ? cJSON_Parse(out.data) : NULL;
    const cJSON *t = cJSON_GetObjectItem(j, "access_token");
    int rc = cJSON_IsString(t) && strlen(t->valuestring) < 1000 ? 0 : -1;
    if (rc == 0)
        snprintf(b->auth, sizeof b->auth, "Authorization: Bearer %s", t->valuestring);
    cJSON_Delete(j);
    bench_buf_free(&out);
    return rc;
}

/* The fields crm-sync writes for a new chat. */
static void chat_fields(char *out, size_t cap, const char *id)
{
    char now[40];
    cc_time_format_ms(cc_time_now_ms(), now, sizeof now);
    snprintf(out, cap,
             "{\"UsrExternalId\":\"%s\",\"UsrName\":\"Bench customer\",\"UsrFrom\":\"telegram:"
             "559912\",\"UsrTo\":\"Support bot\",\"UsrSource\":\"telegram\",\"UsrQueue\":"
             "\"Support L1\",\"UsrState\":\"New\",\"UsrStartDate\":\"%s\"}",
             id, now);
}

static int baseline_posts(struct bench *b, struct samples *s)
{
    const char *const hdr[] = {b->auth, "Content-Type: application/json", NULL};
    char url[512], body[1024], id[64];
    snprintf(url, sizeof url, "%s/0/odata/UsrChat", b->crm);
    for (int i = 0; i < BASE_POSTS + 20; i++) {
        snprintf(id, sizeof id, "base-%s-%d", b->label, i);
        chat_fields(body, sizeof body, id);
        int64_t t0 = cc_time_mono_us();
        if (bench_http(b->h, "POST", url, body, hdr, NULL) != 201)
            return -1;
        if (i >= 20) /* warm-up */
            add(s, (double)(cc_time_mono_us() - t0));
    }
    return 0;
}

/* BASE_BATCHES $batch requests of 100 creates; their times into `s`. */
static int baseline_batches(struct bench *b, struct samples *s)
{
    const char *const hdr[] = {b->auth, "Content-Type: application/json",
                               "Prefer: continue-on-error", NULL};
    size_t cap = 100 * 1400 + 64;
    char *text = malloc(cap), url[512], fields[1024], id[64];
    int rc = text ? 0 : -1;
    snprintf(url, sizeof url, "%s/0/odata/$batch", b->crm);
    for (int k = 0; k < BASE_BATCHES && rc == 0; k++) {
        size_t len = (size_t)snprintf(text, cap, "{\"requests\":[");
        for (int i = 0; i < 100; i++) {
            snprintf(id, sizeof id, "baseb-%s-%d-%d", b->label, k, i);
            chat_fields(fields, sizeof fields, id);
            len += (size_t)snprintf(text + len, cap - len,
                                    "%s{\"id\":\"%d\",\"method\":\"POST\",\"url\":\"UsrChat\","
                                    "\"headers\":{\"Content-Type\":\"application/json\"},"
                                    "\"body\":%s}",
                                    i ? "," : "", i, fields);
        }
        snprintf(text + len, cap - len, "]}");
        int64_t t0 = cc_time_mono_us();
        if (bench_http(b->h, "POST", url, text, hdr, NULL) != 200)
            rc = -1;
        add(s, (double)(cc_time_mono_us() - t0));
    }
    free(text);
    return rc;
}

static int reset_standin(struct bench *b)
{
    char url[512];
    snprintf(url, sizeof url, "%s/__test/reset", b->crm);
    return bench_http(b->h, "POST", url, "{}", NULL, NULL) == 200 ? 0 : -1;
}

/* --- publishing -------------------------------------------------------------------------- */

static enum cc_status publish_one(struct cc_nats *n, struct phase *p, long i)
{
    Cc__V1__Record r = CC__V1__RECORD__INIT;
    Cc__V1__Chat c = CC__V1__CHAT__INIT;
    char id[96], now[40];
    int64_t ms = cc_time_now_ms();
    snprintf(id, sizeof id, "%s%06ld", p->prefix, i);
    cc_time_format_ms(ms, now, sizeof now);
    c.id = id, c.channel_id = CC_PB_STR("ch-bench"), c.source = CC_PB_STR("telegram");
    c.queue_id = CC_PB_STR("q-bench"), c.queue_name = CC_PB_STR("Support L1");
    c.state = CC_PB_STR("new"), c.name = CC_PB_STR("Bench customer");
    c.from = CC_PB_STR("559912"), c.to = CC_PB_STR("Support bot"), c.created_at = now;
    r.kind = CC_PB_STR("chat"), r.id = id, r.has_version = 1, r.version = 1;
    r.changed_at = now, r.chat = &c;
    p->pub_ms[i] = ms;
    return bench_publish_record(n, &r);
}

struct publisher {
    pthread_t thread;
    struct cc_nats *n;
    struct phase *p;
    int k;
    enum cc_status st;
};

static void *publish_share(void *arg)
{
    struct publisher *w = arg;
    for (long i = w->k; i < w->p->n && w->st == CC_OK; i += PUB_THREADS)
        w->st = publish_one(w->n, w->p, i);
    return NULL;
}

/* All of the phase's records as fast as PUB_THREADS publishers can. */
static int publish_burst(struct bench *b, struct phase *p)
{
    struct publisher ws[PUB_THREADS];
    int rc = 0, started = 0;
    for (int k = 0; k < PUB_THREADS; k++) {
        ws[k] = (struct publisher){.n = b->nats, .p = p, .k = k, .st = CC_OK};
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

/* One record every 1/rate s on a fixed schedule (a late one does not shift the rest). */
static int publish_steady(struct bench *b, struct phase *p, long rate)
{
    int64_t t0 = cc_time_mono_us();
    for (long i = 0; i < p->n; i++) {
        int64_t at = t0 + i * 1000000 / rate, now = cc_time_mono_us();
        if (at > now)
            usleep((useconds_t)(at - now));
        if (publish_one(b->nats, p, i) != CC_OK)
            return -1;
    }
    return 0;
}

/* Waits until the replicas wrote `want` records more than `before`. */
static int wait_written(struct bench *b, double before, long want)
{
    int64_t until = cc_time_mono_us() + (int64_t)WAIT_S * 1000000;
    while (cc_time_mono_us() < until) {
        double now = bench_metric(b->syncs, "cc_crm_records_total{result=\"written\"}");
        if (now >= before + (double)want)
            return 0;
        usleep(100000);
    }
    return -1;
}

/* --- what the stand-in saw ------------------------------------------------------------------ */

/* The index of interaction id `id` of phase `p`, or -1. */
static long index_of(const struct phase *p, const char *id)
{
    size_t n = strlen(p->prefix);
    if (!id || strncmp(id, p->prefix, n) != 0)
        return -1;
    char *end;
    long i = strtol(id + n, &end, 10);
    return *end || i < 0 || i >= p->n ? -1 : i;
}

/* One write of `body` (a UsrChat row) answered `status` at `t_done` (s). */
static void saw_write(struct phase *p, const char *method, const cJSON *body, long status,
                      double t_done)
{
    const cJSON *ext = cJSON_GetObjectItem(body, "UsrExternalId");
    long i = index_of(p, cJSON_IsString(ext) ? ext->valuestring : NULL);
    if (i < 0)
        return;
    if (status < 200 || status > 299) {
        p->failed_writes++;
        return;
    }
    if (!p->done_ms[i])
        p->done_ms[i] = (int64_t)(t_done * 1000.0);
    if (!strcmp(method, "POST"))
        p->creates[i]++;
}

static void saw_batch(struct phase *p, const cJSON *e, double t_done)
{
    const cJSON *reqs = cJSON_GetObjectItem(cJSON_GetObjectItem(e, "body"), "requests"),
                *subs = cJSON_GetObjectItem(e, "sub_status");
    int n = cJSON_GetArraySize(reqs);
    p->batches++, p->batched += n;
    for (int k = 0; k < n; k++) {
        const cJSON *r = cJSON_GetArrayItem(reqs, k), *s = cJSON_GetArrayItem(subs, k);
        const cJSON *m = cJSON_GetObjectItem(r, "method");
        if (cJSON_IsString(m) && cJSON_IsNumber(s) && strcmp(m->valuestring, "GET"))
            saw_write(p, m->valuestring, cJSON_GetObjectItem(r, "body"), (long)s->valuedouble,
                      t_done);
    }
}

static void saw_entry(struct phase *p, const cJSON *e)
{
    const cJSON *m = cJSON_GetObjectItem(e, "method"), *path = cJSON_GetObjectItem(e, "path"),
                *st = cJSON_GetObjectItem(e, "status"), *t = cJSON_GetObjectItem(e, "t_done");
    if (!cJSON_IsString(m) || !cJSON_IsString(path) || !cJSON_IsNumber(st) || !cJSON_IsNumber(t))
        return;
    if (strstr(path->valuestring, "/odata/$batch"))
        saw_batch(p, e, t->valuedouble);
    else if (!strcmp(m->valuestring, "GET") && strstr(path->valuestring, "/odata/UsrChat"))
        p->lookups++;
    else if (strstr(path->valuestring, "/odata/UsrChat")) {
        p->singles++;
        saw_write(p, m->valuestring, cJSON_GetObjectItem(e, "body"), (long)st->valuedouble,
                  t->valuedouble);
    }
}

static cJSON *get_json(struct bench *b, const char *path)
{
    struct bench_buf out = {0};
    char url[512];
    snprintf(url, sizeof url, "%s%s", b->crm, path);
    cJSON *j = bench_http(b->h, "GET", url, NULL, NULL, &out) == 200 ? cJSON_Parse(out.data) : NULL;
    bench_buf_free(&out);
    return j;
}

/* Reads the request log and the store: writes, lag, rows per interaction. */
static int inspect(struct bench *b, struct phase *p)
{
    cJSON *log = get_json(b, "/__test/requests"), *dump = get_json(b, "/__test/dump?set=UsrChat");
    const cJSON *e, *row;
    int *rows = calloc((size_t)p->n, sizeof *rows);
    int rc = log && dump && rows ? 0 : -1;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(log, "requests")) saw_entry(p, e);
    cJSON_ArrayForEach(row, cJSON_GetObjectItem(dump, "UsrChat"))
    {
        const cJSON *ext = cJSON_GetObjectItem(row, "UsrExternalId");
        long i = index_of(p, cJSON_IsString(ext) ? ext->valuestring : NULL);
        if (i >= 0 && rows)
            rows[i]++;
    }
    for (long i = 0; rows && i < p->n; i++) {
        p->rows += rows[i];
        p->dup_rows += rows[i] > 1 ? rows[i] - 1 : 0;
        p->dup_rows += p->creates[i] > 1 ? p->creates[i] - 1 : 0;
        p->missing += rows[i] == 0;
    }
    free(rows);
    cJSON_Delete(log);
    cJSON_Delete(dump);
    return rc;
}

/* --- phases -------------------------------------------------------------------------------- */

static int phase_new(struct phase *p, const char *label, const char *what, long n)
{
    memset(p, 0, sizeof *p);
    snprintf(p->prefix, sizeof p->prefix, "cht_%s_%s_", label, what);
    p->n = n;
    p->pub_ms = calloc((size_t)n, sizeof *p->pub_ms);
    p->done_ms = calloc((size_t)n, sizeof *p->done_ms);
    p->creates = calloc((size_t)n, sizeof *p->creates);
    return p->pub_ms && p->done_ms && p->creates ? 0 : -1;
}

static void phase_free(struct phase *p)
{
    free(p->pub_ms), free(p->done_ms), free(p->creates);
}

/* Lags into `lag` (µs); the span from the first publish to the last write (s). */
static double lags(const struct phase *p, struct samples *lag)
{
    int64_t first = INT64_MAX, last = 0;
    for (long i = 0; i < p->n; i++) {
        first = p->pub_ms[i] < first ? p->pub_ms[i] : first;
        if (!p->done_ms[i])
            continue;
        add(lag, (double)(p->done_ms[i] - p->pub_ms[i]) * 1000.0);
        last = p->done_ms[i] > last ? p->done_ms[i] : last;
    }
    return last > first ? (double)(last - first) / 1000.0 : 0;
}

static void print_checks(const struct phase *p)
{
    printf("    stand-in: %ld rows for %ld interactions, %ld duplicate, %ld missing; "
           "%ld $batch requests (%.1f writes each), %ld single writes, %ld look-ups, "
           "%ld writes refused\n",
           p->rows, p->n, p->dup_rows, p->missing, p->batches,
           p->batches ? (double)p->batched / (double)p->batches : 0, p->singles, p->lookups,
           p->failed_writes);
}

static int run_phase(struct bench *b, struct phase *p, long rate)
{
    double before = bench_metric(b->syncs, "cc_crm_records_total{result=\"written\"}");
    if (before < 0 || reset_standin(b) != 0) {
        fprintf(stderr, "bench: crm-sync's metrics or the stand-in's reset failed\n");
        return -1;
    }
    bench_procs_snapshot(&b->procs);
    int64_t t0 = cc_time_mono_us();
    int rc = rate ? publish_steady(b, p, rate) : publish_burst(b, p);
    double pub_s = (double)(cc_time_mono_us() - t0) / 1e6;
    if (rc == 0 && wait_written(b, before, p->n) != 0)
        fprintf(stderr, "bench: %s: not every record was written in %d s\n", p->prefix, WAIT_S);
    double secs = (double)(cc_time_mono_us() - t0) / 1e6;
    if (rc == 0)
        bench_procs_print(&b->procs, "record", p->n, secs);
    if (rc != 0 || inspect(b, p) != 0) {
        fprintf(stderr, "bench: %s: publishing or reading the stand-in failed\n", p->prefix);
        return -1;
    }
    printf("    published %ld records in %.2f s (%.0f per second)\n", p->n, pub_s,
           (double)p->n / pub_s);
    return 0;
}

static int burst(struct bench *b, long n, double bare_batch_rate)
{
    struct phase p;
    struct samples lag = samples_new();
    int rc = phase_new(&p, b->label, "burst", n) || !lag.us ? -1 : 0;
    if (rc == 0)
        printf("== %s: a burst of %ld new chats (a backlog: crm-sync writes $batch)\n", b->label,
               n);
    if (rc == 0 && (rc = run_phase(b, &p, 0)) == 0) {
        double span = lags(&p, &lag), rate = span > 0 ? (double)lag.n / span : 0;
        printf("crm-sync %s burst: %.0f records per second (goal >= 500: %s)  lag p50 %.0f ms  "
               "p99 %.0f ms  ratio to the bare $batch rate %.2f\n",
               b->label, rate, rate >= 500 ? "met" : "NOT met", pct(&lag, .5), pct(&lag, .99),
               bare_batch_rate > 0 ? rate / bare_batch_rate : 0);
        print_checks(&p);
        rc = p.dup_rows || p.missing ? -1 : 0;
    }
    phase_free(&p);
    free(lag.us);
    return rc;
}

static int steady(struct bench *b, long rate, long seconds, double bare_p50)
{
    struct phase p;
    struct samples lag = samples_new();
    int rc = phase_new(&p, b->label, "steady", rate * seconds) || !lag.us ? -1 : 0;
    if (rc == 0)
        printf("== %s: %ld new chats a second for %ld s\n", b->label, rate, seconds);
    if (rc == 0 && (rc = run_phase(b, &p, rate)) == 0) {
        lags(&p, &lag);
        printf("crm-sync %s at %ld records/s: lag p50 %.0f ms  p99 %.0f ms (goal p99 <= 2000 ms: "
               "%s)  ratio p50 to the bare POST p50 %.1f\n",
               b->label, rate, pct(&lag, .5), pct(&lag, .99),
               pct(&lag, .99) <= 2000 ? "met" : "NOT met", pct(&lag, .5) / bare_p50);
        print_checks(&p);
        rc = p.dup_rows || p.missing ? -1 : 0;
    }
    phase_free(&p);
    free(lag.us);
    return rc;
}

/* The bare POSTs: prints them; their p50 (ms) and the $batch rows per second. */
static int baselines(struct bench *b, double *post_p50, double *batch_rate)
{
    struct samples posts = samples_new(), batches = samples_new();
    int rc = posts.us && batches.us ? 0 : -1;
    if (rc == 0 && (get_token(b) || baseline_posts(b, &posts) || baseline_batches(b, &batches))) {
        fprintf(stderr, "bench: the bare POSTs to the stand-in failed\n");
        rc = -1;
    }
    if (rc == 0) {
        double sum = 0;
        for (size_t i = 0; i < batches.n; i++)
            sum += batches.us[i];
        *post_p50 = pct(&posts, .5);
        *batch_rate = 100.0 * (double)batches.n / (sum / 1e6);
        printf("baseline bare POST UsrChat (libcurl, 1 client)   %.0f per second  p50 %.2f ms  "
               "p99 %.2f ms\n",
               1000.0 / *post_p50, *post_p50, pct(&posts, .99));
        printf("baseline bare $batch of 100 POSTs (1 client)     %.0f rows per second  "
               "p50 %.0f ms a batch\n",
               *batch_rate, pct(&batches, .5));
    }
    free(posts.us), free(batches.us);
    return rc;
}

int main(void)
{
    struct bench b = {.crm = cc_env_str("CC_BENCH_CRM", NULL),
                      .syncs = cc_env_str("CC_BENCH_CRM_SYNC", NULL),
                      .label = cc_env_str("CC_BENCH_LABEL", "x1")};
    const char *nats = cc_env_str("CC_BENCH_NATS", NULL);
    int64_t n, rate, seconds;
    double post_p50 = 0, batch_rate = 0;
    if (!b.crm || !b.syncs || !nats || cc_env_int("CC_BENCH_BURST", 5000, 100, 100000, &n) ||
        cc_env_int("CC_BENCH_RATE", 100, 1, 10000, &rate) ||
        cc_env_int("CC_BENCH_SECONDS", 10, 1, 600, &seconds)) {
        fprintf(stderr, "set CC_BENCH_NATS, CC_BENCH_CRM, CC_BENCH_CRM_SYNC\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    bench_procs_init(&b.procs, cc_env_str("CC_BENCH_PIDS", NULL));
    b.h = curl_easy_init();
    b.nats = bench_records_connect(nats, "bench-crm");
    int rc = b.h && b.nats ? 0 : 1;
    if (rc == 0)
        rc = baselines(&b, &post_p50, &batch_rate) || burst(&b, (long)n, batch_rate) ||
             steady(&b, (long)rate, (long)seconds, post_p50);
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
