/* settings.c - crm-sync's configuration: the environment gives defaults,
 * what admins stored through /crm/settings ({cc}:crm:settings in Redis, a
 * packed cc.v1.CrmSettings holding only the fields they set) overrides them,
 * so every replica reads the same. A version is immutable and reference
 * counted; a change builds a new one (with a new Creatio client) and swaps
 * it in: on cc.crm.settings.changed at once, and every few seconds anyway. */
#include "crm.h"
#include "cc_log.h"
#include "cc_netguard.h"
#include "odata.h"
#include "cc_keys.h"
#include "cc_subjects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct cc_env_var crm_env[] = {
    {"CC_CRM_TYPE", "none", "none, creatio or webhook (the generic signed-webhook adapter)"},
    {"CC_CRM_URL", NULL, "Creatio's site root, e.g. https://example.creatio.com"},
    {"CC_CRM_ODATA_PREFIX", "/0/odata", "OData 4 root under the site (/0/odata or /odata)"},
    {"CC_CRM_AUTH", "forms", "forms (AuthService.svc login, cookies + BPMCSRF) or oauth"},
    {"CC_CRM_USER", NULL, "forms login: user name"},
    {"CC_CRM_PASSWORD", NULL, "forms login: password"},
    {"CC_CRM_IDENTITY_URL", NULL, "oauth: the Identity Service root (POST /connect/token)"},
    {"CC_CRM_CLIENT_ID", NULL, "oauth: client id"},
    {"CC_CRM_CLIENT_SECRET", NULL, "oauth: client secret"},
    {"CC_CRM_CA_FILE", NULL, "CA bundle for a private CA (TLS is always verified)"},
    {"CC_CRM_UI_URL", NULL, "record links for the desk; {object} and {id} are replaced"},
    {"CC_CRM_WEBHOOK_URL", NULL, "webhook: where signed events are POSTed"},
    {"CC_CRM_WEBHOOK_SECRET", NULL, "webhook: HMAC-SHA256 key of the signatures"},
    {"CC_CRM_PROVISIONING_TOKEN", NULL,
     "secret POST /crm/v1/provisioning must carry (Bearer, or Basic with it as password)"},
    {"CC_CRM_PHONE_DIGITS", "7", "identification: the last N digits of a phone are matched"},
    {"CC_CRM_POLL_S", "60", "provisioning: seconds between ModifiedOn polls (fallback)"},
    {"CC_CRM_TIMEOUT_MS", "10000", "one request to the CRM"},
    {"CC_CRM_NAMES", NULL,
     "object/field names differing from the defaults: key=Value,... (docs/crm.md)"},
    {"CC_CRM_ALLOW_PRIVATE", "0",
     "1 lets CRM requests go to loopback/private addresses (tests only; SPEC 8)"},
    {NULL, NULL, NULL},
};

static const char *env(const char *name)
{
    const char *v = cc_env_str(name, NULL);
    return v && v[0] ? v : NULL;
}

static int env_int(const char *name, int64_t def, int64_t *out)
{
    return cc_env_int(name, def, INT64_MIN / 2, INT64_MAX / 2, out) == CC_OK ? 0 : -1;
}

/* The environment's settings, packed into *out (malloc'ed). */
static enum cc_status env_packed(uint8_t **out, size_t *len)
{
    Cc__V1__CrmSettings s = CC__V1__CRM_SETTINGS__INIT;
    s.type = CC_PB_STR(cc_env_str("CC_CRM_TYPE", "none"));
    s.url = CC_PB_STR(env("CC_CRM_URL"));
    s.odata_prefix = CC_PB_STR(cc_env_str("CC_CRM_ODATA_PREFIX", "/0/odata"));
    s.auth = CC_PB_STR(cc_env_str("CC_CRM_AUTH", "forms"));
    s.user = CC_PB_STR(env("CC_CRM_USER")), s.password = CC_PB_STR(env("CC_CRM_PASSWORD"));
    s.identity_url = CC_PB_STR(env("CC_CRM_IDENTITY_URL"));
    s.client_id = CC_PB_STR(env("CC_CRM_CLIENT_ID"));
    s.client_secret = CC_PB_STR(env("CC_CRM_CLIENT_SECRET"));
    s.ca_file = CC_PB_STR(env("CC_CRM_CA_FILE")), s.ui_url = CC_PB_STR(env("CC_CRM_UI_URL"));
    s.webhook_url = CC_PB_STR(env("CC_CRM_WEBHOOK_URL"));
    s.webhook_secret = CC_PB_STR(env("CC_CRM_WEBHOOK_SECRET"));
    s.provisioning_token = CC_PB_STR(env("CC_CRM_PROVISIONING_TOKEN"));
    if (env_int("CC_CRM_PHONE_DIGITS", 7, &s.phone_digits) ||
        env_int("CC_CRM_POLL_S", 60, &s.poll_s) ||
        env_int("CC_CRM_TIMEOUT_MS", 10000, &s.timeout_ms))
        return CC_ERR_INVALID;
    s.has_phone_digits = s.has_poll_s = s.has_timeout_ms = 1;
    *len = protobuf_c_message_get_packed_size(&s.base);
    if (!(*out = malloc(*len + 1)))
        return CC_ERR_NOMEM;
    protobuf_c_message_pack(&s.base, *out);
    return CC_OK;
}

