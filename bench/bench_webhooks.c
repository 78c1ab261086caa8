/* bench_webhooks.c - how fast chat-gateway takes in provider webhooks: the
 * time from sending a signed Telegram update to its 200 (which chat-gateway
 * answers only once JetStream acknowledged the event in CHAT_IN), one at a
 * time and under load, beside a bare JetStream publish + PubAck and a bare
 * NATS request round trip measured in the same run on the same server (the
 * issue's goals: >= 5,000 messages per second, p99 under 10 ms).
 *
 * Set-up through api-gateway as the admin: a skill, a chat queue and a
 * Telegram channel. Measured, every request a distinct update (update and
 * message ids never repeat, CC_BENCH_CONVERSATIONS customers in turn), each
 * client on one keep-alive connection:
 *  (a) the baselines: JetStream publish + PubAck (file storage, a stream of
 *      its own) one at a time and from CC_BENCH_THREADS threads sharing one
 *      connection for CC_BENCH_FLOOR_SECONDS, and a NATS request round trip;
 *  (b) the HTTP floor: the same POST to a channel that does not exist (404:
 *      the whole HTTP path, no JetStream), one at a time and under load;
 *  (c) webhooks one at a time (CC_BENCH_SEQ after 200 of warm-up);
 *  (d) webhooks from CC_BENCH_THREADS clients for CC_BENCH_SECONDS;
 *  (e) every update answered 200 is then awaited in Redis, where the chat-in
 *      consumer stores it: the count must match and nothing may be 5xx or
 *      fail; the consumer's catch-up rate is printed.
 * To show what limits the figures, each phase prints the CPU each process
 * spent per request (and how busy the cores were, other users' work
 * included), chat-gateway's CPU and context switches by thread name, and the
 * handler's own time from cc_chat_webhook_seconds.
 * Environment: CC_BENCH_API, CC_BENCH_CHAT (chat-gateway's base URL),
 * CC_BENCH_NATS, CC_BENCH_REDIS, CC_BENCH_PASSWORD, CC_BENCH_LOGIN (admin),
 * CC_BENCH_PIDS (name:pid,...), CC_BENCH_SEQ (5000), CC_BENCH_SECONDS (10),
 * CC_BENCH_FLOOR_SECONDS (4), CC_BENCH_THREADS (16), CC_BENCH_CONVERSATIONS (1000). */
#include "bench_lib.h"
#include "bench_procs.h"
#include "cc_config.h"
#include "cc_redis.h"
#include "cc_time.h"
#include "cc_keys.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ID_LEN 64
#define URL_LEN 256
#define BODY_CAP 640
#define ANSWER_CAP 8192
#define MAX_THREADS 64
#define WARM_UP 200
#define SECRET "bench-secret-token"
#define DRAIN_IDLE_S 10 /* the consumer is given up on after this long without progress */

struct bench {
    const char *api, *chat, *nats, *redis, *login, *password;
    int64_t seq, seconds, floor_seconds, threads, conversations;
    char channel[ID_LEN];
    char webhook_url[URL_LEN], unknown_url[URL_LEN];
    atomic_long next; /* the next update number: no two requests carry the same update */
    long stored;      /* webhooks answered 200 */
    long bad_5xx, bad_other, errors;
    struct bench_procs procs;
    struct bench_threads chat_threads; /* chat-gateway's threads at the phase's start */
    double handler_sum, handler_count; /* cc_chat_webhook_seconds at the phase's start */
};

/* One client: one curl handle, so one keep-alive connection. */
struct client {
    pthread_t thread;
    struct bench *b;
    CURL *h;
    struct curl_slist *hdr;
    const char *url;
    long expect;      /* the answer that counts as success: 200, or 404 for the floor */
    long count;       /* requests to send; 0 = until until_us */
    int64_t until_us; /* 0 = until count */
    double *us;       /* latencies of successful requests */
    size_t n, cap;
    long ok, bad_5xx, bad_other, errors;
    long connects; /* connections opened: 1 while keep-alive held */
    char body[BODY_CAP];
};

