/* bench_api.c - speed of sign-in and of an authenticated GET through
 * api-gateway, printed beside a bare NATS request round trip and a bare Redis
 * EVALSHA round trip measured in the same run on the same servers.
 *
 * Configured by environment (bench/run.py starts the system and sets them):
 * CC_BENCH_API (http://host:port), CC_BENCH_NATS, CC_BENCH_REDIS,
 * CC_BENCH_LOGIN, CC_BENCH_PASSWORD, CC_BENCH_SECONDS (5), CC_BENCH_CLIENTS (8). */
#include "bench_lib.h"
#include "cc_config.h"
#include "cc_nats.h"
#include "cc_redis.h"
#include "cc_time.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SAMPLES 2000000

/* --- HTTP load ---------------------------------------------------------------------- */

struct client {
    pthread_t thread;
    const char *url;
    const char *body;     /* POST body, or NULL for GET */
    const char *token;    /* bearer, or NULL */
    int64_t until_us;
    struct samples s;
    long failures;
    char answer[4096];
    size_t answer_len;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    struct client *c = arg;
    size_t len = size * n, room = sizeof c->answer - 1 - c->answer_len;
    memcpy(c->answer + c->answer_len, p, len < room ? len : room);
    c->answer_len += len < room ? len : room;
    c->answer[c->answer_len] = '\0';
    return len;
}

static void *client_loop(void *arg)
{
    struct client *c = arg;
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    char auth[256];
    if (c->token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->token);
        hdr = curl_slist_append(hdr, auth);
    }
    curl_easy_setopt(h, CURLOPT_URL, c->url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    if (c->body)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->body);
    do { /* at least once: sign_in sends exactly one request */
        long code = 0;
        int64_t t0 = cc_time_mono_us();
        c->answer_len = 0;
        if (curl_easy_perform(h) != CURLE_OK ||
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK || code != 200)
            c->failures++;
        else
            add(&c->s, (double)(cc_time_mono_us() - t0));
    } while (cc_time_mono_us() < c->until_us);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return NULL;
}

/* Runs `n` clients for `seconds`; merges their samples into `all`. */
static long run_clients(int n, int seconds, const char *url, const char *body, const char *token,
                        struct samples *all)
{
    struct client *cs = calloc((size_t)n, sizeof *cs);
    long failures = 0;
    int64_t until = cc_time_mono_us() + (int64_t)seconds * 1000000;
    for (int i = 0; i < n; i++) {
        cs[i] = (struct client){.url = url, .body = body, .token = token, .until_us = until};
        cs[i].s.us = malloc(sizeof(double) * MAX_SAMPLES / (size_t)n);
        pthread_create(&cs[i].thread, NULL, client_loop, &cs[i]);
    }
    for (int i = 0; i < n; i++) {
        pthread_join(cs[i].thread, NULL);
        for (size_t j = 0; j < cs[i].s.n; j++)
            add(all, cs[i].s.us[j]);
        failures += cs[i].failures;
        free(cs[i].s.us);
    }
    free(cs);
    return failures;
}

/* Signs in once and copies the token out of the answer. */
static int sign_in(const char *url, const char *body, char *token, size_t cap)
{
    struct client c = {.url = url, .body = body, .until_us = 0};
    c.s.us = malloc(sizeof(double));
    client_loop(&c);
    free(c.s.us);
    const char *p = strstr(c.answer, "\"token\":\"");
    if (!p)
        return -1;
    p += 9;
    size_t n = strcspn(p, "\"");
    if (n >= cap)
        return -1;
    memcpy(token, p, n);
    token[n] = '\0';
    return 0;
}

int main(void)
{
    const char *api = cc_env_str("CC_BENCH_API", NULL), *nats = cc_env_str("CC_BENCH_NATS", NULL),
               *redis = cc_env_str("CC_BENCH_REDIS", NULL);
    const char *login = cc_env_str("CC_BENCH_LOGIN", "admin"),
               *password = cc_env_str("CC_BENCH_PASSWORD", NULL);
    int64_t seconds, clients;
    char url[256], me[256], body[512], token[128];
    struct samples nb = samples_new(), rb = samples_new(), li = samples_new(),
                   get = samples_new(), one = samples_new();
    if (!api || !nats || !redis || !password ||
        cc_env_int("CC_BENCH_SECONDS", 5, 1, 600, &seconds) ||
        cc_env_int("CC_BENCH_CLIENTS", 8, 1, 256, &clients)) {
        fprintf(stderr, "set CC_BENCH_API, CC_BENCH_NATS, CC_BENCH_REDIS, CC_BENCH_PASSWORD\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    snprintf(url, sizeof url, "%s/api/v1/auth/login", api);
    snprintf(me, sizeof me, "%s/api/v1/me", api);
    snprintf(body, sizeof body, "{\"login\":\"%s\",\"password\":\"%s\"}", login, password);
    if (nats_baseline(nats, &nb) || redis_baseline(redis, &rb) ||
        sign_in(url, body, token, sizeof token)) {
        fprintf(stderr, "bench: baseline or first sign-in failed\n");
        return 1;
    }
    long lf = run_clients((int)clients, (int)seconds, url, body, NULL, &li);
    long gf = run_clients(1, (int)seconds, me, NULL, token, &one);
    gf += run_clients((int)clients, (int)seconds, me, NULL, token, &get);
    double base = pct(&nb, .5) + pct(&rb, .5);
    struct samples *runs[] = {&one, &get};
    long long counts[] = {1, clients};
    printf("baseline NATS request round trip      p50 %.3f ms  p99 %.3f ms\n", pct(&nb, .5),
           pct(&nb, .99));
    printf("baseline Redis EVALSHA round trip     p50 %.3f ms  p99 %.3f ms\n", pct(&rb, .5),
           pct(&rb, .99));
    printf("sign-in (argon2id), %lld clients       %.1f per second  p50 %.1f ms  p99 %.1f ms  "
           "failures %ld\n", (long long)clients, (double)li.n / (double)seconds, pct(&li, .5),
           pct(&li, .99), lf);
    for (int i = 0; i < 2; i++)
        printf("authenticated GET /api/v1/me, %lld clients  %.0f per second  p50 %.3f ms  "
               "p99 %.3f ms  ratio p50/(NATS p50 + Redis p50) %.2f\n", counts[i],
               (double)runs[i]->n / (double)seconds, pct(runs[i], .5), pct(runs[i], .99),
               pct(runs[i], .5) / base);
    printf("GET failures %ld\n", gf);
    free(nb.us), free(rb.us), free(li.us), free(get.us), free(one.us);
    curl_global_cleanup();
    cc_nats_library_close();
    return lf || gf ? 1 : 0;
}
