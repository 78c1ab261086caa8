/* provider_util.c - helpers the provider files share: defensive JSON
 * getters, the exact text of big numbers, ISO times, collecting events into
 * the batch, and building requests and send results. */
#include "provider_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h> /* timegm: _GNU_SOURCE comes from the Makefile */

#define MAX_SAFE_INT 9007199254740992.0 /* 2^53: beyond it a double skips integers */
#define ID_MAX 512                      /* bytes of an id we accept from a webhook */

enum cc_status provider__fail(char *why, size_t whycap, enum cc_status st, const char *fmt, ...)
{
    if (why && whycap > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, whycap, fmt, ap);
        va_end(ap);
    }
    return st;
}

/* --- reading JSON ---------------------------------------------------------------------- */

const char *provider__str(const cJSON *obj, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(it) && it->valuestring ? it->valuestring : NULL;
}

const cJSON *provider__obj(const cJSON *obj, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsObject(it) ? it : NULL;
}

const cJSON *provider__arr(const cJSON *obj, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsArray(it) ? it : NULL;
}

/* An integral double within +-2^53 into *out. */
static int exact_int(double v, int64_t *out)
{
    if (!(v >= -MAX_SAFE_INT && v <= MAX_SAFE_INT) || v != (double)(int64_t)v)
        return 0;
    *out = (int64_t)v;
    return 1;
}

int provider__int(const cJSON *obj, const char *key, int64_t *out)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(it) && exact_int(it->valuedouble, out);
}

int provider__int_str(const cJSON *obj, const char *key, int64_t *out)
{
    const char *s = provider__str(obj, key);
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 15 || strspn(s, "0123456789") != n) /* seconds * 1000 must fit */
        return 0;
    *out = strtoll(s, NULL, 10);
    return 1;
}

const char *provider__id(struct provider__ctx *c, const cJSON *obj, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    int64_t v;
    if (cJSON_IsString(it) && it->valuestring && *it->valuestring &&
        strlen(it->valuestring) <= ID_MAX)
        return provider__dup(c, it->valuestring);
    if (cJSON_IsNumber(it) && exact_int(it->valuedouble, &v))
        return provider__printf(c, "%lld", (long long)v);
    return NULL;
}

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

/* p at an opening quote: returns just past the closing one, NULL if none. */
static const char *skip_string(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '\\')
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return NULL;
}

/* Returns just past the value at p, NULL when it does not end inside the body. */
static const char *skip_value(const char *p, const char *end)
{
    if (p >= end)
        return NULL;
    if (*p == '"')
        return skip_string(p, end);
    if (*p == '{' || *p == '[') {
        int depth = 0;
        while (p < end) {
            if (*p == '"') {
                p = skip_string(p, end);
                if (!p)
                    return NULL;
                continue;
            }
            if (*p == '{' || *p == '[')
                depth++;
            else if ((*p == '}' || *p == ']') && --depth == 0)
                return p + 1;
            p++;
        }
        return NULL;
    }
    while (p < end && !strchr(",}] \t\r\n", *p))
        p++;
    return p;
}

int provider__raw_member(const char *body, size_t len, const char *key, const char **val,
                         size_t *vlen)
{
    const char *end = body + len, *p = skip_ws(body, end);
    size_t klen = strlen(key);
    if (p >= end || *p != '{')
        return 0;
    for (p = skip_ws(p + 1, end); p < end && *p == '"';) {
        const char *k = p + 1, *kend = skip_string(p, end);
        if (!kend)
            return 0;
        p = skip_ws(kend, end);
        if (p >= end || *p != ':')
            return 0;
        const char *v = skip_ws(p + 1, end), *vend = skip_value(v, end);
        if (!vend || vend == v)
            return 0;
        if ((size_t)(kend - 1 - k) == klen && memcmp(k, key, klen) == 0) {
            int quoted = *v == '"';
            *val = v + quoted;
            *vlen = (size_t)(vend - v) - 2 * (size_t)quoted;
            return 1;
        }
        p = skip_ws(vend, end);
        if (p >= end || *p != ',')
            return 0;
        p = skip_ws(p + 1, end);
    }
    return 0;
}

/* Reads exactly n digits. */
static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if ((*p)[i] < '0' || (*p)[i] > '9')
            return 0;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 1;
}

/* Consumes the character c. */
static int lit(const char **p, char c)
{
    if (**p != c)
        return 0;
    (*p)++;
    return 1;
}

