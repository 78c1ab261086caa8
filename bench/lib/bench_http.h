/* bench_http.h - one HTTP request with libcurl for the benchmarks that talk
 * to a service or a stand-in: the answer's status and body (grown as
 * needed), optional extra headers, reusable handles for sequential timing. */
#ifndef BENCH_HTTP_H
#define BENCH_HTTP_H

#include <curl/curl.h>
#include <stddef.h>

struct bench_buf {
    char *data; /* NUL-terminated; NULL before the first byte */
    size_t len, cap;
};

void bench_buf_free(struct bench_buf *b);

/* `method` `url` with `body` (NULL: none) and the extra `headers` (NULL-ended
 * list, may be NULL) on handle `h` (kept alive between calls; NULL: a fresh
 * one). The answer's body replaces `out`'s (may be NULL). Returns the HTTP
 * status, or -1 when no answer came. */
long bench_http(CURL *h, const char *method, const char *url, const char *body,
                const char *const *headers, struct bench_buf *out);

/* A counter or gauge `name` (with its labels, e.g. `x_total{result="written"}`)
 * summed over the /metrics of each base URL in `bases` (comma-separated);
 * -1 when one could not be read. */
double bench_metric(const char *bases, const char *name);

#endif