/* The baselines: bare JetStream publish one at a time and under load, bare NATS round trip. */
struct baseline {
    struct samples js, js_load, nats;
    double js_rate; /* publishes acknowledged per second under load */
};

/* What one phase measured, merged over its clients. */
struct phase {
    struct samples s;
    double secs;
    long ok, bad_5xx, bad_other, errors, connects;
    double handler_ms; /* chat-gateway's mean arrival-to-2xx, from its histogram */
};

static double secs_since(int64_t t0_us)
{
    return (double)(cc_time_mono_us() - t0_us) / 1e6;
}

/* --- HTTP --------------------------------------------------------------------------- */

struct answer {
    char data[ANSWER_CAP];
    size_t len;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    struct answer *a = arg;
    size_t len = size * n, room = a ? sizeof a->data - 1 - a->len : 0;
    if (a) {
        memcpy(a->data + a->len, p, len < room ? len : room);
        a->len += len < room ? len : room;
        a->data[a->len] = '\0';
    }
    return len;
}

/* One request on a fresh handle (set-up and metrics): `body` JSON or NULL for GET,
 * `token` a bearer or NULL. Returns the status code, or -1 when nothing answered. */
static long http_call(const char *url, const char *token, const char *body, struct answer *a)
{
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    char auth[300];
    long code = -1;
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        hdr = curl_slist_append(hdr, auth);
    }
    a->len = 0, a->data[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (body)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    if (curl_easy_perform(h) != CURLE_OK ||
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK)
        code = -1;
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return code;
}

/* The string member `name` of the JSON object in `a` into `out`; 0, or -1. */
static int json_str(const struct answer *a, const char *name, char *out, size_t cap)
{
    cJSON *j = cJSON_Parse(a->data);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
    int rc = cJSON_IsString(v) && strlen(v->valuestring) < cap ? 0 : -1;
    if (rc == 0)
        memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
    cJSON_Delete(j);
    return rc;
}

/* POSTs `body` to api-gateway's `path` as the admin and copies the new object's id. */
static int create(struct bench *b, const char *token, const char *path, const char *body, char *id)
{
    char url[URL_LEN];
    struct answer a;
    snprintf(url, sizeof url, "%s%s", b->api, path);
    long code = http_call(url, token, body, &a);
    if (code == 201 && json_str(&a, "id", id, ID_LEN) == 0)
        return 0;
    fprintf(stderr, "bench: POST %s answered %ld: %s\n", path, code, a.data);
    return -1;
}

/* --- set-up ------------------------------------------------------------------------- */

/* chat-gateway knows the channel once its webhook is no longer 404: a GET (Meta's
 * subscription check) is refused 403 for a Telegram channel and stores nothing. */
static int wait_channel(struct bench *b)
{
    char url[URL_LEN + 32];
    struct answer a;
    snprintf(url, sizeof url, "%s?hub.challenge=1", b->webhook_url);
    for (int i = 0; i < 500; i++) {
        long code = http_call(url, NULL, NULL, &a);
        if (code != 404 && code > 0)
            return 0;
        usleep(10000);
    }
    fprintf(stderr, "bench: chat-gateway did not learn channel %s\n", b->channel);
    return -1;
}