/* Reads "Z", "+HH:MM", "+HHMM", "+HH" or nothing (UTC) into minutes east of UTC. */
static int utc_offset(const char **p, int *minutes)
{
    int sign = **p == '-' ? -1 : 1, hh, mm = 0;
    if (**p == '\0' || lit(p, 'Z')) {
        *minutes = 0;
        return 1;
    }
    if (!lit(p, '+') && !lit(p, '-'))
        return 0;
    if (!digits(p, 2, &hh))
        return 0;
    if (**p) {
        lit(p, ':');
        if (!digits(p, 2, &mm))
            return 0;
    }
    *minutes = sign * (hh * 60 + mm);
    return hh <= 23 && mm <= 59;
}

int64_t provider__iso_ms(const char *s)
{
    struct tm tm = {0};
    int ms = 0, off = 0;
    const char *p = s;
    if (!s || !digits(&p, 4, &tm.tm_year) || !lit(&p, '-') || !digits(&p, 2, &tm.tm_mon) ||
        !lit(&p, '-') || !digits(&p, 2, &tm.tm_mday) || (!lit(&p, 'T') && !lit(&p, ' ')) ||
        !digits(&p, 2, &tm.tm_hour) || !lit(&p, ':') || !digits(&p, 2, &tm.tm_min) ||
        !lit(&p, ':') || !digits(&p, 2, &tm.tm_sec))
        return 0;
    if (lit(&p, '.')) {
        int n = 0;
        for (; *p >= '0' && *p <= '9'; p++, n++)
            if (n < 3)
                ms = ms * 10 + (*p - '0');
        if (n == 0)
            return 0;
        for (; n < 3; n++)
            ms *= 10;
    }
    if (!utc_offset(&p, &off) || *p || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
        tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return 0;
    return ((int64_t)t - (int64_t)off * 60) * 1000 + ms;
}

/* --- building the batch ----------------------------------------------------------------- */

const char *provider__dup(struct provider__ctx *c, const char *s)
{
    if (!s)
        return NULL;
    char *d = cc_pool_strdup(&c->batch->pool, s);
    if (!d)
        c->oom = 1;
    return d;
}

const char *provider__printf(struct provider__ctx *c, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return provider__dup(c, buf);
}

enum cc_status provider__bad(struct provider__ctx *c, const char *where, const char *what)
{
    return provider__fail(c->why, c->whycap, CC_ERR_INVALID, "%s: %s", where, what);
}

enum cc_status provider__event(struct provider__ctx *c, enum provider_event_kind kind,
                               struct provider_event **out)
{
    struct provider_batch *b = c->batch;
    *out = NULL;
    if (b->n == PROVIDER_MAX_EVENTS)
        return provider__fail(c->why, c->whycap, CC_ERR_INVALID, "more than %d events in one body",
                              PROVIDER_MAX_EVENTS);
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4;
        struct provider_event *ev = realloc(b->events, cap * sizeof *ev);
        if (!ev)
            return provider__fail(c->why, c->whycap, CC_ERR_NOMEM, "out of memory");
        b->events = ev;
        b->cap = cap;
    }
    *out = &b->events[b->n++];
    memset(*out, 0, sizeof **out);
    (*out)->kind = kind;
    return CC_OK;
}

enum cc_status provider__note(struct provider__ctx *c, enum provider_event_kind kind,
                              const char *conversation, const char *fmt, ...)
{
    struct provider_event *ev;
    enum cc_status st = provider__event(c, kind, &ev);
    if (st != CC_OK)
        return st;
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ev->note = provider__dup(c, buf);
    ev->conversation = provider__dup(c, conversation);
    return CC_OK;
}

struct provider_attachment *provider__attachments(struct provider__ctx *c,
                                                  struct provider_event *ev, size_t n)
{
    struct provider_attachment *a = cc_pool_alloc(&c->batch->pool, n * sizeof *a);
    if (!a)
        c->oom = 1;
    ev->attachments = a;
    ev->n_attachments = 0;
    return a;
}

/* --- building requests --------------------------------------------------------------------- */

int provider__safe_segment(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 256 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return 0;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-") == n;
}

