/* Test helper: sends one protobuf request built from JSON to a NATS subject
 * and prints the reply as one JSON line ({"error": {...}} on failure), the
 * way a service on the bus would talk to another.
 * Usage: CC_TEST_NATS_URL=nats://... it_request SUBJECT REQUEST_TYPE REPLY_TYPE JSON
 * Types are message names of proto/cc/v1 (e.g. Interaction, OfferAction). */
#include "cc/v1/call.pb-c.h"
#include "cc/v1/crm.pb-c.h"
#include "cc/v1/presence.pb-c.h"
#include "cc/v1/registry.pb-c.h"
#include "cc/v1/routing.pb-c.h"
#include "cc_config.h"
#include "cc_log.h"
#include "cc_nats.h"
#include "cc_pbjson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const ProtobufCMessageDescriptor *type(const char *name)
{
    static const ProtobufCMessageDescriptor *all[] = {
        &cc__v1__interaction__descriptor,   &cc__v1__offer_action__descriptor,
        &cc__v1__offer__descriptor,         &cc__v1__trace__descriptor,
        &cc__v1__agent_status__descriptor,  &cc__v1__routing_event__descriptor,
        &cc__v1__status_change__descriptor, &cc__v1__agent_query__descriptor,
        &cc__v1__call_request__descriptor,  &cc__v1__call__descriptor,
        &cc__v1__call_list__descriptor,     &cc__v1__contact_query__descriptor,
        &cc__v1__contact_list__descriptor,  &cc__v1__settings_request__descriptor,
        &cc__v1__crm_settings__descriptor,  &cc__v1__crm_status__descriptor,
        &cc__v1__case_request__descriptor,  &cc__v1__case_reply__descriptor,
        &cc__v1__link_request__descriptor,  &cc__v1__contact__descriptor,
        &cc__v1__record_links__descriptor};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(all[i]->short_name, name) == 0)
            return all[i];
    return NULL;
}

int main(int argc, char **argv)
{
    ProtobufCMessage *req = NULL, *rep = NULL;
    struct cc_nats *n;
    char why[256] = "";
    const char *url = cc_env_str("CC_TEST_NATS_URL", NULL);
    const ProtobufCMessageDescriptor *rq = argc == 5 ? type(argv[2]) : NULL,
                                     *rp = argc == 5 ? type(argv[3]) : NULL;
    cJSON *in = argc == 5 ? cJSON_Parse(argv[4]) : NULL;
    if (!url || !rq || !rp || !in || cc_pbjson_from_json(rq, in, &req, why, sizeof why) != CC_OK) {
        fprintf(stderr, "usage: it_request SUBJECT REQUEST_TYPE REPLY_TYPE JSON (%s)\n", why);
        return 2;
    }
    cJSON_Delete(in);
    if (cc_nats_connect(&n, url, "it_request") != CC_OK)
        return 2;
    for (int i = 0; i < 200 && !cc_nats_connected(n); i++)
        usleep(10000);
    enum cc_status st = cc_nats_request(n, argv[1], req, rp, 10000, &rep, why, sizeof why);
    if (st == CC_OK) {
        cJSON *j = cc_pbjson_to_json(rep, 1);
        char *s = j ? cJSON_PrintUnformatted(j) : NULL;
        printf("%s\n", s ? s : "{}");
        free(s);
        cJSON_Delete(j);
        protobuf_c_message_free_unpacked(rep, NULL);
    } else {
        char esc[512];
        cc_json_escape(esc, sizeof esc, why);
        printf("{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}\n", cc_status_code(st), esc);
    }
    protobuf_c_message_free_unpacked(req, NULL);
    cc_nats_drain(n, 500);
    cc_nats_free(n);
    cc_nats_library_close();
    return st == CC_OK ? 0 : 1;
}