/* A skill, a chat queue and a Telegram channel, through api-gateway as the admin. */
static int set_up(struct bench *b)
{
    char url[URL_LEN], body[512], token[256], skill[ID_LEN], queue[ID_LEN];
    struct answer a;
    printf("== set-up\n");
    snprintf(url, sizeof url, "%s/api/v1/auth/login", b->api);
    snprintf(body, sizeof body, "{\"login\":\"%s\",\"password\":\"%s\"}", b->login, b->password);
    if (http_call(url, NULL, body, &a) != 200 || json_str(&a, "token", token, sizeof token)) {
        fprintf(stderr, "bench: sign-in failed: %s\n", a.data);
        return -1;
    }
    if (create(b, token, "/api/v1/skills", "{\"name\":\"Webhook bench\"}", skill))
        return -1;
    snprintf(body, sizeof body,
             "{\"name\":\"Webhook bench\",\"channel\":\"chat\",\"skill_id\":\"%s\"}", skill);
    if (create(b, token, "/api/v1/queues", body, queue))
        return -1;
    snprintf(body, sizeof body,
             "{\"type\":\"telegram\",\"name\":\"Bench bot\",\"queue_id\":\"%s\","
             "\"api_base_url\":\"http://127.0.0.1:9\",\"credentials\":{\"bot_token\":"
             "\"123456:bench\",\"secret_token\":\"" SECRET "\"}}",
             queue);
    if (create(b, token, "/api/v1/channels", body, b->channel))
        return -1;
    snprintf(b->webhook_url, sizeof b->webhook_url, "%s/webhooks/telegram/%s", b->chat, b->channel);
    snprintf(b->unknown_url, sizeof b->unknown_url, "%s/webhooks/telegram/chn_no_such_channel",
             b->chat);
    if (wait_channel(b))
        return -1;
    printf("  skill, queue and telegram channel %s created; %lld conversations\n", b->channel,
           (long long)b->conversations);
    return 0;
}

/* --- the clients -------------------------------------------------------------------- */

/* Telegram update n: a text message of conversation n % conversations. Update and
 * message ids are n, so the provider message id "<chat>:<message>" never repeats. */
static void update_body(char *buf, size_t cap, long n, int64_t conversations)
{
    long long chat = 100000 + n % conversations;
    snprintf(buf, cap,
             "{\"update_id\":%ld,\"message\":{\"message_id\":%ld,\"date\":%lld,"
             "\"from\":{\"id\":%lld,\"is_bot\":false,\"first_name\":\"Klient\",\"last_name\":"
             "\"%lld\"},\"chat\":{\"id\":%lld,\"type\":\"private\",\"first_name\":\"Klient\"},"
             "\"text\":\"Dzie\\u0144 dobry, where is my order? bench message %ld\"}}",
             n, n, 1700000000LL + n / 1000, chat, chat, chat, n);
}

/* Opens the client's handle: keep-alive, no Expect: 100-continue, Telegram's header. */
static int client_open(struct client *c)
{
    c->h = curl_easy_init();
    c->hdr = curl_slist_append(NULL, "Content-Type: application/json");
    c->hdr = curl_slist_append(c->hdr, "X-Telegram-Bot-Api-Secret-Token: " SECRET);
    c->hdr = curl_slist_append(c->hdr, "Expect:");
    if (!c->h || !c->hdr)
        return -1;
    curl_easy_setopt(c->h, CURLOPT_URL, c->url);
    curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, c->hdr);
    curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c->h, CURLOPT_WRITEDATA, NULL);
    curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, c->body);
    curl_easy_setopt(c->h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->h, CURLOPT_TIMEOUT, 10L);
    return 0;
}

/* Sends one update and files its answer. */
static void client_send(struct client *c)
{
    long code = 0, connects = 0, n = atomic_fetch_add(&c->b->next, 1);
    update_body(c->body, sizeof c->body, n, c->b->conversations);
    curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE, (long)strlen(c->body));
    int64_t t0 = cc_time_mono_us();
    CURLcode done = curl_easy_perform(c->h);
    int64_t us = cc_time_mono_us() - t0;
    if (done != CURLE_OK || curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK) {
        c->errors++;
        return;
    }
    if (curl_easy_getinfo(c->h, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK)
        c->connects += connects;
    if (code == c->expect) {
        c->ok++;
        if (c->n < c->cap)
            c->us[c->n++] = (double)us;
    } else if (code >= 500) {
        c->bad_5xx++;
    } else {
        c->bad_other++;
    }
}

