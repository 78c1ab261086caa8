/* Test helper: sends one routing event to agent-registry the way skill-router,
 * chat-gateway and call-router do (cc.presence.route, cc.v1.RoutingEvent) and
 * prints the answer as one JSON line: the AgentStatus, or {"error": ...}.
 * Usage: CC_TEST_NATS_URL=nats://... it_route AGENT_ID EVENT KIND [QUEUE_ID [INTERACTION_ID]]
 * (an empty QUEUE_ID means none). */
#include "cc/v1/presence.pb-c.h"
#include "cc_config.h"
#include "cc_nats.h"
#include "cc_pbjson.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    Cc__V1__RoutingEvent ev = CC__V1__ROUTING_EVENT__INIT;
    ProtobufCMessage *rep = NULL;
    struct cc_nats *n;
    char err[256];
    const char *url = cc_env_str("CC_TEST_NATS_URL", NULL);
    if (argc < 4 || !url || cc_nats_connect(&n, url, "it_route") != CC_OK)
        return 2;
    for (int i = 0; i < 200 && !cc_nats_connected(n); i++)
        usleep(10000);
    ev.agent_id = argv[1], ev.event = argv[2], ev.kind = argv[3];
    ev.queue_id = argc > 4 && argv[4][0] ? argv[4] : NULL;
    ev.interaction_id = argc > 5 ? argv[5] : NULL;
    enum cc_status st = cc_nats_request(n, "cc.presence.route", &ev.base,
                                        &cc__v1__agent_status__descriptor, 5000, &rep, err,
                                        sizeof err);
    if (st == CC_OK) {
        cJSON *j = cc_pbjson_to_json(rep, 0);
        char *s = j ? cJSON_PrintUnformatted(j) : NULL;
        printf("%s\n", s ? s : "{}");
        free(s);
        cJSON_Delete(j);
        protobuf_c_message_free_unpacked(rep, NULL);
    } else {
        printf("{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}\n", cc_status_code(st), err);
    }
    cc_nats_drain(n, 500);
    cc_nats_free(n);
    cc_nats_library_close();
    return st == CC_OK ? 0 : 1;
}
