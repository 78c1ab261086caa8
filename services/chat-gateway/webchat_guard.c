/* webchat_guard.c - who may call the web-chat API and how often.
 *
 * CORS: a page of another origin may call the API of a web-chat channel
 * when the channel lists that origin in allowed_origins (agent-registry
 * validates and normalizes them to what browsers send in Origin). The
 * preflight (OPTIONS) is answered 204 with the CORS headers, or 403 without
 * them; a request carrying an Origin that is neither this service's own nor
 * allowed is refused 403 before it does anything, so a page elsewhere cannot
 * open sessions even with requests that need no preflight.
 *
 * Limits: sessions and messages per client address (IPv6: per /64) and per
 * channel, each a number per minute that may also come at once (a generic
 * cell rate algorithm in Redis, rate_limit.lua, shared by every replica).
 * Over a limit: 429 with Retry-After, counted in
 * cc_chat_webchat_limited_total. When Redis cannot answer, requests go on
 * (what they do needs Redis or NATS anyway and fails on its own). */
#include "chatgw.h"
#include "cc_log.h"
#include "cc_keys.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

extern const char rate_limit_lua[];
static struct cc_redis_script limit_script = CC_REDIS_SCRIPT("rate_limit", rate_limit_lua);

#define PREFLIGHT_MAX_AGE_S "600"

/* --- CORS ---------------------------------------------------------------------------------------
 */

/* The origin (scheme://host[:port], lower case) of `url` into out. */
static void origin_of(const char *url, char *out, size_t cap)
{
    const char *p = strstr(url, "://");
    size_t n = p ? (size_t)(p - url) + 3 + strcspn(p + 3, "/?#") : 0;
    if (n >= cap)
        n = 0;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)(url[i] >= 'A' && url[i] <= 'Z' ? url[i] - 'A' + 'a' : url[i]);
    out[n] = 0;
}

/* 1 when `origin` is this service's own: its public URL's, or the Host the browser asked. */
static int same_origin(struct chatgw *g, struct cc_http_req *req, const char *origin)
{
    char own[300];
    const char *host = cc_http_header(req, "Host");
    origin_of(g->public_url, own, sizeof own);
    if (own[0] && !strcasecmp(own, origin))
        return 1;
    const char *rest = !strncmp(origin, "http://", 7)    ? origin + 7
                       : !strncmp(origin, "https://", 8) ? origin + 8
                                                         : NULL;
    return host && rest && !strcasecmp(host, rest);
}

static int listed(const Cc__V1__Channel *ch, const char *origin)
{
    for (size_t i = 0; i < ch->n_allowed_origins; i++)
        if (!strcmp(ch->allowed_origins[i], origin))
            return 1;
    return 0;
}

/* 1 when web-chat channel `channel_id` allows `origin`; with channel_id NULL,
 * when any web-chat channel does (a session that is not known any more). */
static int origin_allowed(struct chatgw *g, const char *channel_id, const char *origin)
{
    const Cc__V1__Channel *ch;
    const struct channels *cs = channel_id ? channels_get_for(g, channel_id, &ch) : channels_get(g);
    int ok = 0;
    if (channel_id)
        ok = ch && !strcmp(ch->type, "webchat") && listed(ch, origin);
    for (size_t i = 0; !channel_id && !ok && i < cs->n; i++)
        ok = !strcmp(cs->items[i]->type, "webchat") && listed(cs->items[i], origin);
    channels_put(cs);
    return ok;
}

static void refuse_origin(struct chatgw *g, struct cc_http_resp *resp, const char *origin)
{
    char why[200];
    snprintf(why, sizeof why, "origin %.120s may not use this web-chat channel", origin);
    cc_metric_add(g->m_webchat_refused, "reason=\"origin\"", 1);
    cc_http_error(resp, CC_ERR_FORBIDDEN, why);
}

int webchat_cors(struct chatgw *g, struct cc_http_req *req, struct cc_http_resp *resp,
                 const char *channel_id)
{
    const char *origin = cc_http_header(req, "Origin");
    if (!origin || same_origin(g, req, origin))
        return 1;
    cc_http_add_header(req, resp, "Vary", "Origin");
    if (!origin_allowed(g, channel_id, origin)) {
        refuse_origin(g, resp, origin);
        return 0;
    }
    cc_http_add_header(req, resp, "Access-Control-Allow-Origin", origin);
    cc_http_add_header(req, resp, "Access-Control-Expose-Headers", "Retry-After");
    return 1;
}

/* Answers a preflight for channel `channel_id` (NULL: any web-chat channel). */
static void preflight(struct chatgw *g, struct cc_http_req *req, struct cc_http_resp *resp,
                      const char *channel_id)
{
    const char *origin = cc_http_header(req, "Origin");
    cc_http_add_header(req, resp, "Vary", "Origin");
    if (origin && !same_origin(g, req, origin) && !origin_allowed(g, channel_id, origin)) {
        refuse_origin(g, resp, origin);
        return;
    }
    if (origin)
        cc_http_add_header(req, resp, "Access-Control-Allow-Origin", origin);
    cc_http_add_header(req, resp, "Access-Control-Allow-Methods", "GET, POST");
    cc_http_add_header(req, resp, "Access-Control-Allow-Headers", "Content-Type, X-Webchat-Token");
    cc_http_add_header(req, resp, "Access-Control-Max-Age", PREFLIGHT_MAX_AGE_S);
    cc_http_empty(resp, 204);
}

