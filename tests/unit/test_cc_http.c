/* Unit tests for routing patterns, the request pool, the growable buffer,
 * and deferred answers on a real server (long-polls that hold no thread). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cc_buf.h"
#include "cc_files.h"
#include "cc_http.h"
#include "cc_pool.h"

static void match_fills_parameters_in_order(void **state)
{
    struct cc_pool pool = CC_POOL_INIT;
    const char *params[CC_HTTP_MAX_PARAMS];
    int n;
    (void)state;
    assert_true(cc_http_match("/api/v1/agents/{id}/skills/{skill}", "/api/v1/agents/u1/skills/s9",
                              &pool, params, &n));
    assert_int_equal(n, 2);
    assert_string_equal(params[0], "u1");
    assert_string_equal(params[1], "s9");
    assert_true(cc_http_match("/healthz", "/healthz", &pool, params, &n));
    assert_int_equal(n, 0);
    cc_pool_release(&pool);
}

static void match_refuses_other_paths(void **state)
{
    struct cc_pool pool = CC_POOL_INIT;
    const char *params[CC_HTTP_MAX_PARAMS];
    int n;
    (void)state;
    assert_false(cc_http_match("/api/v1/users/{id}", "/api/v1/users/", &pool, params, &n));
    assert_false(cc_http_match("/api/v1/users/{id}", "/api/v1/users/a/b", &pool, params, &n));
    assert_false(cc_http_match("/api/v1/users", "/api/v1/users/x", &pool, params, &n));
    assert_false(cc_http_match("/api/v1/users/{id}", "/api/v1/teams/x", &pool, params, &n));
    assert_false(cc_http_match("/healthz", "/healthzz", &pool, params, &n));
    cc_pool_release(&pool);
}

static void pool_gives_aligned_zeroed_memory_and_large_blocks(void **state)
{
    struct cc_pool pool = CC_POOL_INIT;
    (void)state;
    for (int i = 0; i < 1000; i++) {
        unsigned char *p = cc_pool_alloc(&pool, (size_t)(i % 97) + 1);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
        assert_int_equal(p[0], 0);
    }
    char *big = cc_pool_alloc(&pool, 100000);
    assert_non_null(big);
    memset(big, 'x', 100000);
    assert_string_equal(cc_pool_printf(&pool, "%s-%d", "a", 7), "a-7");
    assert_string_equal(cc_pool_strndup(&pool, "abcdef", 3), "abc");
    assert_null(cc_pool_strdup(&pool, NULL));
    cc_pool_release(&pool);
    assert_null(pool.head);
}

static void buf_grows_and_detaches(void **state)
{
    struct cc_buf b = CC_BUF_INIT;
    size_t len;
    (void)state;
    for (int i = 0; i < 1000; i++)
        assert_int_equal(cc_buf_addf(&b, "%d,", i % 10), CC_OK);
    assert_int_equal(b.len, 2000);
    assert_int_equal(b.data[b.len], '\0');
    char *s = cc_buf_detach(&b, &len);
    assert_int_equal(len, 2000);
    assert_memory_equal(s, "0,1,2,", 6);
    assert_null(b.data);
    free(s);
    s = cc_buf_detach(&b, &len);
    assert_string_equal(s, "");
    assert_int_equal(len, 0);
    free(s);
}

/* --- deferred answers ------------------------------------------------------------------- */

#define PARKED 40 /* far more than the server's 2 threads */

struct parking {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct cc_http_deferred *d[PARKED];
    int n;
};

/* /later: parked until the test resumes every one of them together */
static void later(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    struct parking *p = arg;
    struct cc_http_deferred *d = cc_http_defer(req);
    if (!d)
        return cc_http_text(resp, 500, "text/plain", "no defer", 8);
    pthread_mutex_lock(&p->lock);
    p->d[p->n++] = d;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

/* /now: deferred, then answered before the handler even returns */
static void now(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    struct cc_http_deferred *d = cc_http_defer(req);
    struct cc_http_resp r = {0};
    (void)arg, (void)resp;
    cc_http_text(&r, 200, "text/plain", "at once", 7);
    cc_http_resume(d, &r);
}

static int free_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

struct fetch {
    char url[128];
    long status;
    char body[64];
    size_t len;
};

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
    struct fetch *f = arg;
    size_t room = sizeof f->body - 1 - f->len, take = size * n < room ? size * n : room;
    memcpy(f->body + f->len, data, take);
    f->len += take;
    return size * n;
}

static void *get(void *arg)
{
    struct fetch *f = arg;
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, f->url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &f->status);
    curl_easy_cleanup(c);
    return NULL;
}

