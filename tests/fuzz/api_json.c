/* libFuzzer target: the HTTP API's JSON bodies as api-gateway and
 * crm-sync read them: the strict parse every JSON route goes through
 * (cc_json_parse_strict, common/cc_http.c), then the JSON-to-protobuf
 * mapping (cc_pbjson_from_json, common/cc_pbjson.c) into the type the route
 * takes. First byte: the type; the rest: the body. A body the mapping takes
 * must survive the way back: packed, mapped to JSON (cc_pbjson_to_json, as
 * answers are written) and read again, it gives the same bytes. */
#include "cc/v1/call.pb-c.h"
#include "cc/v1/chat.pb-c.h"
#include "cc/v1/crm.pb-c.h"
#include "cc/v1/registry.pb-c.h"
#include "cc_http.h"
#include "cc_pbjson.h"
#include "fuzz.h"

/* the bodies of api-gateway's JSON routes (routes.c, calls.c, chats.c,
 * crm.c) and of the generic CRM webhook's answers (crm-sync identify.c,
 * deskcrm.c) */
static const ProtobufCMessageDescriptor *const types[] = {
    &cc__v1__user__descriptor,         &cc__v1__team__descriptor,
    &cc__v1__skill__descriptor,        &cc__v1__queue__descriptor,
    &cc__v1__pause_cause__descriptor,  &cc__v1__quick_reply__descriptor,
    &cc__v1__result__descriptor,       &cc__v1__channel__descriptor,
    &cc__v1__agent_skill__descriptor,  &cc__v1__permissions__descriptor,
    &cc__v1__crm_settings__descriptor, &cc__v1__call__descriptor,
    &cc__v1__callback__descriptor,     &cc__v1__chat__descriptor,
    &cc__v1__contact__descriptor,      &cc__v1__case_reply__descriptor,
    &cc__v1__contact_list__descriptor,
};

static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *b = malloc(*len ? *len : 1);
    FUZZ_CHECK(b != NULL);
    FUZZ_CHECK(protobuf_c_message_pack(m, b) == *len);
    return b;
}

/* msg -> JSON -> msg again: the same message, byte for byte. */
static void round_trip(const ProtobufCMessageDescriptor *desc, const ProtobufCMessage *msg,
                       int nulls)
{
    size_t la, lb;
    cJSON *j = cc_pbjson_to_json(msg, nulls);
    FUZZ_CHECK(j != NULL);
    ProtobufCMessage *again = NULL;
    char why[256];
    enum cc_status st = cc_pbjson_from_json(desc, j, &again, why, sizeof why);
    if (st != CC_OK) {
        char *text = cJSON_PrintUnformatted(j);
        fprintf(stderr, "fuzz: %s does not read back: %s\n%s\n", desc->name, why, text);
        abort();
    }
    uint8_t *a = pack(msg, &la), *b = pack(again, &lb);
    FUZZ_CHECK(la == lb && !memcmp(a, b, la));
    free(a), free(b);
    protobuf_c_message_free_unpacked(again, NULL);
    cJSON_Delete(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const ProtobufCMessageDescriptor *desc = types[data[0] % (sizeof types / sizeof *types)];
    cJSON *json = NULL;
    const char *refused = cc_json_parse_strict((const char *)data + 1, size - 1, &json);
    if (refused) {
        FUZZ_CHECK(json == NULL);
        return 0;
    }
    FUZZ_CHECK(json != NULL);
    ProtobufCMessage *msg = NULL;
    char why[256];
    enum cc_status st = cc_pbjson_from_json(desc, json, &msg, why, sizeof why);
    FUZZ_CHECK(memchr(why, '\0', sizeof why));
    if (st == CC_OK) {
        FUZZ_CHECK(msg != NULL && why[0] == '\0');
        round_trip(desc, msg, 0);
        round_trip(desc, msg, 1);
        protobuf_c_message_free_unpacked(msg, NULL);
    } else {
        FUZZ_CHECK(msg == NULL && why[0] != '\0');
    }
    cJSON_Delete(json);
    return 0;
}