static int is_url(const char *s)
{
    return s && strlen(s) < 512 && (!strncmp(s, "http://", 7) || !strncmp(s, "https://", 8)) &&
           !strpbrk(s, " \t\r\n\"'<>\\");
}

/* 1 when CC_CRM_ALLOW_PRIVATE lets CRM requests reach internal addresses. */
static int allow_private(void)
{
    int64_t v = 0;
    return cc_env_int("CC_CRM_ALLOW_PRIVATE", 0, 0, 1, &v) == CC_OK && v == 1;
}

/* The URLs crm-sync connects to: none may name an internal address. */
static enum cc_status check_hosts(const Cc__V1__CrmSettings *s, char *why, size_t cap)
{
    const struct {
        const char *name, *url;
    } urls[] = {
        {"url", s->url}, {"identity_url", s->identity_url}, {"webhook_url", s->webhook_url}};
    char reason[200];
    for (size_t i = 0; i < sizeof urls / sizeof *urls; i++)
        if (urls[i].url &&
            cc_netguard_url(urls[i].url, allow_private(), reason, sizeof reason) != CC_OK) {
            snprintf(why, cap, "%s: %s", urls[i].name, reason);
            return CC_ERR_INVALID;
        }
    return CC_OK;
}

/* Checks effective settings `s`; the reason into why. */
static enum cc_status check(const Cc__V1__CrmSettings *s, char *why, size_t cap)
{
    const char *p = s->odata_prefix ? s->odata_prefix : "";
    why[0] = 0;
    if (!s->type ||
        (strcmp(s->type, "none") && strcmp(s->type, "creatio") && strcmp(s->type, "webhook")))
        snprintf(why, cap, "type: none, creatio or webhook");
    else if (!s->auth || (strcmp(s->auth, "forms") && strcmp(s->auth, "oauth")))
        snprintf(why, cap, "auth: forms or oauth");
    else if ((p[0] && p[0] != '/') || strlen(p) > 64 ||
             strspn(p, "/_-.abcdefghijklmnopqrstuvwxyz"
                       "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != strlen(p))
        snprintf(why, cap, "odata_prefix: a path such as /0/odata");
    else if (s->phone_digits < 3 || s->phone_digits > 15)
        snprintf(why, cap, "phone_digits: 3..15");
    else if (s->poll_s < 5 || s->poll_s > 86400)
        snprintf(why, cap, "poll_s: 5..86400");
    else if (s->timeout_ms < 100 || s->timeout_ms > 120000)
        snprintf(why, cap, "timeout_ms: 100..120000");
    else if ((s->url && !is_url(s->url)) || (s->identity_url && !is_url(s->identity_url)) ||
             (s->webhook_url && !is_url(s->webhook_url)))
        snprintf(why, cap, "urls: http:// or https://");
    else if (s->ui_url && s->ui_url[0] && !is_url(s->ui_url))
        snprintf(why, cap, "ui_url: http:// or https://");
    else if (!strcmp(s->type, "webhook") && (!s->webhook_url || !s->webhook_secret))
        snprintf(why, cap, "webhook: webhook_url and webhook_secret are required");
    return why[0] ? CC_ERR_INVALID : check_hosts(s, why, cap);
}

/* "key=value,..." of the environment's and the stored name overrides. */
static char *names_spec(const Cc__V1__CrmSettings *s)
{
    struct cc_buf b = CC_BUF_INIT;
    const char *e = env("CC_CRM_NAMES");
    if (cc_buf_adds(&b, e ? e : "") != CC_OK)
        return NULL;
    for (size_t i = 0; i < s->n_names; i++)
        if (s->names[i]->key && s->names[i]->value &&
            cc_buf_addf(&b, ",%s=%s", s->names[i]->key, s->names[i]->value) != CC_OK)
            break;
    if (b.oom) {
        cc_buf_release(&b);
        return NULL;
    }
    size_t len;
    char *out = cc_buf_detach(&b, &len);
    return out ? out : strdup("");
}

static void conf_free(struct crm_conf *f)
{
    if (!f)
        return;
    creatio_free(f->creatio);
    if (f->s)
        cc__v1__crm_settings__free_unpacked(f->s, NULL);
    free(f->stored);
    free(f);
}

static enum cc_status make_client(struct crm_conf *f, char *why, size_t cap)
{
    const Cc__V1__CrmSettings *s = f->s;
    struct creatio_config cc = {s->url,
                                s->odata_prefix,
                                !strcmp(s->auth, "oauth"),
                                s->user,
                                s->password,
                                s->identity_url,
                                s->client_id,
                                s->client_secret,
                                s->ca_file,
                                (long)s->timeout_ms,
                                2000,
                                f->allow_private};
    enum cc_status st = creatio_new(&f->creatio, &cc);
    if (st == CC_ERR_INVALID)
        snprintf(why, cap, "creatio: url and %s are required",
                 cc.oauth ? "identity_url, client_id, client_secret" : "user, password");
    return st;
}

/* Builds a version from the environment and `stored` (len bytes, copied). */
static enum cc_status conf_build(const uint8_t *stored, size_t len, struct crm_conf **out,
                                 char *why, size_t cap)
{
    uint8_t *all = NULL;
    size_t elen = 0;
    char *spec = NULL;
    struct crm_conf *f = calloc(1, sizeof *f);
    enum cc_status st = f ? env_packed(&all, &elen) : CC_ERR_NOMEM;
    snprintf(why, cap, "%s", st == CC_ERR_INVALID ? "bad environment setting" : "");
    if (st != CC_OK)
        goto out;
    st = CC_ERR_NOMEM;
    uint8_t *more = realloc(all, elen + len + 1);
    if (!more)
        goto out;
    all = more;
    if (!(f->stored = malloc(len + 1)))
        goto out;
    memcpy(all + elen, stored, len), memcpy(f->stored, stored, len);
    f->stored_len = len;
    /* protobuf: two packed messages one after the other read as their merge */
    f->s = cc__v1__crm_settings__unpack(NULL, elen + len, all);
    st = CC_ERR_INVALID;
    if (!f->s) {
        snprintf(why, cap, "unreadable stored settings");
        goto out;
    }
    f->allow_private = allow_private();
    if ((st = check(f->s, why, cap)) != CC_OK || !(spec = names_spec(f->s)) ||
        (st = names_load(&f->names, spec, why, cap)) != CC_OK)
        goto out;
    f->type = !strcmp(f->s->type, "creatio")   ? CRM_CREATIO
              : !strcmp(f->s->type, "webhook") ? CRM_WEBHOOK
                                               : CRM_NONE;
    st = f->type == CRM_CREATIO ? make_client(f, why, cap) : CC_OK;
out:
    if (!spec && st == CC_OK)
        st = CC_ERR_NOMEM;
    free(spec);
    free(all);
    if (st != CC_OK)
        conf_free(f), f = NULL;
    else
        atomic_init(&f->refs, 1);
    *out = f;
    return st;
}

/* The stored part from Redis into *out (malloc'ed; empty when none). */
static enum cc_status load_stored(struct crm *c, uint8_t **out, size_t *len)
{
    redisReply *r = NULL;
    *out = NULL, *len = 0;
    enum cc_status st = cc_redis_run(c->redis, &r, "GET " KEY_CRM_SETTINGS, cc_tag());
    if (st == CC_OK && r->type == REDIS_REPLY_STRING) {
        if ((*out = malloc(r->len + 1)))
            memcpy(*out, r->str, r->len), *len = r->len;
        else
            st = CC_ERR_NOMEM;
    }
    if (r)
        freeReplyObject(r);
    return st;
}

static void swap_in(struct crm *c, struct crm_conf *f)
{
    pthread_mutex_lock(&c->lock);
    struct crm_conf *old = c->conf;
    c->conf = f;
    pthread_mutex_unlock(&c->lock);
    if (old)
        settings_put(old);
}

enum cc_status settings_start(struct crm *c)
{
    uint8_t *stored = NULL;
    size_t len = 0;
    char why[256];
    struct crm_conf *f = NULL;
    pthread_mutex_init(&c->lock, NULL);
    if (load_stored(c, &stored, &len) != CC_OK)
        CC_WARN("crm: stored settings not readable now (Redis); the environment's for now");
    enum cc_status st = conf_build(stored ? stored : (const uint8_t *)"", len, &f, why, sizeof why);
    if (st != CC_OK && len) {
        CC_ERROR("crm: stored settings ignored: %s", why);
        st = conf_build((const uint8_t *)"", 0, &f, why, sizeof why);
    }
    free(stored);
    if (st != CC_OK) {
        CC_ERROR("crm: configuration: %s", why);
        return st;
    }
    swap_in(c, f);
    CC_INFO("crm: type %s", f->s->type);
    return CC_OK;
}

void settings_release(struct crm *c)
{
    swap_in(c, NULL);
    pthread_mutex_destroy(&c->lock);
}

struct crm_conf *settings_get(struct crm *c)
{
    pthread_mutex_lock(&c->lock);
    struct crm_conf *f = c->conf;
    atomic_fetch_add(&f->refs, 1);
    pthread_mutex_unlock(&c->lock);
    return f;
}

void settings_put(struct crm_conf *f)
{
    if (f && atomic_fetch_sub(&f->refs, 1) == 1)
        conf_free(f);
}

void settings_reload(struct crm *c)
{
    uint8_t *stored = NULL;
    size_t len = 0;
    char why[256];
    struct crm_conf *cur = settings_get(c), *f = NULL;
    if (load_stored(c, &stored, &len) == CC_OK &&
        (len != cur->stored_len || (len && memcmp(stored, cur->stored, len)))) {
        if (conf_build(stored ? stored : (const uint8_t *)"", len, &f, why, sizeof why) == CC_OK) {
            swap_in(c, f);
            CC_INFO("crm: settings changed: type %s", f->s->type);
        } else {
            CC_ERROR("crm: stored settings not applied: %s", why);
        }
    }
    settings_put(cur);
    free(stored);
}

void settings_ui_url(const struct crm_conf *conf, const char *object, const char *id, char *out,
                     size_t cap)
{
    const char *t = conf->s->ui_url;
    struct cc_buf b = CC_BUF_INIT;
    out[0] = 0;
    if (!t || !t[0] || !id)
        return;
    for (const char *p = t; *p; p++) {
        if (!strncmp(p, "{object}", 8))
            (void)cc_buf_adds(&b, object), p += 7;
        else if (!strncmp(p, "{id}", 4))
            (void)cc_buf_adds(&b, id), p += 3;
        else
            (void)cc_buf_add(&b, p, 1);
    }
    if (b.data && !b.oom)
        snprintf(out, cap, "%s", b.data);
    cc_buf_release(&b);
}

/* --- cc.crm.settings.get / put ------------------------------------------------------------ */

static int is_admin(const Cc__V1__Caller *who)
{
    return who && who->role && !strcmp(who->role, "admin");
}

/* Answers the effective settings without secrets. */
static void answer(struct crm *c, const struct cc_nats_msg *m, const struct crm_conf *f)
{
    Cc__V1__CrmSettings out = *f->s;
    out.has_has_password = out.has_has_client_secret = 1;
    out.has_has_webhook_secret = out.has_has_provisioning_token = 1;
    out.has_password = f->s->password && f->s->password[0];
    out.has_client_secret = f->s->client_secret && f->s->client_secret[0];
    out.has_webhook_secret = f->s->webhook_secret && f->s->webhook_secret[0];
    out.has_provisioning_token = f->s->provisioning_token && f->s->provisioning_token[0];
    out.password = out.client_secret = out.webhook_secret = out.provisioning_token = NULL;
    if (cc_nats_respond(c->nats, m, &out.base) != CC_OK)
        CC_WARN("crm: settings answer not sent");
}

void settings_on_get(void *arg, const struct cc_nats_msg *m)
{
    struct crm *c = arg;
    Cc__V1__SettingsRequest *req = cc__v1__settings_request__unpack(NULL, m->len, m->data);
    if (!req || !is_admin(req->caller)) {
        (void)cc_nats_respond_error(c->nats, m, req ? CC_ERR_FORBIDDEN : CC_ERR_INVALID, NULL);
    } else {
        struct crm_conf *f = settings_get(c);
        answer(c, m, f);
        settings_put(f);
    }
    if (req)
        cc__v1__settings_request__free_unpacked(req, NULL);
}

/* The stored part with `given` laid over it, name overrides kept once per
 * key (the last), packed into *out. */
static enum cc_status merge(const uint8_t *stored, size_t len, const Cc__V1__CrmSettings *given,
                            uint8_t **out, size_t *out_len)
{
    size_t glen = protobuf_c_message_get_packed_size(&given->base);
    uint8_t *all = malloc(len + glen + 1);
    if (!all)
        return CC_ERR_NOMEM;
    memcpy(all, stored, len);
    protobuf_c_message_pack(&given->base, all + len);
    Cc__V1__CrmSettings *s = cc__v1__crm_settings__unpack(NULL, len + glen, all);
    free(all);
    if (!s)
        return CC_ERR_INVALID;
    size_t n = 0;
    for (size_t i = 0; i < s->n_names; i++) {
        int later = 0;
        for (size_t j = i + 1; j < s->n_names && !later; j++)
            later =
                s->names[i]->key && s->names[j]->key && !strcmp(s->names[i]->key, s->names[j]->key);
        if (later)
            cc__v1__crm_name__free_unpacked(s->names[i], NULL);
        else
            s->names[n++] = s->names[i];
    }
    s->n_names = n;
    *out_len = protobuf_c_message_get_packed_size(&s->base);
    *out = malloc(*out_len + 1);
    if (*out)
        protobuf_c_message_pack(&s->base, *out);
    cc__v1__crm_settings__free_unpacked(s, NULL);
    return *out ? CC_OK : CC_ERR_NOMEM;
}

/* Checks the name overrides of a put one by one, for a precise reason. */
static enum cc_status check_names(const Cc__V1__CrmSettings *g, char *why, size_t cap)
{
    for (size_t i = 0; i < g->n_names; i++) {
        enum crm_name n;
        const char *k = g->names[i]->key, *v = g->names[i]->value;
        if (!k || !v || names_check(k, v, &n) != CC_OK) {
            snprintf(why, cap, "names[%zu]: unknown key or bad value", i);
            return CC_ERR_INVALID;
        }
    }
    return CC_OK;
}

static enum cc_status put(struct crm *c, const Cc__V1__CrmSettings *given, char *why, size_t cap)
{
    uint8_t *stored = NULL, *next = NULL;
    size_t len = 0, nlen = 0;
    struct crm_conf *f = NULL;
    enum cc_status st = check_names(given, why, cap);
    if (st == CC_OK && (st = load_stored(c, &stored, &len)) != CC_OK)
        snprintf(why, cap, "settings store unavailable");
    if (st == CC_OK)
        st = merge(stored ? stored : (const uint8_t *)"", len, given, &next, &nlen);
    if (st == CC_OK)
        st = conf_build(next, nlen, &f, why, cap);
    if (st == CC_OK)
        st = cc_redis_do_bin(c->redis, "SET " KEY_CRM_SETTINGS " %b", cc_tag(), next, nlen);
    if (st == CC_OK) {
        swap_in(c, f), f = NULL;
        if (cc_nats_publish(c->nats, SUBJ_CRM_SETTINGS_CHANGED, NULL) != CC_OK)
            CC_WARN("crm: settings change not announced; replicas see it within seconds");
    }
    conf_free(f);
    free(stored), free(next);
    return st;
}

void settings_on_put(void *arg, const struct cc_nats_msg *m)
{
    struct crm *c = arg;
    char why[256] = "";
    Cc__V1__SettingsRequest *req = cc__v1__settings_request__unpack(NULL, m->len, m->data);
    enum cc_status st = !req                     ? CC_ERR_INVALID
                        : !is_admin(req->caller) ? CC_ERR_FORBIDDEN
                        : !req->settings         ? CC_ERR_INVALID
                                                 : CC_OK;
    if (st == CC_OK &&
        (req->settings->has_has_password || req->settings->has_has_client_secret ||
         req->settings->has_has_webhook_secret || req->settings->has_has_provisioning_token))
        req->settings->has_has_password = req->settings->has_has_client_secret =
            req->settings->has_has_webhook_secret = req->settings->has_has_provisioning_token = 0;
    if (st == CC_OK)
        st = put(c, req->settings, why, sizeof why);
    if (st == CC_OK) {
        struct crm_conf *f = settings_get(c);
        answer(c, m, f);
        settings_put(f);
        CC_INFO("crm: settings changed by %s", req->caller->user_id ? req->caller->user_id : "?");
    } else {
        (void)cc_nats_respond_error(c->nats, m, st, why[0] ? why : NULL);
    }
    if (req)
        cc__v1__settings_request__free_unpacked(req, NULL);
}
