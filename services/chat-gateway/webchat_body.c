/* webchat_body.c - the web-chat API's request bodies (webchat_body.h). */
#include "webchat_body.h"

#include <string.h>

/* An optional string member of at most `max` bytes: 1 and *out (NULL when
 * absent, null, empty or only spaces); 0 when it is something else. */
static int opt_string(const cJSON *obj, const char *key, size_t max, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return 1;
    if (!cJSON_IsString(v) || strlen(v->valuestring) > max)
        return 0;
    const char *p = v->valuestring;
    while (*p == ' ' || *p == '\t')
        p++;
    *out = *p ? v->valuestring : NULL;
    return 1;
}

/* A plausible e-mail address: something@something.tld, no spaces. */
static int email_ok(const char *e)
{
    const char *at = strchr(e, '@');
    return at && at > e && !strchr(at + 1, '@') && strchr(at + 1, '.') &&
           !strpbrk(e, " \t\r\n<>\"") && at[1] != '.' && e[strlen(e) - 1] != '.';
}

/* 1 when `l` is a language tag as browsers give it ("pl", "pt-BR"). */
static int lang_ok(const char *l)
{
    size_t n = strspn(l, "abcdefghijklmnopqrstuvwxyz");
    if (n < 2 || n > 3)
        return 0;
    return !l[n] ||
           (l[n] == '-' && strlen(l + n + 1) >= 2 &&
            strspn(l + n + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") ==
                strlen(l + n + 1));
}

const char *webchat_read_session(const cJSON *json, struct webchat_visitor *v)
{
    v->name = v->email = v->language = NULL;
    if (!json)
        return NULL;
    if (!cJSON_IsObject(json))
        return "body: a JSON object";
    if (!opt_string(json, "name", WEBCHAT_MAX_NAME, &v->name))
        return "name: a string of at most 128 bytes";
    if (!opt_string(json, "email", WEBCHAT_MAX_EMAIL, &v->email) ||
        (v->email && !email_ok(v->email))) {
        v->name = v->email = NULL;
        return "email: an e-mail address";
    }
    if (!opt_string(json, "language", WEBCHAT_MAX_LANG, &v->language) ||
        (v->language && !lang_ok(v->language))) {
        v->name = v->email = v->language = NULL;
        return "language: a language tag (en, pl, es, uk)";
    }
    return NULL;
}

const char *webchat_read_message(const cJSON *json, const char **text, const char **client_id)
{
    *text = *client_id = NULL;
    const cJSON *t = cJSON_IsObject(json) ? cJSON_GetObjectItemCaseSensitive(json, "text") : NULL;
    const cJSON *c =
        cJSON_IsObject(json) ? cJSON_GetObjectItemCaseSensitive(json, "client_id") : NULL;
    if (!cJSON_IsString(t) || !*t->valuestring || strlen(t->valuestring) > WEBCHAT_MAX_TEXT)
        return "text: 1 to 4096 bytes";
    if (c && (!cJSON_IsString(c) || strlen(c->valuestring) > WEBCHAT_MAX_CLIENT_ID))
        return "client_id: a string of at most 64 bytes";
    *text = t->valuestring;
    *client_id = c ? c->valuestring : NULL;
    return NULL;
}