int provider__http_url(const char *url)
{
    size_t skip;
    if (!url)
        return 0;
    if (strncasecmp(url, "https://", 8) == 0)
        skip = 8;
    else if (strncasecmp(url, "http://", 7) == 0)
        skip = 7;
    else
        return 0;
    if (url[skip] == '\0' || url[skip] == '/' || strlen(url) > 4096)
        return 0;
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

/* Sets url (copied) and log_url. */
static enum cc_status set_url(struct provider__call *k, const char *method, char *url,
                              char *log_url)
{
    if (!url || !log_url) {
        free(url);
        free(log_url);
        return provider__fail(k->why, k->whycap, CC_ERR_NOMEM, "out of memory");
    }
    free(k->req->url);
    free(k->req->log_url);
    k->req->method = method;
    k->req->url = url;
    k->req->log_url = log_url;
    return CC_OK;
}

enum cc_status provider__url(struct provider__call *k, const char *method, const char *path,
                             const char *secret)
{
    size_t blen = strlen(k->base);
    while (blen > 0 && k->base[blen - 1] == '/')
        blen--;
    size_t plen = strlen(path);
    char *url = malloc(blen + plen + 1), *log_url = NULL;
    if (url) {
        memcpy(url, k->base, blen);
        memcpy(url + blen, path, plen + 1);
        const char *hit = secret && *secret ? strstr(url, secret) : NULL;
        if (!hit) {
            log_url = strdup(url);
        } else {
            size_t pre = (size_t)(hit - url), slen = strlen(secret);
            log_url = malloc(strlen(url) - slen + sizeof "<redacted>");
            if (log_url)
                snprintf(log_url, strlen(url) - slen + sizeof "<redacted>", "%.*s<redacted>%s",
                         (int)pre, url, hit + slen);
        }
    }
    return set_url(k, method, url, log_url);
}

enum cc_status provider__url_abs(struct provider__call *k, const char *method, const char *url)
{
    if (!provider__http_url(url))
        return provider__fail(k->why, k->whycap, CC_ERR_INVALID, "not an http(s) URL");
    /* The query of a download link is often a signature: keep it out of logs. */
    return set_url(k, method, strdup(url), strndup(url, strcspn(url, "?")));
}

enum cc_status provider__header(struct provider__call *k, const char *name, const char *value)
{
    struct provider_request *r = k->req;
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return provider__fail(k->why, k->whycap, CC_ERR_INVALID,
                                  "%s: control character in the value", name);
    if (r->n_headers == PROVIDER_MAX_HEADERS)
        return provider__fail(k->why, k->whycap, CC_ERR_INTERNAL, "too many headers");
    size_t n = strlen(name) + strlen(value) + 3;
    char *line = malloc(n);
    if (!line)
        return provider__fail(k->why, k->whycap, CC_ERR_NOMEM, "out of memory");
    snprintf(line, n, "%s: %s", name, value);
    r->headers[r->n_headers++] = line;
    return CC_OK;
}

enum cc_status provider__json_body(struct provider__call *k, cJSON *json)
{
    char *s = json ? cJSON_PrintUnformatted(json) : NULL;
    cJSON_Delete(json);
    if (!s)
        return provider__fail(k->why, k->whycap, CC_ERR_NOMEM, "out of memory");
    free(k->req->body);
    k->req->body = s;
    k->req->body_len = strlen(s);
    return provider__header(k, "Content-Type", "application/json");
}

int provider__put_str(cJSON *o, const char *key, const char *val)
{
    return cJSON_AddStringToObject(o, key, val) != NULL;
}

int provider__put_num(cJSON *o, const char *key, double val)
{
    return cJSON_AddNumberToObject(o, key, val) != NULL;
}

int provider__put_bool(cJSON *o, const char *key, int val)
{
    return cJSON_AddBoolToObject(o, key, val) != NULL;
}

cJSON *provider__put_obj(cJSON *o, const char *key)
{
    return cJSON_AddObjectToObject(o, key);
}

char *provider__link_text(const char *text, const struct provider_file *file)
{
    const char *name = file->name && *file->name ? file->name : NULL;
    size_t n =
        (text ? strlen(text) + 2 : 0) + (name ? strlen(name) + 2 : 0) + strlen(file->url) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s%s%s%s%s", text ? text : "", text ? "\n\n" : "", name ? name : "",
                 name ? ": " : "", file->url);
    return s;
}

/* --- send answers ---------------------------------------------------------------------------- */

enum provider_send_status provider__http_verdict(long http)
{
    if (http >= 200 && http <= 299)
        return PROVIDER_SEND_OK;
    if (http <= 0 || http == 408 || http == 425 || http == 429 || http >= 500)
        return PROVIDER_SEND_TRANSIENT;
    return PROVIDER_SEND_PERMANENT;
}

/* Copies at most cap - 1 bytes of s, never cutting a UTF-8 sequence, with
 * line breaks and tabs turned into spaces. */
static void copy_text(char *dst, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    for (size_t i = 0; i < n; i++)
        dst[i] = (s[i] == '\n' || s[i] == '\r' || s[i] == '\t') ? ' ' : s[i];
    dst[n] = '\0';
}

void provider__result(struct provider_send_result *out, enum provider_send_status st,
                      const char *id, const char *reason)
{
    out->status = st;
    out->message_id[0] = '\0';
    copy_text(out->reason, sizeof out->reason, reason ? reason : "");
    if (!id)
        return;
    if (strlen(id) < sizeof out->message_id)
        memcpy(out->message_id, id, strlen(id) + 1);
    else
        copy_text(out->reason, sizeof out->reason, "provider message id too long to keep");
}
