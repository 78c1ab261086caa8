/* media.c - files customers send: fetched from the provider (a lookup
 * first for Telegram and WhatsApp Cloud) while the message is consumed from
 * CHAT_IN, only from where the channel's media policy allows
 * (http_fetch_media), and stored like an agent's upload (cc_files), so that
 * agents read them through our own expiring links. A file that cannot be
 * fetched leaves its message whole, the attachment marked unavailable. */
#include "chatgw.h"
#include "cc_files.h"
#include "cc_log.h"
#include "cc_time.h"
#include "provider.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOOKUP_MAX (64 * 1024)

static void set_str(char **field, const char *v)
{
    free(*field);
    *field = v ? strdup(v) : NULL;
}

/* A failed request's status: try again for no answer, 429 and 5xx. */
static enum cc_status failed(long status)
{
    return status == 0 || status == 429 || status >= 500 ? CC_ERR_UNAVAILABLE : CC_ERR_NOT_FOUND;
}

/* What an agent reads for a file that could not be fetched. */
static void unavailable(struct chatgw *g, Cc__V1__Attachment *att, enum cc_status st,
                        const char *why)
{
    char text[300];
    if (st == CC_ERR_FORBIDDEN) /* never kept nor shown: it named where it may not go */
        set_str(&att->provider_ref, NULL);
    snprintf(text, sizeof text, "%s%s%s",
             st == CC_ERR_FORBIDDEN   ? "refused by the media policy"
             : st == CC_ERR_TOO_LARGE ? "larger than the largest file accepted"
                                      : "not fetched",
             why[0] ? ": " : "", why);
    set_str(&att->unavailable, text);
    cc_metric_add(g->m_media,
                  st == CC_ERR_TOO_LARGE   ? "result=\"too_large\""
                  : st == CC_ERR_FORBIDDEN ? "result=\"refused\""
                                           : "result=\"failed\"",
                  1);
}

enum cc_status media_fetch(struct chatgw *g, const Cc__V1__Channel *ch, Cc__V1__Attachment *att)
{
    struct provider_request req = PROVIDER_REQUEST_INIT;
    enum provider_type type = provider_type_parse(ch->type);
    char why[256] = "", *body = NULL, token[80], url[512];
    size_t len = 0;
    long status = 0;
    struct cc_file f;
    int64_t deadline = cc_time_mono_us() + g->media_timeout_ms * 1000;
    enum cc_status st =
        provider_build_media_fetch(type, ch, att->provider_ref, &req, why, sizeof why);
    if (st == CC_OK && req.lookup) {
        st =
            http_fetch_media(ch, &req, deadline, LOOKUP_MAX, &status, &body, &len, why, sizeof why);
        provider_request_release(&req);
        if (st == CC_OK || (status && st != CC_ERR_FORBIDDEN))
            st = provider_parse_media_lookup(type, ch, status, body, len, &req, why, sizeof why);
        free(body);
        body = NULL;
    }
    if (st == CC_OK) {
        st = http_fetch_media(ch, &req, deadline, (size_t)g->file_max_bytes, &status, &body, &len,
                              why, sizeof why);
        if (st == CC_OK && (status < 200 || status > 299)) {
            snprintf(why, sizeof why, "HTTP %ld", status);
            st = failed(status);
        }
    }
    provider_request_release(&req);
    if (st == CC_OK)
        st = cc_files_put(g->redis, g->file_dir, body, len, att->name ? att->name : att->kind, NULL,
                          &f);
    free(body);
    if (st == CC_OK)
        st = cc_files_link(g->redis, f.id, g->link_ttl_s, token, sizeof token);
    if (st != CC_OK) {
        CC_WARN("media: %s of channel %s not fetched: %s %s", att->kind, ch->id, cc_status_str(st),
                why);
        if (st != CC_ERR_UNAVAILABLE)
            unavailable(g, att, st, why);
        return st;
    }
    cc_metric_add(g->m_media, "result=\"stored\"", 1);
    snprintf(url, sizeof url, "%s/files/%s", g->public_url, token);
    set_str(&att->file_id, f.id);
    set_str(&att->mime, f.mime);
    set_str(&att->url, url);
    set_str(&att->unavailable, NULL);
    if (!att->name)
        set_str(&att->name, f.name);
    att->has_size = 1, att->size = f.size;
    return CC_OK;
}

void media_unavailable(struct chatgw *g, Cc__V1__Attachment *att, const char *why)
{
    unavailable(g, att, CC_ERR_UNAVAILABLE, why);
}
