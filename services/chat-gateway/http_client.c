/* http_client.c - the requests provider.h builds, performed with libcurl:
 * bounded in time and in the size of the answer. */
#include "chatgw.h"
#include "provider.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

struct sink {
    char *data;
    size_t len, max;
    int too_large;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    struct sink *s = arg;
    size_t add = size * n;
    if (s->len + add > s->max) {
        s->too_large = 1;
        return 0; /* aborts the transfer */
    }
    char *more = realloc(s->data, s->len + add + 1);
    if (!more)
        return 0;
    memcpy(more + s->len, p, add);
    s->data = more, s->len += add;
    s->data[s->len] = 0;
    return add;
}

enum cc_status http_perform(const struct provider_request *req, long timeout_ms, size_t max_bytes,
                            long *status, char **body, size_t *len)
{
    struct sink s = {NULL, 0, max_bytes, 0};
    struct curl_slist *headers = NULL;
    CURL *c = curl_easy_init();
    *status = 0, *body = NULL, *len = 0;
    if (!c)
        return CC_ERR_NOMEM;
    for (int i = 0; i < req->n_headers; i++)
        headers = curl_slist_append(headers, req->headers[i]);
    curl_easy_setopt(c, CURLOPT_URL, req->url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 5000 ? timeout_ms : 5000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    if (!strcmp(req->method, "POST")) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    if (s.too_large) {
        free(s.data);
        return CC_ERR_TOO_LARGE;
    }
    *body = s.data, *len = s.len;
    return rc == CURLE_OK ? CC_OK : CC_ERR_UNAVAILABLE;
}
