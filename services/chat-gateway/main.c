/* main.c - chat-gateway: provider webhooks, the web-chat widget, chats,
 * messages and files (chatgw.h, docs/chat-gateway.md).
 *
 * Wiring only: configuration, connections, routes and signal handling come
 * from common/cc_service; behaviour lives in the modules beside this file. */
#include "chatgw.h"
#include "cc_log.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

static const struct cc_env_var env[] = {
    {"CC_PUBLIC_URL", "http://127.0.0.1:8081",
     "how customers and providers reach chat-gateway (file links, the widget)"},
    {"CC_FILES_DIR", "files", "where files live; every replica must see the same directory"},
    {"CC_FILE_MAX_BYTES", "20971520", "largest file accepted or fetched"},
    {"CC_FILE_LINK_TTL_S", "604800", "how long a file link works"},
    {"CC_SSE_KEEPALIVE_S", "15", "seconds between keepalives of web-chat event streams"},
    {"CC_CRM_IDENTIFY_MS", "300",
     "how long a new chat waits for crm-sync to identify its customer; 0: never ask"},
    {"CC_WEBCHAT_SESSIONS_PER_ADDRESS", "20",
     "web-chat sessions one client address may open per minute (0: no limit)"},
    {"CC_WEBCHAT_SESSIONS_PER_CHANNEL", "600",
     "web-chat sessions one channel may open per minute (0: no limit)"},
    {"CC_WEBCHAT_MESSAGES_PER_ADDRESS", "120",
     "web-chat messages one client address may send per minute (0: no limit)"},
    {"CC_WEBCHAT_MESSAGES_PER_CHANNEL", "6000",
     "web-chat messages one channel may take per minute (0: no limit)"},
    {"CC_MEDIA_TIMEOUT_MS", "20000",
     "how long fetching one inbound file may take, redirects included"},
    {NULL, NULL, NULL},
};

