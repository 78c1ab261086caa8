/* http_client.c - the requests provider.h builds, performed with libcurl:
 * bounded in time and in the size of the answer, never following a redirect
 * (a provider's API answering 3xx is a failure: the channel's credentials go
 * to its api_base_url and nowhere else). Inbound files go through
 * http_fetch_media, which keeps them to where provider_media_source allows
 * (SPEC section 8): redirects followed by hand and checked each, a media
 * host's name resolved here, refused when it resolves to an internal
 * address (cc_netguard) and pinned for the connection (CURLOPT_RESOLVE), so
 * that a second answer of the DNS cannot send the connection elsewhere;
 * curl's open-socket hook checks the address it connects to once more. */
#include "chatgw.h"
#include "cc_netguard.h"
#include "cc_time.h"
#include "provider.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEDIA_MAX_REDIRECTS 3

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

/* One transfer's settings beyond the request. */
struct transfer {
    const char *url;            /* the request's, or a redirect's */
    int headers;                /* 1: send the request's headers (its credentials) */
    struct curl_slist *resolve; /* pinned addresses, may be NULL */
    struct cc_netguard *guard;  /* may be NULL */
    char *redirect;             /* out: a 3xx answer's absolute Location (curl_free'd) */
};

static enum cc_status perform(const struct provider_request *req, struct transfer *t,
                              long timeout_ms, size_t max_bytes, long *status, char **body,
                              size_t *len)
{
    struct sink s = {NULL, 0, max_bytes, 0};
    struct curl_slist *headers = NULL;
    CURL *c = curl_easy_init();
    *status = 0, *body = NULL, *len = 0;
    if (!c)
        return CC_ERR_NOMEM;
    for (int i = 0; t->headers && i < req->n_headers; i++)
        headers = curl_slist_append(headers, req->headers[i]);
    curl_easy_setopt(c, CURLOPT_URL, t->url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 5000 ? timeout_ms : 5000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_bytes);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    if (t->resolve)
        curl_easy_setopt(c, CURLOPT_RESOLVE, t->resolve);
    if (t->guard)
        cc_netguard_curl(c, t->guard); /* also turns following off */
    if (!strcmp(req->method, "POST")) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) {
        char *location = NULL;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
        if (*status >= 300 && *status < 400 &&
            curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &location) == CURLE_OK && location)
            t->redirect = strdup(location);
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    if (s.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
        free(s.data);
        return CC_ERR_TOO_LARGE;
    }
    *body = s.data, *len = s.len;
    return rc == CURLE_OK ? CC_OK : CC_ERR_UNAVAILABLE;
}

enum cc_status http_perform(const struct provider_request *req, long timeout_ms, size_t max_bytes,
                            long *status, char **body, size_t *len)
{
    struct transfer t = {req->url, 1, NULL, NULL, NULL};
    enum cc_status st = perform(req, &t, timeout_ms, max_bytes, status, body, len);
    free(t.redirect);
    return st;
}

/* Resolves the host of media-host URL `url` and pins what it resolved to in
 * *resolve ("host:port:addr,addr"); CC_ERR_FORBIDDEN when any address is
 * internal, CC_ERR_UNAVAILABLE when the name does not resolve now. */
static enum cc_status resolve_public(const char *url, struct curl_slist **resolve, char *why,
                                     size_t whycap)
{
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL, entry[1024];
    struct addrinfo hints = {0}, *res = NULL;
    enum cc_status st = CC_ERR_FORBIDDEN;
    *resolve = NULL;
    hints.ai_family = AF_UNSPEC, hints.ai_socktype = SOCK_STREAM;
    if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        snprintf(why, whycap, "not a URL");
    } else if (getaddrinfo(host, port, &hints, &res) != 0 || !res) {
        snprintf(why, whycap, "%.100s does not resolve", host);
        st = CC_ERR_UNAVAILABLE;
    } else {
        int n = snprintf(entry, sizeof entry, "%s:%s:", host, port);
        st = CC_OK;
        for (struct addrinfo *a = res; a && st == CC_OK; a = a->ai_next) {
            char text[INET6_ADDRSTRLEN] = "";
            const char *kind = cc_netguard_kind(a->ai_addr);
            if (a->ai_family == AF_INET)
                inet_ntop(AF_INET, &((struct sockaddr_in *)a->ai_addr)->sin_addr, text,
                          sizeof text);
            else if (a->ai_family == AF_INET6)
                inet_ntop(AF_INET6, &((struct sockaddr_in6 *)a->ai_addr)->sin6_addr, text,
                          sizeof text);
            if (kind) {
                snprintf(why, whycap, "%.100s resolves to %s, a %s address", host, text, kind);
                st = CC_ERR_FORBIDDEN;
            } else if (text[0] && n < (int)sizeof entry - 48) {
                n += snprintf(entry + n, sizeof entry - (size_t)n,
                              a->ai_family == AF_INET6 ? "%s[%s]" : "%s%s",
                              entry[n - 1] == ':' ? "" : ",", text);
            }
        }
        if (st == CC_OK && !(*resolve = curl_slist_append(NULL, entry)))
            st = CC_ERR_NOMEM;
    }
    if (res)
        freeaddrinfo(res);
    curl_free(host), curl_free(port);
    curl_url_cleanup(u);
    return st;
}

enum cc_status http_fetch_media(const Cc__V1__Channel *ch, const struct provider_request *req,
                                int64_t deadline_us, size_t max_bytes, long *status, char **body,
                                size_t *len, char *why, size_t whycap)
{
    enum provider_type type = provider_type_parse(ch->type);
    char *url = strdup(req->url);
    enum cc_status st = url ? CC_OK : CC_ERR_NOMEM;
    *status = 0, *body = NULL, *len = 0;
    for (int hop = 0; st == CC_OK; hop++) {
        struct cc_netguard guard = {1, ""};
        struct transfer t = {url, provider_same_origin(url, req->url), NULL, &guard, NULL};
        int64_t left_ms = (deadline_us - cc_time_mono_us()) / 1000;
        enum provider_media_source src = provider_media_source(type, ch, url, why, whycap);
        if (src == PROVIDER_MEDIA_REFUSED) {
            st = CC_ERR_FORBIDDEN;
            break;
        }
        if (left_ms <= 0) {
            snprintf(why, whycap, "no time left");
            st = CC_ERR_UNAVAILABLE;
            break;
        }
        if (src == PROVIDER_MEDIA_HOST) { /* a public address only, pinned */
            guard.allow_private = 0;
            st = resolve_public(url, &t.resolve, why, whycap);
        }
        if (st == CC_OK)
            st = perform(req, &t, (long)left_ms, max_bytes, status, body, len);
        curl_slist_free_all(t.resolve);
        if (st != CC_OK && guard.why[0]) {
            snprintf(why, whycap, "%s", guard.why);
            st = CC_ERR_FORBIDDEN;
        }
        if (st != CC_OK || !t.redirect) {
            free(t.redirect);
            break;
        }
        free(*body), *body = NULL, *len = 0;
        free(url);
        url = t.redirect; /* checked like the first one at the top */
        if (hop == MEDIA_MAX_REDIRECTS) {
            snprintf(why, whycap, "more than %d redirects", MEDIA_MAX_REDIRECTS);
            st = CC_ERR_NOT_FOUND;
        }
    }
    free(url);
    if (st != CC_OK) {
        free(*body);
        *body = NULL, *len = 0;
    }
    return st;
}
