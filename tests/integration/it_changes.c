/* Test helper: prints every event agent-registry publishes on a subject as
 * one JSON line on stdout, until SIGTERM: configuration changes
 * (cc.registry.changed.>, the default) or, with the argument "status", agent
 * status changes (cc.presence.changed.>). The system tests run it beside the
 * services. Usage: CC_TEST_NATS_URL=nats://... it_changes [status] */
#include "cc/v1/presence.pb-c.h"
#include "cc/v1/registry.pb-c.h"
#include "cc_config.h"
#include "cc_nats.h"
#include "cc_pbjson.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void on_change(void *arg, const struct cc_nats_msg *m)
{
    const ProtobufCMessageDescriptor *desc = arg;
    ProtobufCMessage *ev = protobuf_c_message_unpack(desc, NULL, m->len, m->data);
    cJSON *json = ev ? cc_pbjson_to_json(ev, 0) : NULL;
    char *text = json ? cJSON_PrintUnformatted(json) : NULL;
    printf("%s\n", text ? text : "{\"error\":\"unreadable event\"}");
    fflush(stdout);
    free(text);
    cJSON_Delete(json);
    if (ev)
        protobuf_c_message_free_unpacked(ev, NULL);
}

int main(int argc, char **argv)
{
    int status = argc > 1 && strcmp(argv[1], "status") == 0;
    struct cc_nats *n;
    sigset_t set;
    int sig;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    const char *url = cc_env_str("CC_TEST_NATS_URL", NULL);
    if (!url || cc_nats_connect(&n, url, "it_changes") != CC_OK ||
        cc_nats_subscribe(n, status ? "cc.presence.changed.>" : "cc.registry.changed.>", NULL,
                          on_change,
                          (void *)(status ? &cc__v1__agent_status__descriptor
                                          : &cc__v1__config_changed__descriptor)) != CC_OK)
        return 1;
    printf("{\"ready\":true}\n");
    fflush(stdout);
    sigwait(&set, &sig);
    cc_nats_drain(n, 1000);
    cc_nats_free(n);
    cc_nats_library_close();
    return 0;
}