static void *client_loop(void *arg)
{
    struct client *c = arg;
    for (long i = 0; !c->count || i < c->count; i++) {
        if (c->until_us && cc_time_mono_us() >= c->until_us)
            break;
        client_send(c);
    }
    return NULL;
}

/* --- phases ------------------------------------------------------------------------- */

/* Reads the histogram cc_chat_webhook_seconds' sum and count from chat-gateway. */
static int handler_time(struct bench *b, double *sum, double *count)
{
    char url[URL_LEN];
    struct answer a;
    static const char *names[] = {"\ncc_chat_webhook_seconds_sum ",
                                  "\ncc_chat_webhook_seconds_count "};
    double *out[] = {sum, count};
    snprintf(url, sizeof url, "%s/metrics", b->chat);
    *sum = *count = 0;
    if (http_call(url, NULL, NULL, &a) != 200)
        return -1;
    for (int i = 0; i < 2; i++) {
        const char *p = strstr(a.data, names[i]);
        if (p)
            *out[i] = strtod(p + strlen(names[i]), NULL);
    }
    return 0;
}

static void phase_begin(struct bench *b)
{
    bench_procs_snapshot(&b->procs);
    bench_threads_snapshot(&b->chat_threads, bench_procs_pid(&b->procs, "chat-gateway"));
    handler_time(b, &b->handler_sum, &b->handler_count);
}

/* Prints where the CPU went since phase_begin, and chat-gateway's handler time. */
static void phase_end(struct bench *b, struct phase *ph)
{
    double sum, count;
    long units = ph->ok + ph->bad_5xx + ph->bad_other;
    bench_procs_print(&b->procs, "request", units, ph->secs);
    bench_threads_print(&b->chat_threads, "chat-gateway", units);
    if (handler_time(b, &sum, &count) == 0 && count > b->handler_count)
        ph->handler_ms = (sum - b->handler_sum) / (count - b->handler_count) * 1000;
}

/* Adds a finished client's answers and latencies to the phase. */
static void client_merge(const struct client *c, struct phase *ph)
{
    for (size_t i = 0; i < c->n; i++)
        add(&ph->s, c->us[i]);
    ph->ok += c->ok, ph->bad_5xx += c->bad_5xx, ph->bad_other += c->bad_other;
    ph->errors += c->errors, ph->connects += c->connects;
}

static void client_close(struct client *c)
{
    curl_slist_free_all(c->hdr);
    if (c->h)
        curl_easy_cleanup(c->h);
    free(c->us);
}

/* Runs `n` clients posting to `url`, each `count` requests or until `seconds` pass.
 * The connections stay open until the CPU is read, so chat-gateway's connection
 * threads are still there to be counted. Returns 0, or -1 when a client could not
 * start. */
static int run_clients(struct bench *b, int n, const char *url, long expect, long count,
                       int64_t seconds, struct phase *ph)
{
    struct client *cs = calloc((size_t)n, sizeof *cs);
    int started = 0;
    int64_t t0 = cc_time_mono_us();
    size_t cap = count ? (size_t)count : (size_t)seconds * 40000 / (size_t)n + 1000;
    for (int i = 0; cs && i < n; i++, started++) {
        cs[i] = (struct client){.b = b, .url = url, .expect = expect, .count = count, .cap = cap};
        cs[i].until_us = seconds ? t0 + seconds * 1000000 : 0;
        cs[i].us = malloc(sizeof(double) * cap);
        if (!cs[i].us || client_open(&cs[i]) ||
            pthread_create(&cs[i].thread, NULL, client_loop, &cs[i]) != 0)
            break;
    }
    for (int i = 0; i < started; i++)
        pthread_join(cs[i].thread, NULL);
    ph->secs = (double)(cc_time_mono_us() - t0) / 1e6;
    for (int i = 0; i < started; i++)
        client_merge(&cs[i], ph);
    phase_end(b, ph);
    for (int i = 0; cs && i < n; i++)
        client_close(&cs[i]);
    free(cs);
    return cs && started == n ? 0 : -1;
}