static int setup(struct chatgw *g, struct cc_service *svc)
{
    int64_t keepalive;
    g->svc = svc, g->nats = svc->nats, g->redis = svc->redis;
    g->public_url = cc_env_str("CC_PUBLIC_URL", "http://127.0.0.1:8081");
    g->file_dir = cc_env_str("CC_FILES_DIR", "files");
    if (cc_env_int("CC_FILE_MAX_BYTES", 20971520, 1, 1LL << 32, &g->file_max_bytes) != CC_OK ||
        cc_env_int("CC_FILE_LINK_TTL_S", 604800, 60, 31536000, &g->link_ttl_s) != CC_OK ||
        cc_env_int("CC_SSE_KEEPALIVE_S", 15, 1, 3600, &keepalive) != CC_OK ||
        cc_env_int("CC_CRM_IDENTIFY_MS", 300, 0, 5000, &g->identify_timeout_ms) != CC_OK ||
        cc_env_int("CC_WEBCHAT_SESSIONS_PER_ADDRESS", 20, 0, 1000000,
                   &g->limits.sessions_per_address) != CC_OK ||
        cc_env_int("CC_WEBCHAT_SESSIONS_PER_CHANNEL", 600, 0, 1000000,
                   &g->limits.sessions_per_channel) != CC_OK ||
        cc_env_int("CC_WEBCHAT_MESSAGES_PER_ADDRESS", 120, 0, 1000000,
                   &g->limits.messages_per_address) != CC_OK ||
        cc_env_int("CC_WEBCHAT_MESSAGES_PER_CHANNEL", 6000, 0, 1000000,
                   &g->limits.messages_per_channel) != CC_OK ||
        cc_env_int("CC_MEDIA_TIMEOUT_MS", 20000, 100, 300000, &g->media_timeout_ms) != CC_OK)
        return -1;
    g->sse_keepalive_us = keepalive * 1000000;
    static const double ms[] = {.0005, .001, .002, .005, .01, .025, .05, .1, .25, 1};
    static const double s[] = {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
    struct cc_metrics *m = svc->metrics;
    g->m_webhooks = cc_metrics_counter(m, "cc_chat_webhooks_total", "Webhooks by provider and result");
    g->m_messages = cc_metrics_counter(m, "cc_chat_messages_total", "Chat messages in and out");
    g->m_delivery_failures = cc_metrics_counter(m, "cc_chat_delivery_failures_total",
                                                "Messages the provider did not deliver");
    g->m_ingest_latency = cc_metrics_histogram(m, "cc_chat_webhook_seconds",
                                               "From a webhook's arrival to its 2xx (stored)", ms,
                                               (int)(sizeof ms / sizeof *ms));
    g->m_offer_latency = cc_metrics_histogram(m, "cc_chat_offer_seconds",
                                              "From a chat's first message to its first offer", s,
                                              (int)(sizeof s / sizeof *s));
    g->m_webchat_limited = cc_metrics_counter(m, "cc_chat_webchat_limited_total",
                                              "Web-chat sessions and messages refused 429 by "
                                              "what and the limit (address, channel)");
    g->m_webchat_refused = cc_metrics_counter(m, "cc_chat_webchat_refused_total",
                                              "Web-chat requests refused 403 by reason (origin)");
    g->m_media = cc_metrics_counter(m, "cc_chat_media_fetches_total",
                                    "Inbound files by result (stored, refused, failed)");
    pthread_mutex_init(&g->lock, NULL);
    return cc_events_new(&g->events, 256, 10000) == CC_OK ? 0 : -1;
}

int main(int argc, char **argv)
{
    static struct chatgw g;
    struct cc_service svc;
    if (cc_service_init(&svc, "chat-gateway", "CC_CHAT_PORT", 8081, env, argc, argv) != CC_OK)
        return 1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct cc_http_route routes[] = {
        {"POST", "/webhooks/{provider}/{channel_id}", webhooks_post, &g, 0},
        {"GET", "/webhooks/{provider}/{channel_id}", webhooks_get, &g, 0},
        {"GET", "/files/{token}", files_serve, &g, 0},
        {"POST", "/webchat/v1/{channel_id}/sessions", webchat_session_new, &g, CC_HTTP_JSON},
        {"GET", "/webchat/v1/{channel_id}/config", webchat_config, &g, 0},
        {"POST", "/webchat/v1/sessions/{id}/typing", webchat_typing, &g, 0},
        {"POST", "/webchat/v1/sessions/{id}/files", webchat_file, &g, CC_HTTP_LARGE},
        {"POST", "/webchat/v1/sessions/{id}/messages", webchat_send, &g, CC_HTTP_JSON},
        {"GET", "/webchat/v1/sessions/{id}/messages", webchat_messages, &g, 0},
        {"GET", "/webchat/v1/sessions/{id}/events", webchat_events, &g, 0},
        {"OPTIONS", "/webchat/v1/{channel_id}/sessions", webchat_preflight_channel, &g, 0},
        {"OPTIONS", "/webchat/v1/sessions/{id}/messages", webchat_preflight_session, &g, 0},
        {"OPTIONS", "/webchat/v1/sessions/{id}/events", webchat_preflight_session, &g, 0},
        {"OPTIONS", "/webchat/v1/sessions/{id}/typing", webchat_preflight_session, &g, 0},
        {"OPTIONS", "/webchat/v1/sessions/{id}/files", webchat_preflight_session, &g, 0},
        {"GET", "/webchat/widget.js", webchat_widget, &g, 0},
        {"GET", "/webchat/widget.css", webchat_widget_css, &g, 0},
        {"GET", "/webchat/demo/{channel_id}", webchat_demo, &g, 0},
    };
    int rc = 1;
    if (setup(&g, &svc) == 0 && records_start(&g) == CC_OK && channels_start(&g) == CC_OK &&
        webchat_start(&g) == CC_OK && inbound_start(&g) == CC_OK && outbound_start(&g) == CC_OK &&
        chats_start(&g) == CC_OK &&
        cc_service_serve(&svc, routes, (int)(sizeof routes / sizeof *routes),
                         (size_t)g.file_max_bytes) == CC_OK) {
        cc_service_wait(&svc);
        rc = 0;
    } else {
        CC_ERROR("chat-gateway: start-up failed");
    }
    inbound_stop(&g);
    records_stop(&g);
    cc_service_release(&svc); /* drains NATS: no handler runs after this */
    channels_release(&g);
    cc_events_free(g.events);
    pthread_mutex_destroy(&g.lock);
    curl_global_cleanup();
    return rc;
}