static void deferred_answers_hold_no_thread(void **state)
{
    struct parking p = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, 0};
    struct cc_http_route routes[] = {{"GET", "/later", later, &p, 0}, {"GET", "/now", now, &p, 0}};
    char addr[32];
    int port = free_port();
    struct cc_http *h;
    struct fetch f[PARKED + 1];
    pthread_t t[PARKED + 1];
    (void)state;
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    struct cc_http_config cfg = {.addr = addr, .max_body = 4096, .max_large_body = 4096,
                                 .pool_threads = 2};
    assert_int_equal(cc_http_start(&h, &cfg, routes, 2), CC_OK);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    for (int i = 0; i <= PARKED; i++) {
        memset(&f[i], 0, sizeof f[i]);
        snprintf(f[i].url, sizeof f[i].url, "http://127.0.0.1:%d/%s", port,
                 i == PARKED ? "now" : "later");
        assert_int_equal(pthread_create(&t[i], NULL, get, &f[i]), 0);
    }
    /* every /later is parked at once on two threads: none holds one */
    pthread_mutex_lock(&p.lock);
    while (p.n < PARKED)
        pthread_cond_wait(&p.cond, &p.lock);
    pthread_mutex_unlock(&p.lock);
    for (int i = 0; i < PARKED; i++) {
        struct cc_http_resp r = {0};
        char body[32];
        snprintf(body, sizeof body, "answer %d", i);
        cc_http_text(&r, 202, "text/plain", body, strlen(body));
        cc_http_resume(p.d[i], &r);
    }
    int answers[PARKED] = {0};
    for (int i = 0; i <= PARKED; i++) {
        pthread_join(t[i], NULL);
        if (i == PARKED) {
            assert_int_equal(f[i].status, 200);
            assert_string_equal(f[i].body, "at once");
            continue;
        }
        int k;
        assert_int_equal(f[i].status, 202);
        assert_int_equal(sscanf(f[i].body, "answer %d", &k), 1);
        answers[k]++;
    }
    for (int i = 0; i < PARKED; i++)
        assert_int_equal(answers[i], 1); /* each parked answer went to exactly one client */
    cc_http_stop(h, 1000);
    curl_global_cleanup();
}

/* a thread-per-connection server cannot defer: the handler answers at once */
static void cannot_defer(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    (void)arg;
    if (cc_http_defer(req))
        cc_http_text(resp, 500, "text/plain", "deferred", 8);
    else
        cc_http_text(resp, 200, "text/plain", "answered", 8);
}

static void a_thread_per_connection_server_does_not_defer(void **state)
{
    struct cc_http_route routes[] = {{"GET", "/x", cannot_defer, NULL, 0}};
    char addr[32];
    struct cc_http *h;
    struct fetch f = {0};
    int port = free_port();
    (void)state;
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    struct cc_http_config cfg = {.addr = addr, .max_body = 4096, .max_large_body = 4096};
    assert_int_equal(cc_http_start(&h, &cfg, routes, 1), CC_OK);
    snprintf(f.url, sizeof f.url, "http://127.0.0.1:%d/x", port);
    get(&f);
    assert_int_equal(f.status, 200);
    assert_string_equal(f.body, "answered");
    cc_http_stop(h, 100);
}

/* --- strict JSON bodies ------------------------------------------------------------------ */

static const char *strict(const char *text, size_t len)
{
    cJSON *j = NULL;
    const char *why = cc_json_parse_strict(text, len, &j);
    if (why)
        assert_null(j);
    else
        assert_non_null(j);
    cJSON_Delete(j);
    return why;
}

#define STRICT(lit) strict(lit, sizeof lit - 1)

static void json_bodies_are_one_whole_value(void **state)
{
    (void)state;
    assert_null(STRICT("{\"a\":1}"));
    assert_null(STRICT(" {\"a\":[1,2]} \r\n\t"));
    assert_non_null(STRICT("{\"a\":1}}"));
    assert_non_null(STRICT("{\"a\":1} x"));
    assert_non_null(STRICT("{\"a\":1}{}"));
    assert_non_null(STRICT("{\"a\":"));
    assert_non_null(STRICT(""));
}

static void json_strings_never_hide_a_nul(void **state)
{
    (void)state;
    assert_non_null(STRICT("{\"password\":\"pw\\u0000junk\"}"));
    assert_non_null(STRICT("{\"k\\u0000x\":1}"));
    assert_non_null(STRICT("{\"text\":\"ab\0cd\"}"));
    assert_non_null(STRICT("{\"a\":1}\0"));
    /* an escaped backslash followed by u0000 is text, not a NUL */
    assert_null(STRICT("{\"text\":\"a\\\\u0000b\"}"));
    assert_null(STRICT("{\"text\":\"\\u0001 \\\" ok\"}"));
    assert_non_null(STRICT("{\"text\":\"\\u0001 \\\" \\u00000\"}"));
    assert_non_null(STRICT("\"\xff\""));
}

static void sniffing_never_calls_binary_text(void **state)
{
    (void)state;
    assert_string_equal(cc_files_sniff("hello\n\tworld", 12), "text/plain");
    assert_string_equal(cc_files_sniff("Dzie\xc5\x84 dobry", 12), "text/plain");
    assert_string_equal(cc_files_sniff("ab\0cd", 5), "application/octet-stream");
    assert_string_equal(cc_files_sniff("\0\0\0\0", 4), "application/octet-stream");
    assert_string_equal(cc_files_sniff("caf\xff", 4), "application/octet-stream");
    assert_string_equal(cc_files_sniff("", 0), "application/octet-stream");
    char big[4200];
    memset(big, 'a', sizeof big);
    memcpy(big + 4095, "\xc5\x84", 2); /* a character across the 4096-byte window */
    assert_string_equal(cc_files_sniff(big, sizeof big), "text/plain");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(match_fills_parameters_in_order),
        cmocka_unit_test(match_refuses_other_paths),
        cmocka_unit_test(pool_gives_aligned_zeroed_memory_and_large_blocks),
        cmocka_unit_test(buf_grows_and_detaches),
        cmocka_unit_test(deferred_answers_hold_no_thread),
        cmocka_unit_test(a_thread_per_connection_server_does_not_defer),
        cmocka_unit_test(json_bodies_are_one_whole_value),
        cmocka_unit_test(json_strings_never_hide_a_nul),
        cmocka_unit_test(sniffing_never_calls_binary_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