/* One phase: `n` clients, printed as `title`. Webhook phases count what was stored. */
static int phase_run(struct bench *b, const char *title, int webhook, int n, long count,
                     int64_t seconds, struct phase *ph)
{
    printf("== %s\n", title);
    phase_begin(b);
    int rc = run_clients(b, n, webhook ? b->webhook_url : b->unknown_url, webhook ? 200 : 404,
                         count, seconds, ph);
    if (webhook)
        b->stored += ph->ok;
    b->bad_5xx += ph->bad_5xx, b->bad_other += ph->bad_other, b->errors += ph->errors;
    printf("  %ld answered as expected, %ld 5xx, %ld other, %ld transport errors, "
           "%ld reconnections\n",
           ph->ok, ph->bad_5xx, ph->bad_other, ph->errors, ph->connects > n ? ph->connects - n : 0);
    return rc;
}

/* --- the consumer's side ------------------------------------------------------------ */

/* Customer messages stored in Redis by the chat-in consumer: every chat's messages. */
static long long stored_in_redis(struct cc_redis *r)
{
    static struct cc_redis_script count =
        CC_REDIS_SCRIPT("count", "local n = 0\n"
                                 "for _, c in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do\n"
                                 "  n = n + redis.call('ZCARD', ARGV[1] .. c)\n"
                                 "end\n"
                                 "return n");
    char pmsgs[64];
    cc_key_prefix(pmsgs, sizeof pmsgs, KEY_CHATMSGS);
    const char *keys[] = {cc_key_fixed(KEY_CHATS_ALL), pmsgs};
    struct cc_redis_conn *c;
    redisReply *rep = NULL;
    long long n = -1;
    if (cc_redis_acquire(r, &c) != CC_OK)
        return -1;
    if (cc_redis_eval(c, &count, &rep, 1, 2, keys, NULL) == CC_OK &&
        rep->type == REDIS_REPLY_INTEGER)
        n = rep->integer;
    if (rep)
        freeReplyObject(rep);
    cc_redis_release(r, c);
    return n;
}

/* Waits until every update answered 200 is stored in its chat, or the consumer stops
 * making progress; prints how fast it caught up and what that cost. Returns what is
 * stored. */
static long long await_stored(struct bench *b, struct cc_redis *r)
{
    int64_t t0 = cc_time_mono_us(), progress = t0;
    long long at_end = stored_in_redis(r), n = at_end, seen = at_end;
    printf("== the chat-in consumer: %lld of %ld stored in Redis when the load ended\n", at_end,
           b->stored);
    bench_procs_snapshot(&b->procs);
    bench_threads_snapshot(&b->chat_threads, bench_procs_pid(&b->procs, "chat-gateway"));
    while (n >= 0 && n < b->stored && cc_time_mono_us() - progress < DRAIN_IDLE_S * 1000000) {
        usleep(200000);
        n = stored_in_redis(r);
        if (n != seen)
            seen = n, progress = cc_time_mono_us();
    }
    double secs = (double)(progress - t0) / 1e6;
    printf("  %lld stored %.1f s later (%.0f per second while catching up)\n", n, secs,
           secs > 0 ? (double)(n - at_end) / secs : 0);
    if (n != b->stored) {
        printf("  the consumer stalled: nothing stored for %d s\n", DRAIN_IDLE_S);
        return n;
    }
    if (n > at_end) {
        bench_procs_print(&b->procs, "message stored", (long)(n - at_end), secs_since(t0));
        bench_threads_print(&b->chat_threads, "chat-gateway", (long)(n - at_end));
    }
    return n;
}

/* --- report ------------------------------------------------------------------------- */

static const char *verdict(int met)
{
    return met ? "met" : "NOT met";
}

/* One line of the report: `js50` and `js_load50` (0: not shown) are the baselines
 * the p50 is divided by; `rate` 1 shows requests per second. */
