/* creatio.c - Creatio over HTTP with libcurl: logins, requests, paging
 * (creatio.h). The shapes of URLs and answers are odata.c's. */
#include "creatio.h"
#include "cc_buf.h"
#include "cc_log.h"
#include "cc_netguard.h"
#include "cc_time.h"
#include "odata.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MAX_ANSWER (16 * 1024 * 1024) /* bytes of one answer kept */
#define TOKEN_MARGIN_MS 30000         /* a token is renewed this long before it expires */

struct creatio {
    char *url, *prefix, *user, *password, *identity_url, *client_id, *client_secret, *ca_file;
    int oauth, allow_private;
    long timeout_ms, max_wait_ms;
    pthread_mutex_t lock; /* guards what follows; held while logging in */
    uint64_t generation;  /* grows with every login */
    int logged_in;
    struct odata_cookies cookies; /* forms */
    char token[4096];             /* oauth */
    int64_t token_until_ms;
};

/* What one exchange collects: the body (capped) and the headers we read. */
struct exchange {
    struct cc_buf body;
    int too_large;
    int64_t retry_after_ms;
    struct odata_cookies *jar; /* NULL: Set-Cookie ignored */
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct exchange *x = arg;
    if (x->body.len + size * n > MAX_ANSWER) {
        x->too_large = 1;
        return 0;
    }
    return cc_buf_add(&x->body, p, size * n) == CC_OK ? size * n : 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    struct exchange *x = arg;
    size_t len = size * n;
    char v[128];
    if (x->jar)
        odata_cookie_take(x->jar, p, len);
    if (len > 12 && len < 12 + sizeof v && !strncasecmp(p, "retry-after:", 12)) {
        memcpy(v, p + 12, len - 12);
        v[len - 12] = 0;
        v[strcspn(v, "\r\n")] = 0;
        x->retry_after_ms = odata_retry_after_ms(v, cc_time_now_ms());
    }
    return len;
}

/* One HTTP exchange with `headers`; fills a (status, body, retry_after). */
static enum cc_status perform(struct creatio *c, const char *method, const char *url,
                              const char *body, struct curl_slist *headers,
                              struct odata_cookies *jar, struct creatio_answer *a)
{
    struct exchange x = {CC_BUF_INIT, 0, 0, jar};
    struct cc_netguard guard = {c->allow_private, ""};
    CURL *h = curl_easy_init();
    if (!h)
        return CC_ERR_NOMEM;
    cc_netguard_curl(h, &guard);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms < 5000 ? c->timeout_ms : 5000L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (c->ca_file && c->ca_file[0])
        curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    } else if (!strcmp(method, "GET")) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    CURLcode rc = curl_easy_perform(h);
    enum cc_status st = CC_OK;
    if (rc == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->status);
        a->retry_after_ms = x.retry_after_ms > 0 ? x.retry_after_ms : 0;
        a->len = x.body.len, a->body = cc_buf_detach(&x.body, &a->len);
    } else {
        snprintf(a->error, sizeof a->error, "%s",
                 x.too_large    ? "answer too large"
                 : guard.why[0] ? guard.why
                                : curl_easy_strerror(rc));
        st = rc == CURLE_OPERATION_TIMEDOUT ? CC_ERR_TIMEOUT : CC_ERR_UNAVAILABLE;
    }
    cc_buf_release(&x.body);
    curl_easy_cleanup(h);
    return st;
}

void creatio_answer_release(struct creatio_answer *a)
{
    free(a->body);
    memset(a, 0, sizeof *a);
}

static char *dup_or_null(const char *s)
{
    return s && s[0] ? strdup(s) : NULL;
}

enum cc_status creatio_new(struct creatio **out, const struct creatio_config *cfg)
{
    *out = NULL;
#define NONE(s) (!(s) || !(s)[0])
    if (NONE(cfg->url) ||
        (cfg->oauth ? NONE(cfg->identity_url) || NONE(cfg->client_id) || NONE(cfg->client_secret)
                    : NONE(cfg->user) || NONE(cfg->password)))
        return CC_ERR_INVALID;
    struct creatio *c = calloc(1, sizeof *c);
    if (!c)
        return CC_ERR_NOMEM;
    c->url = dup_or_null(cfg->url), c->prefix = strdup(cfg->odata_prefix ? cfg->odata_prefix : "");
    c->user = dup_or_null(cfg->user), c->password = dup_or_null(cfg->password);
    c->identity_url = dup_or_null(cfg->identity_url), c->client_id = dup_or_null(cfg->client_id);
    c->client_secret = dup_or_null(cfg->client_secret), c->ca_file = dup_or_null(cfg->ca_file);
    c->oauth = cfg->oauth, c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 10000;
    c->max_wait_ms = cfg->max_wait_ms, c->allow_private = cfg->allow_private;
    pthread_mutex_init(&c->lock, NULL);
    if (!c->url || !c->prefix) {
        creatio_free(c);
        return CC_ERR_NOMEM;
    }
    *out = c;
    return CC_OK;
}

