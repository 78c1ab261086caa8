/* odata.c - OData 4 URLs, filters and Creatio's answer shapes (odata.h). */
#include "odata.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_ANSWER_ITEMS 100000 /* a list answer longer than this is refused */

int odata_guid_valid(const char *s)
{
    static const int dash[] = {8, 13, 18, 23};
    if (!s || strlen(s) != 36)
        return 0;
    for (int i = 0, d = 0; i < 36; i++) {
        if (d < 4 && i == dash[d]) {
            if (s[i] != '-')
                return 0;
            d++;
        } else if (!isxdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}

int odata_name_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_')
            return 0;
    return 1;
}

enum cc_status odata_quote(struct cc_buf *b, const char *s)
{
    if (cc_buf_add(b, "'", 1) != CC_OK)
        return CC_ERR_NOMEM;
    for (const char *p = s; *p; p++)
        if (cc_buf_add(b, p, 1) != CC_OK || (*p == '\'' && cc_buf_add(b, "'", 1) != CC_OK))
            return CC_ERR_NOMEM;
    return cc_buf_add(b, "'", 1);
}

enum cc_status odata_pct(struct cc_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
        int keep = isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~';
        if (cc_buf_add(b, keep ? (const char *)p : e, keep ? 1 : 3) != CC_OK)
            return CC_ERR_NOMEM;
    }
    return CC_OK;
}

enum cc_status odata_query(struct cc_buf *b, const char *key, const char *value)
{
    if (!value)
        return CC_OK;
    int first = !b->data || !strchr(b->data, '?');
    if (cc_buf_adds(b, first ? "?" : "&") != CC_OK || cc_buf_adds(b, key) != CC_OK ||
        cc_buf_adds(b, "=") != CC_OK)
        return CC_ERR_NOMEM;
    return odata_pct(b, value);
}

int odata_reverse_digits(const char *phone, int n, int min, char *out, size_t cap)
{
    char digits[64];
    int nd = 0;
    for (const char *p = phone; p && *p && nd < (int)sizeof digits; p++)
        if (isdigit((unsigned char)*p))
            digits[nd++] = *p;
    if (nd < min || nd < 1 || n < 1)
        return -1;
    int take = nd < n ? nd : n;
    if ((size_t)take + 1 > cap)
        return -1;
    for (int i = 0; i < take; i++)
        out[i] = digits[nd - 1 - i];
    out[take] = 0;
    return take;
}

enum cc_status odata_parse_list(const char *body, size_t len, cJSON **root, cJSON **values,
                                const char **next)
{
    *root = NULL, *values = NULL, *next = NULL;
    cJSON *doc = body ? cJSON_ParseWithLength(body, len) : NULL;
    cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, "value");
    if (!cJSON_IsObject(doc) || !cJSON_IsArray(v) || cJSON_GetArraySize(v) > MAX_ANSWER_ITEMS)
        goto bad;
    const cJSON *e;
    cJSON_ArrayForEach(e, v) if (!cJSON_IsObject(e)) goto bad;
    const cJSON *nl = cJSON_GetObjectItemCaseSensitive(doc, "@odata.nextLink");
    if (nl && !cJSON_IsNull(nl) && (!cJSON_IsString(nl) || strlen(nl->valuestring) > 4096))
        goto bad;
    *root = doc, *values = v;
    *next = cJSON_IsString(nl) && nl->valuestring[0] ? nl->valuestring : NULL;
    return CC_OK;
bad:
    cJSON_Delete(doc);
    return CC_ERR_INTERNAL;
}

void odata_error_message(const char *body, size_t len, char *out, size_t cap)
{
    out[0] = 0;
    cJSON *doc = body ? cJSON_ParseWithLength(body, len) : NULL;
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(doc, "error");
    const char *m = odata_str(err, "message", 4096);
    if (!m && cJSON_IsString(err))
        m = err->valuestring; /* OAuth: {"error":"invalid_client"} */
    if (m)
        snprintf(out, cap, "%s", m);
    cJSON_Delete(doc);
}

const char *odata_str(const cJSON *o, const char *name, size_t max)
{
    const cJSON *v = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, name) : NULL;
    return cJSON_IsString(v) && strlen(v->valuestring) <= max ? v->valuestring : NULL;
}

const char *odata_guid(const cJSON *o, const char *name)
{
    const char *s = odata_str(o, name, 36);
    return s && odata_guid_valid(s) ? s : NULL;
}

int odata_login_ok(const char *body, size_t len, char *msg, size_t cap)
{
    cJSON *doc = body ? cJSON_ParseWithLength(body, len) : NULL;
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(doc, "Code");
    int ok = cJSON_IsNumber(code) && code->valuedouble == 0;
    if (!ok) {
        const char *m = odata_str(doc, "Message", 1024);
        snprintf(msg, cap, "%s",
                 m && m[0]              ? m
                 : cJSON_IsNumber(code) ? "login refused"
                                        : "unreadable login answer");
    }
    cJSON_Delete(doc);
    return ok;
}

enum cc_status odata_token_parse(const char *body, size_t len, char *token, size_t cap,
                                 int64_t *expires_s)
{
    cJSON *doc = body ? cJSON_ParseWithLength(body, len) : NULL;
    const char *t = odata_str(doc, "access_token", cap - 1);
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(doc, "expires_in");
    enum cc_status st = CC_ERR_INTERNAL;
    if (t && t[0] && !strpbrk(t, "\r\n") &&
        (!exp ||
         (cJSON_IsNumber(exp) && exp->valuedouble >= 1 && exp->valuedouble <= 86400 * 30))) {
        snprintf(token, cap, "%s", t);
        *expires_s = exp ? (int64_t)exp->valuedouble : 3600;
        st = CC_OK;
    }
    cJSON_Delete(doc);
    return st;
}

