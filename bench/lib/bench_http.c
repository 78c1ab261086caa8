/* bench_http.c - libcurl requests for the benchmarks (bench_http.h). */
#include "bench_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bench_buf_free(struct bench_buf *b)
{
    free(b->data);
    *b = (struct bench_buf){0};
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    struct bench_buf *b = arg;
    size_t len = size * n;
    if (b->len + len + 1 > b->cap) {
        size_t cap = (b->len + len + 1) * 2;
        char *grown = realloc(b->data, cap);
        if (!grown)
            return 0; /* curl fails the transfer */
        b->data = grown, b->cap = cap;
    }
    memcpy(b->data + b->len, p, len);
    b->len += len;
    b->data[b->len] = '\0';
    return len;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p, (void)arg;
    return size * n;
}

long bench_http(CURL *h, const char *method, const char *url, const char *body,
                const char *const *headers, struct bench_buf *out)
{
    CURL *own = h ? NULL : curl_easy_init();
    struct curl_slist *hdr = NULL;
    long code = -1;
    CURL *c = h ? h : own;
    if (!c)
        return -1;
    curl_easy_reset(c);
    for (int i = 0; headers && headers[i]; i++)
        hdr = curl_slist_append(hdr, headers[i]);
    if (out)
        out->len = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, out ? on_data : discard);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    if (curl_easy_perform(c) != CURLE_OK ||
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK)
        code = -1;
    if (out && !out->data && !(out->data = calloc(1, 1)))
        code = -1;
    curl_slist_free_all(hdr);
    if (own)
        curl_easy_cleanup(own);
    return code;
}

/* `name`'s value in a Prometheus text answer; 0 when absent (a labelled
 * counter appears once it was first counted). */
static double metric_in(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (!strncmp(p, name, n) && p[n] == ' ')
            return strtod(p + n + 1, NULL);
    return 0;
}

double bench_metric(const char *bases, const char *name)
{
    struct bench_buf b = {0};
    double sum = 0;
    char url[512];
    for (const char *p = bases; p && *p;) {
        size_t n = strcspn(p, ",");
        snprintf(url, sizeof url, "%.*s/metrics", (int)n, p);
        double v =
            bench_http(NULL, "GET", url, NULL, NULL, &b) == 200 ? metric_in(b.data, name) : -1;
        if (v < 0) {
            sum = -1;
            break;
        }
        sum += v;
        p += n + (p[n] == ',');
    }
    bench_buf_free(&b);
    return sum;
}
