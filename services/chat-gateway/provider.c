/* provider.c - the provider layer's public functions: names, argument checks
 * and dispatch to the per-provider files (provider_<name>.c), the batch that
 * holds parsed events, and the request and answer plumbing they share.
 * Signatures live in provider_sig.c, reading and building helpers in
 * provider_util.c. */
#include "provider_int.h"

#include "cc_http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TEXT_MAX (64 * 1024) /* bytes of outbound text; every provider's limit is far lower */
#define RECIPIENT_MAX 256

static const struct {
    enum provider_type type;
    const char *name; /* channel type */
    const char *path; /* webhook path segment */
} types[] = {
    {PROVIDER_TELEGRAM, "telegram", "telegram"},
    {PROVIDER_VIBER, "viber", "viber"},
    {PROVIDER_INFOBIP_WHATSAPP, "infobip_whatsapp", "infobip"},
    {PROVIDER_WHATSAPP_CLOUD, "whatsapp_cloud", "whatsapp"},
    {PROVIDER_MESSENGER, "messenger", "messenger"},
    {PROVIDER_WEBCHAT, "webchat", "webchat"},
};

enum provider_type provider_type_parse(const char *name)
{
    if (!name)
        return PROVIDER_UNKNOWN;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(name, types[i].name) == 0 || strcmp(name, types[i].path) == 0)
            return types[i].type;
    return PROVIDER_UNKNOWN;
}

const char *provider_type_name(enum provider_type type)
{
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (types[i].type == type)
            return types[i].name;
    return "unknown";
}

const char *provider_event_kind_name(enum provider_event_kind kind)
{
    static const char *const names[] = {"message", "edit", "receipt", "unsupported", "ignored"};
    return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "unknown";
}

const char *provider_receipt_name(enum provider_receipt receipt)
{
    static const char *const names[] = {"none", "delivered", "read", "failed"};
    return (unsigned)receipt < sizeof names / sizeof names[0] ? names[receipt] : "unknown";
}

const char *provider_attachment_type_name(enum provider_attachment_type type)
{
    static const char *const names[] = {"image", "document", "audio", "video", "sticker"};
    return (unsigned)type < sizeof names / sizeof names[0] ? names[type] : "unknown";
}

/* The operations of a provider with an API, NULL for webchat and unknown types. */
static const struct provider__ops *ops_of(enum provider_type type)
{
    switch (type) {
    case PROVIDER_TELEGRAM:
        return &provider__telegram;
    case PROVIDER_VIBER:
        return &provider__viber;
    case PROVIDER_INFOBIP_WHATSAPP:
        return &provider__infobip;
    case PROVIDER_WHATSAPP_CLOUD:
        return &provider__whatsapp;
    case PROVIDER_MESSENGER:
        return &provider__messenger;
    default:
        return NULL;
    }
}

static void clear_why(char *why, size_t whycap)
{
    if (why && whycap > 0)
        why[0] = '\0';
}

/* --- webhook bodies ---------------------------------------------------------------- */