static void print_phase(const char *what, struct phase *ph, double js50, double js_load50, int rate)
{
    double p50 = pct(&ph->s, .5), p99 = pct(&ph->s, .99);
    printf("%-52s", what);
    if (rate)
        printf(" %6.0f per second", (double)ph->ok / ph->secs);
    printf("  p50 %.3f ms  p99 %.3f ms  max %.3f ms", p50, p99, pct(&ph->s, 1));
    if (js50 > 0)
        printf("  p50/js_p50 %.2f", p50 / js50);
    if (js_load50 > 0)
        printf(" (p50 / its p50 under load %.2f)", p50 / js_load50);
    if (ph->handler_ms > 0)
        printf("  (in chat-gateway's handler: mean %.3f ms)", ph->handler_ms);
    printf("\n");
}

/* --- main --------------------------------------------------------------------------- */

static int config_from_env(struct bench *b)
{
    b->api = cc_env_str("CC_BENCH_API", NULL), b->chat = cc_env_str("CC_BENCH_CHAT", NULL);
    b->nats = cc_env_str("CC_BENCH_NATS", NULL), b->redis = cc_env_str("CC_BENCH_REDIS", NULL);
    b->login = cc_env_str("CC_BENCH_LOGIN", "admin");
    b->password = cc_env_str("CC_BENCH_PASSWORD", NULL);
    if (!b->api || !b->chat || !b->nats || !b->redis || !b->password ||
        cc_env_int("CC_BENCH_SEQ", 5000, 10, 1000000, &b->seq) ||
        cc_env_int("CC_BENCH_SECONDS", 10, 1, 600, &b->seconds) ||
        cc_env_int("CC_BENCH_FLOOR_SECONDS", 4, 1, 600, &b->floor_seconds) ||
        cc_env_int("CC_BENCH_THREADS", 16, 1, MAX_THREADS, &b->threads) ||
        cc_env_int("CC_BENCH_CONVERSATIONS", 1000, 1, 1000000, &b->conversations)) {
        fprintf(stderr, "set CC_BENCH_API, CC_BENCH_CHAT, CC_BENCH_NATS, CC_BENCH_REDIS and "
                        "CC_BENCH_PASSWORD; the others within range\n");
        return -1;
    }
    bench_procs_init(&b->procs, cc_env_str("CC_BENCH_PIDS", NULL));
    return 0;
}

/* The bare JetStream publish one at a time and from b->threads threads, the bare
 * NATS round trip; each with the CPU it cost. */
static int baselines(struct bench *b, struct baseline *bl)
{
    printf("== baselines\n");
    bench_procs_snapshot(&b->procs);
    int64_t t0 = cc_time_mono_us();
    if (js_baseline(b->nats, &bl->js) != 0)
        return -1;
    bench_procs_print(&b->procs, "JetStream publish, one at a time", 5200, secs_since(t0));
    bench_procs_snapshot(&b->procs), t0 = cc_time_mono_us();
    if (js_load(b->nats, (int)b->threads, (int)b->floor_seconds, &bl->js_load, &bl->js_rate) != 0)
        return -1;
    bench_procs_print(&b->procs, "JetStream publish under load", (long)bl->js_load.n,
                      secs_since(t0));
    return nats_baseline(b->nats, &bl->nats);
}

/* The phases; 0 when each ran. */
static int measure(struct bench *b, struct phase ph[4])
{
    char title[128];
    struct phase warm = {.s = samples_new()};
    int rc = phase_run(b, "HTTP floor: POST to an unknown channel (404), one at a time", 0, 1,
                       (long)b->seq, 0, &ph[0]);
    snprintf(title, sizeof title, "HTTP floor under load, %lld connections", (long long)b->threads);
    rc |= phase_run(b, title, 0, (int)b->threads, 0, b->floor_seconds, &ph[1]);
    rc |= warm.s.us ? phase_run(b, "webhooks: warm-up", 1, 1, WARM_UP, 0, &warm) : -1;
    rc |= phase_run(b, "webhooks one at a time", 1, 1, (long)b->seq, 0, &ph[2]);
    snprintf(title, sizeof title, "webhooks under load, %lld connections for %lld s",
             (long long)b->threads, (long long)b->seconds);
    rc |= phase_run(b, title, 1, (int)b->threads, 0, b->seconds, &ph[3]);
    free(warm.s.us);
    return rc;
}