void creatio_free(struct creatio *c)
{
    if (!c)
        return;
    free(c->url), free(c->prefix), free(c->user), free(c->password), free(c->identity_url);
    free(c->client_id), free(c->client_secret), free(c->ca_file);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* Forms login; on success the new cookies replace the old. Lock held. */
static enum cc_status login_forms(struct creatio *c, struct creatio_answer *a)
{
    struct odata_cookies jar = {0};
    struct curl_slist *h = NULL;
    char url[1024], *body = NULL;
    cJSON *j = cJSON_CreateObject();
    enum cc_status st = CC_ERR_NOMEM;
    if (!j || !cJSON_AddStringToObject(j, "UserName", c->user) ||
        !cJSON_AddStringToObject(j, "UserPassword", c->password) ||
        !(body = cJSON_PrintUnformatted(j)))
        goto out;
    snprintf(url, sizeof url, "%s/ServiceModel/AuthService.svc/Login", c->url);
    h = curl_slist_append(h, "Content-Type: application/json; charset=utf-8");
    h = curl_slist_append(h, "Accept: application/json");
    h = curl_slist_append(h, "ForceUseSession: true");
    st = perform(c, "POST", url, body, h, &jar, a);
    if (st != CC_OK)
        goto out;
    st = CC_ERR_UNAUTHORIZED; /* a bad password is HTTP 200 with "Code":1 */
    if (a->status != 200)
        snprintf(a->error, sizeof a->error, "login: HTTP %ld", a->status);
    else if (odata_login_ok(a->body, a->len, a->error, sizeof a->error))
        st = CC_OK;
    if (st == CC_OK && !odata_cookie_get(&jar, "BPMCSRF"))
        CC_DEBUG("creatio: login set no BPMCSRF cookie");
    if (st == CC_OK)
        c->cookies = jar;
out:
    curl_slist_free_all(h);
    free(body);
    cJSON_Delete(j);
    return st;
}

/* OAuth 2.0 client credentials; on success the token is kept. Lock held. */
static enum cc_status login_oauth(struct creatio *c, struct creatio_answer *a)
{
    struct cc_buf form = CC_BUF_INIT;
    struct curl_slist *h = NULL;
    char url[1024];
    int64_t expires_s = 0;
    enum cc_status st = CC_ERR_NOMEM;
    if (cc_buf_adds(&form, "grant_type=client_credentials&client_id=") != CC_OK ||
        odata_pct(&form, c->client_id) != CC_OK || cc_buf_adds(&form, "&client_secret=") != CC_OK ||
        odata_pct(&form, c->client_secret) != CC_OK)
        goto out;
    snprintf(url, sizeof url, "%s/connect/token", c->identity_url);
    h = curl_slist_append(h, "Content-Type: application/x-www-form-urlencoded");
    h = curl_slist_append(h, "Accept: application/json");
    st = perform(c, "POST", url, form.data, h, NULL, a);
    if (st != CC_OK)
        goto out;
    st = CC_ERR_UNAUTHORIZED;
    if (a->status != 200) {
        odata_error_message(a->body, a->len, a->error, sizeof a->error);
        if (!a->error[0])
            snprintf(a->error, sizeof a->error, "token: HTTP %ld", a->status);
    } else if (odata_token_parse(a->body, a->len, c->token, sizeof c->token, &expires_s) != CC_OK) {
        snprintf(a->error, sizeof a->error, "unreadable token answer");
    } else {
        int64_t life = expires_s * 1000;
        c->token_until_ms =
            cc_time_now_ms() + (life > 2 * TOKEN_MARGIN_MS ? life - TOKEN_MARGIN_MS : life / 2);
        st = CC_OK;
    }
out:
    curl_slist_free_all(h);
    cc_buf_release(&form);
    return st;
}

/* Makes sure a session or token is there (logging in when not, or when
 * the one of `stale_gen` was refused) and builds the request's headers. */
static enum cc_status authorize(struct creatio *c, uint64_t stale_gen, int drop,
                                struct curl_slist **h, uint64_t *gen, struct creatio_answer *a)
{
    struct cc_buf line = CC_BUF_INIT;
    enum cc_status st = CC_OK;
    pthread_mutex_lock(&c->lock);
    if (drop && c->generation == stale_gen)
        c->logged_in = 0;
    if (c->oauth && c->logged_in && cc_time_now_ms() >= c->token_until_ms)
        c->logged_in = 0;
    if (!c->logged_in) {
        struct creatio_answer la = {0};
        st = c->oauth ? login_oauth(c, &la) : login_forms(c, &la);
        if (st != CC_OK)
            snprintf(a->error, sizeof a->error, "%s", la.error);
        creatio_answer_release(&la);
        c->logged_in = st == CC_OK;
        c->generation++;
    }
    *gen = c->generation;
    if (st == CC_OK && c->oauth) {
        st = cc_buf_addf(&line, "Authorization: Bearer %s", c->token);
    } else if (st == CC_OK) {
        const char *csrf = odata_cookie_get(&c->cookies, "BPMCSRF");
        st = odata_cookie_header(&c->cookies, &line);
        if (st == CC_OK && line.data)
            *h = curl_slist_append(*h, line.data);
        cc_buf_release(&line);
        if (st == CC_OK && csrf)
            st = cc_buf_addf(&line, "BPMCSRF: %s", csrf);
    }
    pthread_mutex_unlock(&c->lock);
    if (st == CC_OK && line.data)
        *h = curl_slist_append(*h, line.data);
    cc_buf_release(&line);
    return st;
}

enum cc_status creatio_request(struct creatio *c, const char *method, const char *path,
                               const char *body, const char *header, struct creatio_answer *a)
{
    char url[8192];
    uint64_t gen = 0;
    int relogged = 0, waited = 0;
    memset(a, 0, sizeof *a);
    if ((size_t)snprintf(url, sizeof url, "%s%s/%s", c->url, c->prefix, path) >= sizeof url)
        return CC_ERR_INVALID;
    for (;;) {
        struct curl_slist *h = NULL;
        h = curl_slist_append(h, "Accept: application/json");
        h = curl_slist_append(
            h, "Content-Type: application/json; charset=utf-8; IEEE754Compatible=true");
        h = curl_slist_append(h, "ForceUseSession: true");
        if (header)
            h = curl_slist_append(h, header);
        enum cc_status st = authorize(c, gen, relogged == 1, &h, &gen, a);
        if (st == CC_OK) {
            creatio_answer_release(a);
            st = perform(c, method, url, body, h, NULL, a);
        }
        curl_slist_free_all(h);
        if (st != CC_OK)
            return st;
        if (a->status == 401 && !relogged) { /* the session expired: log in again, once */
            relogged = 1;
            continue;
        }
        relogged = 2;
        if ((a->status == 429 || a->status == 503) && !waited && a->retry_after_ms > 0 &&
            a->retry_after_ms <= c->max_wait_ms) {
            waited = 1;
            usleep((useconds_t)a->retry_after_ms * 1000);
            continue;
        }
        if (a->status >= 400)
            odata_error_message(a->body, a->len, a->error, sizeof a->error);
        if (a->status >= 400 && !a->error[0])
            snprintf(a->error, sizeof a->error, "HTTP %ld", a->status);
        return CC_OK;
    }
}

enum cc_status creatio_status(const struct creatio_answer *a)
{
    long s = a->status;
    if (s >= 200 && s < 300)
        return CC_OK;
    if (s == 401 || s == 403)
        return CC_ERR_UNAUTHORIZED;
    if (s == 404)
        return CC_ERR_NOT_FOUND;
    if (s == 429)
        return CC_ERR_RATE_LIMITED;
    if (s >= 400 && s < 500)
        return CC_ERR_INVALID;
    return CC_ERR_UNAVAILABLE;
}

/* The path of nextLink `next` under our OData root, re-encoded; 0 when it
 * points elsewhere (an answer may not send us to another host). */
static int next_path(struct creatio *c, const char *next, struct cc_buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t ul = strlen(c->url), pl = strlen(c->prefix);
    if (strncmp(next, c->url, ul) || strncmp(next + ul, c->prefix, pl) || next[ul + pl] != '/')
        return 0;
    for (const unsigned char *p = (const unsigned char *)next + ul + pl + 1; *p; p++) {
        char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
        int bad = *p <= 0x20 || *p >= 0x7f || strchr("\"<>\\^`{|}", *p);
        if (cc_buf_add(out, bad ? e : (const char *)p, bad ? 3 : 1) != CC_OK)
            return 0;
    }
    return out->data != NULL;
}

/* One page of a list into `items`; *more set to the next path or cleared. */
static enum cc_status list_page(struct creatio *c, const char *path, size_t max_items, cJSON *items,
                                struct cc_buf *more, size_t *got, struct creatio_answer *a)
{
    cJSON *root = NULL, *values = NULL, *e;
    const char *next = NULL;
    enum cc_status st = creatio_request(c, "GET", path, NULL, NULL, a);
    if (st != CC_OK || (st = creatio_status(a)) != CC_OK)
        return st;
    if (odata_parse_list(a->body, a->len, &root, &values, &next) != CC_OK) {
        snprintf(a->error, sizeof a->error, "unreadable list answer");
        return CC_ERR_INTERNAL;
    }
    *got = 0;
    cJSON_ArrayForEach(e, values)
    {
        if ((size_t)cJSON_GetArraySize(items) >= max_items)
            break;
        cJSON *copy = cJSON_Duplicate(e, 1);
        if (!copy || !cJSON_AddItemToArray(items, copy)) {
            cJSON_Delete(copy);
            st = CC_ERR_NOMEM;
            break;
        }
        (*got)++;
    }
    cc_buf_release(more);
    if (st == CC_OK && next && !next_path(c, next, more)) {
        CC_WARN("creatio: nextLink outside the site ignored");
        cc_buf_release(more);
    }
    cJSON_Delete(root);
    return st;
}

enum cc_status creatio_list(struct creatio *c, const char *path, int page, size_t max_items,
                            cJSON **items, struct creatio_answer *a)
{
    struct cc_buf cur = CC_BUF_INIT, more = CC_BUF_INIT;
    enum cc_status st = CC_ERR_NOMEM;
    size_t got = 0;
    long skip = 0;
    *items = cJSON_CreateArray();
    if (!*items || cc_buf_adds(&cur, path) != CC_OK)
        goto out;
    if (page > 0 && cc_buf_addf(&cur, "%s$top=%d", strchr(path, '?') ? "&" : "?", page) != CC_OK)
        goto out;
    for (int pages = 0; pages < 10000; pages++) {
        st = list_page(c, cur.data, max_items, *items, &more, &got, a);
        if (st != CC_OK || (size_t)cJSON_GetArraySize(*items) >= max_items)
            break;
        cc_buf_release(&cur);
        if (more.data) {
            cur = more, more = (struct cc_buf)CC_BUF_INIT;
        } else if (page > 0 && got == (size_t)page) {
            skip += page;
            if (cc_buf_addf(&cur, "%s%s$top=%d&$skip=%ld", path, strchr(path, '?') ? "&" : "?",
                            page, skip) != CC_OK) {
                st = CC_ERR_NOMEM;
                break;
            }
        } else {
            break;
        }
        creatio_answer_release(a);
    }
out:
    cc_buf_release(&cur);
    cc_buf_release(&more);
    if (st != CC_OK) {
        cJSON_Delete(*items);
        *items = NULL;
    }
    return st;
}

enum cc_status creatio_get(struct creatio *c, const char *path, cJSON **obj,
                           struct creatio_answer *a)
{
    *obj = NULL;
    enum cc_status st = creatio_request(c, "GET", path, NULL, NULL, a);
    if (st != CC_OK || (st = creatio_status(a)) != CC_OK)
        return st;
    *obj = a->body ? cJSON_ParseWithLength(a->body, a->len) : NULL;
    if (!cJSON_IsObject(*obj)) {
        cJSON_Delete(*obj);
        *obj = NULL;
        snprintf(a->error, sizeof a->error, "unreadable entity answer");
        return CC_ERR_INTERNAL;
    }
    return CC_OK;
}

enum cc_status creatio_send(struct creatio *c, const char *method, const char *path,
                            const cJSON *body, cJSON **obj, struct creatio_answer *a)
{
    char *text = body ? cJSON_PrintUnformatted(body) : NULL;
    *obj = NULL;
    if (body && !text)
        return CC_ERR_NOMEM;
    enum cc_status st = creatio_request(c, method, path, text, NULL, a);
    free(text);
    if (st != CC_OK || (st = creatio_status(a)) != CC_OK)
        return st;
    if (a->body && a->len) {
        *obj = cJSON_ParseWithLength(a->body, a->len);
        if (*obj && !cJSON_IsObject(*obj)) {
            cJSON_Delete(*obj);
            *obj = NULL;
        }
    }
    return CC_OK;
}