void odata_cookie_take(struct odata_cookies *j, const char *line, size_t len)
{
    static const char h[] = "set-cookie:";
    char buf[700];
    if (len < sizeof h - 1 || len >= sizeof buf || strncasecmp(line, h, sizeof h - 1))
        return;
    memcpy(buf, line + sizeof h - 1, len - (sizeof h - 1));
    buf[len - (sizeof h - 1)] = 0;
    char *p = buf + strspn(buf, " \t"), *eq = strchr(p, '='), *end;
    if (!eq || eq == p)
        return;
    *eq = 0;
    end = eq + 1 + strcspn(eq + 1, ";\r\n");
    *end = 0;
    size_t nl = strlen(p), vl = strlen(eq + 1);
    if (nl >= sizeof j->name[0] || vl >= sizeof j->value[0] || strpbrk(p, " \t,;"))
        return;
    int i = 0;
    while (i < j->n && strcmp(j->name[i], p))
        i++;
    if (i == ODATA_MAX_COOKIES)
        return;
    memcpy(j->name[i], p, nl + 1);
    memcpy(j->value[i], eq + 1, vl + 1);
    if (i == j->n)
        j->n++;
}

const char *odata_cookie_get(const struct odata_cookies *j, const char *name)
{
    for (int i = 0; i < j->n; i++)
        if (!strcmp(j->name[i], name))
            return j->value[i];
    return NULL;
}

enum cc_status odata_cookie_header(const struct odata_cookies *j, struct cc_buf *b)
{
    for (int i = 0; i < j->n; i++)
        if (cc_buf_addf(b, "%s%s=%s", i ? "; " : "Cookie: ", j->name[i], j->value[i]) != CC_OK)
            return CC_ERR_NOMEM;
    return CC_OK;
}

int64_t odata_retry_after_ms(const char *value, int64_t now_ms)
{
    char *end;
    struct tm tm;
    if (!value)
        return -1;
    while (*value == ' ')
        value++;
    long long s = strtoll(value, &end, 10);
    if (end != value && (*end == 0 || *end == '\r' || *end == ' '))
        return s < 0 ? -1 : s > 3600 ? 3600000 : s * 1000;
    memset(&tm, 0, sizeof tm);
    end = strptime(value, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end)
        return -1;
    int64_t at = (int64_t)timegm(&tm) * 1000 - now_ms;
    return at < 0 ? 0 : at > 3600000 ? 3600000 : at;
}

char *odata_batch_body(const struct odata_op *ops, int n)
{
    if (n < 1 || n > ODATA_BATCH_MAX)
        return NULL;
    cJSON *doc = cJSON_CreateObject(), *reqs = cJSON_AddArrayToObject(doc, "requests");
    char *out = NULL;
    for (int i = 0; reqs && i < n; i++) {
        char id[16];
        cJSON *r = cJSON_CreateObject();
        snprintf(id, sizeof id, "r%d", i);
        if (!r || !cJSON_AddItemToArray(reqs, r) ||
            !cJSON_AddStringToObject(r, "method", ops[i].method) ||
            !cJSON_AddStringToObject(r, "url", ops[i].url) || !cJSON_AddStringToObject(r, "id", id))
            goto out;
        cJSON *hdr = cJSON_AddObjectToObject(r, "headers");
        if (!hdr || !cJSON_AddStringToObject(hdr, "Content-Type",
                                             "application/json;IEEE754Compatible=true"))
            goto out;
        if (ops[i].body) {
            cJSON *copy = cJSON_Duplicate(ops[i].body, 1);
            if (!copy || !cJSON_AddItemToObject(r, "body", copy)) {
                cJSON_Delete(copy);
                goto out;
            }
        }
    }
    out = reqs ? cJSON_PrintUnformatted(doc) : NULL;
out:
    cJSON_Delete(doc);
    return out;
}

/* "r<i>" with 0 <= i < n into *i; else -1. */
static int batch_index(const char *id, int n)
{
    char *end;
    if (!id || id[0] != 'r' || !isdigit((unsigned char)id[1]))
        return -1;
    long v = strtol(id + 1, &end, 10);
    return *end || v < 0 || v >= n ? -1 : (int)v;
}

enum cc_status odata_batch_parse(const char *text, size_t len, int n, long *status, cJSON **body,
                                 cJSON **root)
{
    for (int i = 0; i < n; i++)
        status[i] = 0, body[i] = NULL;
    *root = text ? cJSON_ParseWithLength(text, len) : NULL;
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(*root, "responses"), *r;
    if (!cJSON_IsArray(rs) || cJSON_GetArraySize(rs) > n)
        goto bad;
    cJSON_ArrayForEach(r, rs)
    {
        int i = batch_index(odata_str(r, "id", 16), n);
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(r, "status");
        if (i < 0 || !cJSON_IsNumber(st) || st->valuedouble < 100 || st->valuedouble > 599 ||
            status[i])
            goto bad;
        status[i] = (long)st->valuedouble;
        body[i] = cJSON_GetObjectItemCaseSensitive(r, "body");
    }
    return CC_OK;
bad:
    cJSON_Delete(*root);
    *root = NULL;
    for (int i = 0; i < n; i++)
        status[i] = 0, body[i] = NULL;
    return CC_ERR_INTERNAL;
}