void webchat_preflight_channel(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    preflight(arg, req, resp, req->params[0]);
}

void webchat_preflight_session(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    struct chatgw *g = arg;
    redisReply *r = NULL;
    char channel[64] = "";
    /* the preflight carries no token: the session's channel decides, any web-chat
     * channel when the session is unknown (the request then gets its 401) */
    if (strlen(req->params[0]) < 64 &&
        cc_redis_run(g->redis, &r, "HGET " KEY_WCS " channel", cc_tag(), req->params[0]) == CC_OK &&
        r->type == REDIS_REPLY_STRING)
        snprintf(channel, sizeof channel, "%s", r->str);
    if (r)
        freeReplyObject(r);
    preflight(g, req, resp, channel[0] ? channel : NULL);
}

/* --- limits -------------------------------------------------------------------------------------
 */

/* The client's address as limited: IPv4 whole, IPv6 by its /64 (one host holds a /64). */
static void client_key(struct cc_http_req *req, char *out, size_t cap)
{
    struct in6_addr a;
    cc_http_peer(req, out, cap);
    if (strchr(out, ':') && inet_pton(AF_INET6, out, &a) == 1 && !IN6_IS_ADDR_V4MAPPED(&a)) {
        memset(a.s6_addr + 8, 0, 8);
        inet_ntop(AF_INET6, &a, out, (socklen_t)cap);
    }
}

int webchat_limit(struct chatgw *g, struct cc_http_req *req, struct cc_http_resp *resp,
                  enum webchat_limit what, const char *channel_id)
{
    static const char *const names[] = {"session", "message"};
    const char *name = names[what];
    int64_t per_address = what == WEBCHAT_LIMIT_SESSION ? g->limits.sessions_per_address
                                                        : g->limits.messages_per_address;
    int64_t per_channel = what == WEBCHAT_LIMIT_SESSION ? g->limits.sessions_per_channel
                                                        : g->limits.messages_per_channel;
    char addr[64], keys[2][200], args[5][24];
    const char *argv[7];
    int nkeys = 0, nargs = 0;
    const char *scope[2];
    client_key(req, addr, sizeof addr);
    /* each limiter: its key, then the interval between two (ms) and the burst */
    if (per_address > 0) {
        snprintf(keys[nkeys], sizeof keys[0], KEY_WCRL, cc_tag(), name, "address", addr);
        snprintf(args[nargs++], sizeof args[0], "%lld", (long long)(60000 / per_address));
        snprintf(args[nargs++], sizeof args[0], "%lld", (long long)per_address);
        scope[nkeys++] = "address";
    }
    if (per_channel > 0) {
        snprintf(keys[nkeys], sizeof keys[0], KEY_WCRL, cc_tag(), name, "channel", channel_id);
        snprintf(args[nargs++], sizeof args[0], "%lld", (long long)(60000 / per_channel));
        snprintf(args[nargs++], sizeof args[0], "%lld", (long long)per_channel);
        scope[nkeys++] = "channel";
    }
    if (!nkeys)
        return 1;
    for (int i = 0; i < nkeys; i++)
        argv[i] = keys[i];
    for (int i = 0; i < nargs; i++)
        argv[nkeys + i] = args[i];
    struct cc_redis_conn *c;
    redisReply *r = NULL;
    enum cc_status st = cc_redis_acquire(g->redis, &c);
    if (st == CC_OK) {
        st = cc_redis_eval(c, &limit_script, &r, nkeys, nkeys + nargs, argv, NULL);
        cc_redis_release(g->redis, c);
    }
    long long wait_ms = 0, which = 0;
    if (st == CC_OK && r->type == REDIS_REPLY_ARRAY && r->elements == 2)
        wait_ms = r->element[0]->integer, which = r->element[1]->integer;
    else
        CC_WARN("webchat: limits not checked: %s", cc_status_str(st));
    if (r)
        freeReplyObject(r);
    if (wait_ms <= 0 || which < 1 || which > nkeys)
        return 1;
    char labels[64], retry[24], why[160];
    snprintf(labels, sizeof labels, "what=\"%s\",scope=\"%s\"", name, scope[which - 1]);
    cc_metric_add(g->m_webchat_limited, labels, 1);
    snprintf(retry, sizeof retry, "%lld", (wait_ms + 999) / 1000);
    snprintf(why, sizeof why, "too many web-chat %ss from this %s; retry in %s s", name,
             scope[which - 1], retry);
    cc_http_error(resp, CC_ERR_RATE_LIMITED, why);
    cc_http_add_header(req, resp, "Retry-After", retry);
    return 0;
}