/* Parses `body` as exactly one JSON value (trailing whitespace allowed). */
static cJSON *parse_json(const char *body, size_t len)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (!root)
        return NULL;
    while (end && end < body + len && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
        end++;
    if (!end || end != body + len) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

enum cc_status provider_parse(enum provider_type type, const char *body, size_t len,
                              struct provider_batch **out, char *why, size_t whycap)
{
    const struct provider__ops *ops = ops_of(type);
    *out = NULL;
    clear_why(why, whycap);
    if (!ops)
        return provider__fail(why, whycap, CC_ERR_INVALID, "no webhook format for %s",
                              provider_type_name(type));
    if (!body || len == 0)
        return provider__fail(why, whycap, CC_ERR_INVALID, "empty body");
    if (!cc_utf8_valid(body, len))
        return provider__fail(why, whycap, CC_ERR_INVALID, "body is not valid UTF-8");
    cJSON *root = parse_json(body, len);
    if (!root)
        return provider__fail(why, whycap, CC_ERR_INVALID, "malformed JSON");
    struct provider_batch *b = calloc(1, sizeof *b);
    if (!b) {
        cJSON_Delete(root);
        return provider__fail(why, whycap, CC_ERR_NOMEM, "out of memory");
    }
    struct provider__ctx c = {b, body, len, why, whycap, 0};
    enum cc_status st = cJSON_IsObject(root)
                            ? ops->parse(&c, root)
                            : provider__fail(why, whycap, CC_ERR_INVALID, "expected an object");
    if (st == CC_OK && c.oom)
        st = provider__fail(why, whycap, CC_ERR_NOMEM, "out of memory");
    cJSON_Delete(root);
    if (st != CC_OK) {
        provider_batch_free(b);
        return st;
    }
    *out = b;
    return CC_OK;
}

void provider_batch_free(struct provider_batch *b)
{
    if (!b)
        return;
    cc_pool_release(&b->pool);
    free(b->events);
    free(b);
}

/* --- outbound requests ---------------------------------------------------------------- */

void provider_request_release(struct provider_request *req)
{
    if (!req)
        return;
    free(req->url);
    free(req->log_url);
    for (int i = 0; i < req->n_headers && i < PROVIDER_MAX_HEADERS; i++)
        free(req->headers[i]);
    free(req->body);
    memset(req, 0, sizeof *req);
}

static const Cc__V1__ChannelCredentials no_credentials = CC__V1__CHANNEL_CREDENTIALS__INIT;

/* Fills the call for `type` on `ch`; CC_ERR_INVALID when there is no API to call. */
static enum cc_status call_init(struct provider__call *k, const struct provider__ops *ops,
                                const Cc__V1__Channel *ch, struct provider_request *out, char *why,
                                size_t whycap)
{
    memset(k, 0, sizeof *k);
    k->why = why;
    k->whycap = whycap;
    k->req = out;
    if (!ops)
        return provider__fail(why, whycap, CC_ERR_INVALID, "this channel type has no provider API");
    if (!ch)
        return provider__fail(why, whycap, CC_ERR_INVALID, "no channel");
    k->ch = ch;
    k->cred = ch->credentials ? ch->credentials : &no_credentials;
    k->version = ch->api_version && *ch->api_version ? ch->api_version : "v21.0";
    k->base = ch->api_base_url && *ch->api_base_url ? ch->api_base_url : ops->default_base;
    if (!k->base)
        return provider__fail(why, whycap, CC_ERR_INVALID, "channel has no api_base_url");
    if (!provider__http_url(k->base))
        return provider__fail(why, whycap, CC_ERR_INVALID, "api_base_url is not an http(s) URL");
    if (!provider__safe_segment(k->version))
        return provider__fail(why, whycap, CC_ERR_INVALID, "bad api_version");
    return CC_OK;
}

/* Runs a builder and leaves *out empty when it fails. */
static enum cc_status finish(struct provider__call *k, enum cc_status st)
{
    if (st != CC_OK)
        provider_request_release(k->req);
    return st;
}

/* 1 for png, jpg, jpeg and gif, by MIME type or else by the name's extension. */
static int is_image(const struct provider_file *f)
{
    static const char *const mimes[] = {"image/png", "image/jpeg", "image/jpg", "image/gif"};
    static const char *const exts[] = {".png", ".jpg", ".jpeg", ".gif"};
    if (f->mime && *f->mime) {
        for (size_t i = 0; i < sizeof mimes / sizeof mimes[0]; i++)
            if (strcasecmp(f->mime, mimes[i]) == 0)
                return 1;
        return 0;
    }
    const char *dot = f->name ? strrchr(f->name, '.') : NULL;
    for (size_t i = 0; dot && i < sizeof exts / sizeof exts[0]; i++)
        if (strcasecmp(dot, exts[i]) == 0)
            return 1;
    return 0;
}

/* Checks what an agent sends: a recipient, some text or a file, sane values. */
static enum cc_status check_send(const char *recipient, const char *text,
                                 const struct provider_file *file, char *why, size_t whycap)
{
    size_t rlen = recipient ? strlen(recipient) : 0;
    if (rlen == 0 || rlen > RECIPIENT_MAX)
        return provider__fail(why, whycap, CC_ERR_INVALID, "bad recipient");
    for (size_t i = 0; i < rlen; i++)
        if ((unsigned char)recipient[i] < 0x20 || recipient[i] == 0x7f)
            return provider__fail(why, whycap, CC_ERR_INVALID, "bad recipient");
    if (text && (strlen(text) > TEXT_MAX || !cc_utf8_valid(text, strlen(text))))
        return provider__fail(why, whycap, CC_ERR_INVALID, "text too long or not UTF-8");
    if (!text && !file)
        return provider__fail(why, whycap, CC_ERR_INVALID, "nothing to send");
    if (file && !provider__http_url(file->url))
        return provider__fail(why, whycap, CC_ERR_INVALID, "file URL is not http(s)");
    if (file && file->name && !cc_utf8_valid(file->name, strlen(file->name)))
        return provider__fail(why, whycap, CC_ERR_INVALID, "file name is not UTF-8");
    return CC_OK;
}

enum cc_status provider_build_send(enum provider_type type, const Cc__V1__Channel *ch,
                                   const char *recipient, const char *text,
                                   const struct provider_file *file, struct provider_request *out,
                                   char *why, size_t whycap)
{
    const struct provider__ops *ops = ops_of(type);
    struct provider__call k;
    memset(out, 0, sizeof *out);
    clear_why(why, whycap);
    enum cc_status st = call_init(&k, ops, ch, out, why, whycap);
    if (st != CC_OK)
        return st;
    if (text && !*text)
        text = NULL;
    st = check_send(recipient, text, file, why, whycap);
    if (st != CC_OK)
        return st;
    return finish(&k, ops->send(&k, recipient, text, file, file ? is_image(file) : 0));
}

enum provider_send_status provider_parse_send_result(enum provider_type type, long http_status,
                                                     const char *body, size_t len,
                                                     struct provider_send_result *out)
{
    const struct provider__ops *ops = ops_of(type);
    memset(out, 0, sizeof *out);
    provider__result(out, provider__http_verdict(http_status), NULL, NULL);
    if (!ops) {
        provider__result(out, PROVIDER_SEND_PERMANENT, NULL,
                         "this channel type has no provider API");
        return out->status;
    }
    cJSON *root = body && len > 0 ? parse_json(body, len) : NULL;
    if (root && !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        root = NULL;
    }
    ops->result(http_status, root, body, len, out);
    cJSON_Delete(root);
    if (out->status == PROVIDER_SEND_OK && !out->message_id[0] && !out->reason[0])
        provider__result(out, PROVIDER_SEND_OK, NULL, "answer without a message id");
    if (out->status != PROVIDER_SEND_OK && !out->reason[0]) {
        char reason[48];
        if (http_status > 0)
            snprintf(reason, sizeof reason, "HTTP %ld", http_status);
        else
            snprintf(reason, sizeof reason, "no answer from the provider");
        provider__result(out, out->status, NULL, reason);
    }
    return out->status;
}

/* --- typing and profiles --------------------------------------------------------------- */

enum cc_status provider_build_typing(enum provider_type type, const Cc__V1__Channel *ch,
                                     const char *recipient, struct provider_request *out, char *why,
                                     size_t whycap)
{
    const struct provider__ops *ops = ops_of(type);
    struct provider__call k;
    memset(out, 0, sizeof *out);
    clear_why(why, whycap);
    if (!ops || !ops->typing)
        return provider__fail(why, whycap, CC_ERR_NOT_FOUND, "no typing indicator");
    enum cc_status st = call_init(&k, ops, ch, out, why, whycap);
    if (st != CC_OK)
        return st;
    if (!recipient || !provider__safe_segment(recipient))
        return provider__fail(why, whycap, CC_ERR_INVALID, "bad recipient");
    return finish(&k, ops->typing(&k, recipient));
}

enum cc_status provider_build_profile(enum provider_type type, const Cc__V1__Channel *ch,
                                      const char *who, struct provider_request *out, char *why,
                                      size_t whycap)
{
    const struct provider__ops *ops = ops_of(type);
    struct provider__call k;
    memset(out, 0, sizeof *out);
    clear_why(why, whycap);
    if (!ops || !ops->profile)
        return provider__fail(why, whycap, CC_ERR_NOT_FOUND, "no profiles");
    enum cc_status st = call_init(&k, ops, ch, out, why, whycap);
    if (st != CC_OK)
        return st;
    if (!who || !provider__safe_segment(who))
        return provider__fail(why, whycap, CC_ERR_INVALID, "bad customer id");
    return finish(&k, ops->profile(&k, who));
}

char *provider_parse_profile(enum provider_type type, const char *body, size_t len)
{
    const struct provider__ops *ops = ops_of(type);
    if (!ops || !ops->profile_name || !body || !len)
        return NULL;
    cJSON *root = parse_json(body, len);
    char *name = cJSON_IsObject(root) ? ops->profile_name(root) : NULL;
    cJSON_Delete(root);
    return name;
}

/* --- inbound media --------------------------------------------------------------------- */

enum cc_status provider_build_media_fetch(enum provider_type type, const Cc__V1__Channel *ch,
                                          const char *ref, struct provider_request *out, char *why,
                                          size_t whycap)
{
    const struct provider__ops *ops = ops_of(type);
    struct provider__call k;
    memset(out, 0, sizeof *out);
    clear_why(why, whycap);
    enum cc_status st = call_init(&k, ops, ch, out, why, whycap);
    if (st != CC_OK)
        return st;
    if (!ref || !*ref || strlen(ref) > 4096)
        return provider__fail(why, whycap, CC_ERR_INVALID, "bad media reference");
    return finish(&k, ops->media(&k, ref));
}

enum cc_status provider_parse_media_lookup(enum provider_type type, const Cc__V1__Channel *ch,
                                           long http_status, const char *body, size_t len,
                                           struct provider_request *out, char *why, size_t whycap)
{
    const struct provider__ops *ops = ops_of(type);
    struct provider__call k;
    memset(out, 0, sizeof *out);
    clear_why(why, whycap);
    enum cc_status st = call_init(&k, ops, ch, out, why, whycap);
    if (st != CC_OK)
        return st;
    if (!ops->lookup)
        return provider__fail(why, whycap, CC_ERR_INVALID, "%s has no media lookup",
                              provider_type_name(type));
    struct provider_send_result r;
    if (provider_parse_send_result(type, http_status, body, len, &r) != PROVIDER_SEND_OK)
        return provider__fail(why, whycap,
                              r.status == PROVIDER_SEND_TRANSIENT ? CC_ERR_UNAVAILABLE
                                                                  : CC_ERR_NOT_FOUND,
                              "media lookup failed: %s", r.reason);
    cJSON *root = body && len > 0 ? parse_json(body, len) : NULL;
    st = cJSON_IsObject(root) ? ops->lookup(&k, root)
                              : provider__fail(why, whycap, CC_ERR_NOT_FOUND,
                                               "media lookup answer is not a JSON object");
    cJSON_Delete(root);
    return finish(&k, st);
}

/* --- where inbound files may come from ------------------------------------------------------- */

const char *const *provider_media_hosts(enum provider_type type)
{
    static const char *const telegram[] = {"api.telegram.org", NULL};
    static const char *const viber[] = {"*.viber.com", NULL};
    static const char *const infobip[] = {"*.api.infobip.com", "api.infobip.com", NULL};
    static const char *const whatsapp[] = {"lookaside.fbsbx.com", "graph.facebook.com", NULL};
    static const char *const messenger[] = {"*.fbcdn.net", "*.fbsbx.com", NULL};
    static const char *const none[] = {NULL};
    switch (type) {
    case PROVIDER_TELEGRAM:
        return telegram;
    case PROVIDER_VIBER:
        return viber;
    case PROVIDER_INFOBIP_WHATSAPP:
        return infobip;
    case PROVIDER_WHATSAPP_CLOUD:
        return whatsapp;
    case PROVIDER_MESSENGER:
        return messenger;
    default:
        return none;
    }
}

/* A URL taken apart by libcurl: scheme and host lower case, the port filled
 * in from the scheme when absent. */
struct url_parts {
    char scheme[8], host[256];
    long port;
    int has_user;
};

static int url_parts(const char *url, struct url_parts *out)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL;
    int ok = 0;
    memset(out, 0, sizeof *out);
    if (u && url && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK &&
        strlen(scheme) < sizeof out->scheme && strlen(host) < sizeof out->host) {
        for (size_t i = 0; scheme[i]; i++)
            out->scheme[i] = (char)tolower((unsigned char)scheme[i]);
        for (size_t i = 0; host[i]; i++)
            out->host[i] = (char)tolower((unsigned char)host[i]);
        out->port = strtol(port, NULL, 10);
        out->has_user = curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
                        curl_url_get(u, CURLUPART_PASSWORD, &user, 0) == CURLUE_OK;
        ok = !strcmp(out->scheme, "http") || !strcmp(out->scheme, "https");
    }
    curl_free(scheme), curl_free(host), curl_free(port), curl_free(user);
    curl_url_cleanup(u);
    return ok;
}

