/* main.c - crm-sync: CRM provisioning in, chat and call records out
 * through a durable outbox, contact identification and the desk's CRM
 * actions (crm.h, docs/crm.md).
 *
 * Wiring only: configuration, connections, routes and signal handling come
 * from common/cc_service; behaviour lives in the modules beside this file. */
#include "crm.h"
#include "provisioning.h"
#include "cc_log.h"
#include "cc_secret.h"

#include "cc_time.h"
#include "cc_subjects.h"

#include <curl/curl.h>
#include <sodium.h>
#include <unistd.h>

static void setup_metrics(struct crm *c)
{
    static const double s[] = {.01, .05, .1, .25, .5, 1, 2, 5, 10, 30, 60};
    struct cc_metrics *m = c->svc->metrics;
    c->m_records = cc_metrics_counter(m, "cc_crm_records_total", "Records written to the CRM");
    c->m_failures = cc_metrics_counter(m, "cc_crm_failures_total",
                                       "Records and agent records given up on (sync status)");
    c->m_provisioning =
        cc_metrics_counter(m, "cc_crm_provisioning_total", "Agent records from the CRM, by result");
    c->m_lag = cc_metrics_histogram(m, "cc_crm_sync_lag_seconds",
                                    "From a record's change to the CRM's 2xx", s,
                                    (int)(sizeof s / sizeof *s));
    c->m_backlog = cc_metrics_gauge(m, "cc_crm_backlog", "Records not yet written to the CRM");
}

/* Reloads the settings every 2 s (and on cc.crm.settings.changed), keeps
 * the backlog gauge fresh, polls the CRM's agent records every poll_s
 * (a full reconcile first). */
static void *worker(void *arg)
{
    struct crm *c = arg;
    int64_t next_poll = 0;
    for (int tick = 0; !atomic_load(&c->stopping); tick++) {
        usleep(200000);
        if (tick % 10 == 0) {
            settings_reload(c);
            status_refresh_backlog(c);
        }
        if (cc_time_mono_ms() >= next_poll) {
            struct crm_conf *conf = settings_get(c);
            next_poll = cc_time_mono_ms() + conf->s->poll_s * 1000;
            settings_put(conf);
            provisioning_poll(c, tick == 0); /* a full reconcile at start */
        }
    }
    return NULL;
}

static void on_settings_changed(void *arg, const struct cc_nats_msg *m)
{
    (void)m;
    settings_reload(arg);
}

static enum cc_status subscribe(struct crm *c)
{
    static const struct {
        const char *subject;
        cc_nats_handler fn;
    } subs[] = {
        {SUBJ_CRM_SETTINGS_GET, settings_on_get},
        {SUBJ_CRM_SETTINGS_PUT, settings_on_put},
        {SUBJ_CRM_STATUS_GET, status_on_get},
        {SUBJ_CRM_STATUS_RETRY, retry_on_request},
    };
    enum cc_status st =
        cc_nats_subscribe(c->nats, SUBJ_CRM_SETTINGS_CHANGED, NULL, on_settings_changed, c);
    for (size_t i = 0; st == CC_OK && i < sizeof subs / sizeof *subs; i++)
        st = cc_nats_subscribe(c->nats, subs[i].subject, "crm-sync", subs[i].fn, c);
    return st;
}

int main(int argc, char **argv)
{
    static struct crm c;
    struct cc_service svc;
    if (cc_service_init(&svc, "crm-sync", "CC_CRM_PORT", 8085, crm_env, argc, argv) != CC_OK)
        return 1;
    static const char *const secrets[] = {"CC_CRM_PASSWORD", "CC_CRM_CLIENT_SECRET",
                                          "CC_CRM_WEBHOOK_SECRET", "CC_CRM_PROVISIONING_TOKEN"};
    for (size_t i = 0; i < sizeof secrets / sizeof *secrets; i++)
        if (cc_secret_env(secrets[i], 1) != CC_OK) {
            cc_service_release(&svc);
            return 1;
        }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct cc_http_route routes[] = {
        {"POST", "/crm/v1/provisioning", provisioning_post, &c, CC_HTTP_JSON},
    };
    int rc = 1;
    c.svc = &svc, c.nats = svc.nats, c.redis = svc.redis;
    setup_metrics(&c);
    if (sodium_init() < 0 || settings_start(&c) != CC_OK) {
        CC_ERROR("crm-sync: start-up failed");
        cc_service_release(&svc);
        curl_global_cleanup();
        return 1;
    }
    c.working = pthread_create(&c.worker, NULL, worker, &c) == 0;
    if (c.working && subscribe(&c) == CC_OK && identify_start(&c) == CC_OK &&
        desk_start(&c) == CC_OK && records_start(&c) == CC_OK &&
        cc_service_serve(&svc, routes, (int)(sizeof routes / sizeof *routes), 0) == CC_OK) {
        cc_service_wait(&svc);
        rc = 0;
    } else {
        CC_ERROR("crm-sync: start-up failed");
    }
    atomic_store(&c.stopping, 1);
    if (c.working)
        pthread_join(c.worker, NULL);
    cc_service_release(&svc); /* drains NATS: no handler runs after this */
    settings_release(&c);
    curl_global_cleanup();
    return rc;
}