static void report(struct bench *b, struct phase ph[4], struct baseline *bl, long long in_redis)
{
    double js50 = pct(&bl->js, .5), p99_seq = pct(&ph[2].s, .99), p99_load = pct(&ph[3].s, .99);
    double rate = (double)ph[3].ok / ph[3].secs;
    printf("==\n");
    printf("%-52s  p50 %.3f ms  p99 %.3f ms\n", "baseline JetStream publish + PubAck (file)", js50,
           pct(&bl->js, .99));
    printf("%-52s %6.0f per second  p50 %.3f ms  p99 %.3f ms\n",
           "baseline JetStream publish + PubAck, under load", bl->js_rate, pct(&bl->js_load, .5),
           pct(&bl->js_load, .99));
    printf("%-52s  p50 %.3f ms  p99 %.3f ms\n", "baseline NATS request round trip",
           pct(&bl->nats, .5), pct(&bl->nats, .99));
    print_phase("HTTP floor (404, no JetStream), one at a time", &ph[0], 0, 0, 0);
    print_phase("HTTP floor (404, no JetStream), under load", &ph[1], 0, 0, 1);
    print_phase("webhook to 200, one at a time", &ph[2], js50, 0, 0);
    print_phase("webhook to 200, under load", &ph[3], js50, pct(&bl->js_load, .5), 1);
    printf("answered 200: %ld; stored in Redis: %lld; 5xx %ld, other %ld, transport errors %ld\n",
           b->stored, in_redis, b->bad_5xx, b->bad_other, b->errors);
    printf("goals: >= 5,000 messages/s %s (%.0f); p99 < 10 ms under load %s (%.2f ms); "
           "one at a time %s (%.2f ms)\n",
           verdict(rate >= 5000), rate, verdict(p99_load < 10), p99_load, verdict(p99_seq < 10),
           p99_seq);
}

int main(void)
{
    struct bench b = {0};
    struct phase ph[4] = {0};
    struct baseline bl = {samples_new(), samples_new(), samples_new(), 0};
    struct cc_redis *redis = NULL;
    long long in_redis = -1;
    if (cc_keys_init(cc_env_str("CC_DOMAIN", CC_DOMAIN_DEFAULT)) != CC_OK) {
        fprintf(stderr, "CC_DOMAIN: not a routing domain ([a-z0-9-]{1,32})\n");
        return 2;
    }
    int rc = 2;
    setvbuf(stdout, NULL, _IOLBF, 0); /* keeps run.py's lines and ours in order in a log */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int have_memory = bl.js.us && bl.js_load.us && bl.nats.us;
    for (int i = 0; i < 4; i++)
        ph[i].s = samples_new(), have_memory &= ph[i].s.us != NULL;
    if (!have_memory || config_from_env(&b) != 0 || cc_redis_new(&redis, b.redis, 1) != CC_OK)
        goto out;
    rc = 1;
    if (set_up(&b) != 0 || baselines(&b, &bl) != 0 || measure(&b, ph) != 0) {
        printf("FAILED: set-up, baselines or a phase could not run\n");
        goto out;
    }
    in_redis = await_stored(&b, redis);
    report(&b, ph, &bl, in_redis);
    rc = b.bad_5xx || b.bad_other || b.errors || in_redis != b.stored;
    if (rc)
        printf("FAILED: every webhook must be answered 200 and stored exactly once\n");
out:
    if (redis)
        cc_redis_free(redis);
    for (int i = 0; i < 4; i++)
        free(ph[i].s.us);
    free(bl.js.us), free(bl.js_load.us), free(bl.nats.us);
    curl_global_cleanup();
    cc_nats_library_close();
    return rc;
}