static int parts_same_origin(const struct url_parts *a, const struct url_parts *b)
{
    return !strcmp(a->scheme, b->scheme) && !strcmp(a->host, b->host) && a->port == b->port;
}

int provider_same_origin(const char *a, const char *b)
{
    struct url_parts pa, pb;
    return url_parts(a, &pa) && url_parts(b, &pb) && parts_same_origin(&pa, &pb);
}

/* 1 when `host` is `pattern`, or for "*.<suffix>" a name under suffix. */
static int host_matches(const char *host, const char *pattern)
{
    if (strncmp(pattern, "*.", 2) != 0)
        return strcasecmp(host, pattern) == 0;
    size_t h = strlen(host), s = strlen(pattern + 1); /* ".suffix" */
    return h > s && strcasecmp(host + h - s, pattern + 1) == 0;
}

/* 1 when `host` is an address written out (IPv4 in any of the forms libcurl
 * reads, IPv6 in brackets): never a media host, whatever the list says. */
static int address_literal(const char *host)
{
    struct in_addr a;
    return strchr(host, ':') || *host == '[' || inet_aton(host, &a);
}

enum provider_media_source provider_media_source(enum provider_type type, const Cc__V1__Channel *ch,
                                                 const char *url, char *why, size_t whycap)
{
    const struct provider__ops *ops = ops_of(type);
    struct url_parts u, api;
    clear_why(why, whycap);
    if (!ops || !ch)
        return provider__fail(why, whycap, CC_ERR_FORBIDDEN, "this channel type fetches no files"),
               PROVIDER_MEDIA_REFUSED;
    if (!url_parts(url, &u))
        return provider__fail(why, whycap, CC_ERR_FORBIDDEN, "not an http(s) URL"),
               PROVIDER_MEDIA_REFUSED;
    if (u.has_user)
        return provider__fail(why, whycap, CC_ERR_FORBIDDEN, "a URL with user info"),
               PROVIDER_MEDIA_REFUSED;
    const char *base = ch->api_base_url && *ch->api_base_url ? ch->api_base_url : ops->default_base;
    if (base && url_parts(base, &api) && parts_same_origin(&u, &api))
        return PROVIDER_MEDIA_CHANNEL;
    const char *const *hosts = provider_media_hosts(type);
    size_t n = 0;
    if (ch->n_media_hosts)
        hosts = (const char *const *)ch->media_hosts, n = ch->n_media_hosts;
    else
        while (hosts[n])
            n++;
    int listed = 0;
    for (size_t i = 0; i < n && !listed; i++)
        listed = host_matches(u.host, hosts[i]);
    if (listed && !address_literal(u.host) && !strcmp(u.scheme, "https") && u.port == 443)
        return PROVIDER_MEDIA_HOST;
    provider__fail(why, whycap, CC_ERR_FORBIDDEN,
                   listed ? "%.100s: media hosts are fetched over https on port 443 only"
                          : "%.100s is neither the channel's API origin nor one of its media hosts",
                   u.host);
    return PROVIDER_MEDIA_REFUSED;
}
