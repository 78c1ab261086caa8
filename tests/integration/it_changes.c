/* Test helper: prints every configuration change event that agent-registry
 * publishes (cc.registry.changed.>) as one JSON line on stdout, until
 * SIGTERM. tests/system/test_registry_events.py runs it beside the services.
 * Usage: CC_TEST_NATS_URL=nats://... it_changes */
#include "cc/v1/registry.pb-c.h"
#include "cc_config.h"
#include "cc_nats.h"
#include "cc_pbjson.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

static void on_change(void *arg, const struct cc_nats_msg *m)
{
    (void)arg;
    Cc__V1__ConfigChanged *ev = cc__v1__config_changed__unpack(NULL, m->len, m->data);
    cJSON *json = ev ? cc_pbjson_to_json(&ev->base, 0) : NULL;
    char *text = json ? cJSON_PrintUnformatted(json) : NULL;
    printf("%s\n", text ? text : "{\"error\":\"unreadable event\"}");
    fflush(stdout);
    free(text);
    cJSON_Delete(json);
    if (ev)
        cc__v1__config_changed__free_unpacked(ev, NULL);
}

int main(void)
{
    struct cc_nats *n;
    sigset_t set;
    int sig;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    const char *url = cc_env_str("CC_TEST_NATS_URL", NULL);
    if (!url || cc_nats_connect(&n, url, "it_changes") != CC_OK ||
        cc_nats_subscribe(n, "cc.registry.changed.>", NULL, on_change, NULL) != CC_OK)
        return 1;
    printf("{\"ready\":true}\n");
    fflush(stdout);
    sigwait(&set, &sig);
    cc_nats_drain(n, 1000);
    cc_nats_free(n);
    cc_nats_library_close();
    return 0;
}
