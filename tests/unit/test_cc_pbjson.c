/* Unit tests for the JSON <-> protobuf mapper: round trips of the registry's
 * real messages, every refusal with its reason, nulls mode, and every field
 * type through a message described by hand below (registry.proto has no
 * enums, floats, oneofs, proto3 or required fields). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cc/v1/registry.pb-c.h"
#include "cc_pbjson.h"

/* --- a message with every field type, laid out as protoc-c would ---------- */

typedef struct Kitchen Kitchen;
struct Kitchen {
    ProtobufCMessage base;
    protobuf_c_boolean has_b, b;
    protobuf_c_boolean has_blob;
    ProtobufCBinaryData blob;
    size_t n_blobs;
    ProtobufCBinaryData *blobs;
    size_t n_bs;
    protobuf_c_boolean *bs;
    protobuf_c_boolean has_color;
    int32_t color;
    size_t n_colors;
    int32_t *colors;
    protobuf_c_boolean has_d;
    double d;
    char *dflt;
    protobuf_c_boolean has_f;
    float f;
    protobuf_c_boolean has_f32;
    uint32_t f32;
    protobuf_c_boolean has_f64;
    uint64_t f64;
    protobuf_c_boolean has_i32;
    int32_t i32;
    protobuf_c_boolean has_i64;
    int64_t i64;
    size_t n_i64s;
    int64_t *i64s;
    Kitchen *inner;
    size_t n_inners;
    Kitchen **inners;
    int32_t p3; /* proto3, no presence */
    char *p3s;  /* proto3, no presence */
    uint32_t pick_case;
    union {
        int32_t pick_n;
        char *pick_s;
    };
    protobuf_c_boolean has_s32;
    int32_t s32;
    protobuf_c_boolean has_s64;
    int64_t s64;
    protobuf_c_boolean has_sf32;
    int32_t sf32;
    protobuf_c_boolean has_sf64;
    int64_t sf64;
    char *str;
    size_t n_strs;
    char **strs;
    protobuf_c_boolean has_u32;
    uint32_t u32;
    size_t n_u32s;
    uint32_t *u32s;
    protobuf_c_boolean has_u64;
    uint64_t u64;
};

static const ProtobufCEnumValue color_values[] = {
    {"RED", "COLOR__RED", 0}, {"GREEN", "COLOR__GREEN", 1}, {"BLUE", "COLOR__BLUE", 5}};
static const ProtobufCEnumValueIndex color_by_name[] = {{"BLUE", 2}, {"GREEN", 1}, {"RED", 0}};
static const ProtobufCIntRange color_ranges[] = {{0, 0}, {5, 2}, {0, 3}};
static const ProtobufCEnumDescriptor color_desc = {
    .magic = PROTOBUF_C__ENUM_DESCRIPTOR_MAGIC,
    .name = "t.Color",
    .short_name = "Color",
    .c_name = "Color",
    .package_name = "t",
    .n_values = 3,
    .values = color_values,
    .n_value_names = 3,
    .values_by_name = color_by_name,
    .n_value_ranges = 2,
    .value_ranges = color_ranges,
};

static const ProtobufCMessageDescriptor kitchen_desc;
static char kitchen_dflt[] = "x";

static void kitchen_init(ProtobufCMessage *msg)
{
    static const Kitchen init = {.base = PROTOBUF_C_MESSAGE_INIT(&kitchen_desc),
                                 .dflt = kitchen_dflt,
                                 .p3s = (char *)protobuf_c_empty_string};
    memcpy(msg, &init, sizeof init);
}

/* clang-format off */
#define FIELD(type_, fname, num, lab, typ, quant, desc, dflt, fl)                                  \
    {.name = #fname, .id = num, .label = PROTOBUF_C_LABEL_##lab, .type = PROTOBUF_C_TYPE_##typ,    \
     .quantifier_offset = quant, .offset = offsetof(type_, fname), .descriptor = desc,            \
     .default_value = dflt, .flags = fl}
#define KF(fname, num, lab, typ, quant, desc, dflt) \
    FIELD(Kitchen, fname, num, lab, typ, quant, desc, dflt, 0)
#define OPT(fname, num, typ) KF(fname, num, OPTIONAL, typ, offsetof(Kitchen, has_##fname), NULL, NULL)
#define REP(fname, num, typ, desc) KF(fname, num, REPEATED, typ, offsetof(Kitchen, n_##fname), desc, NULL)
#define PICK(fname, num, typ) \
    FIELD(Kitchen, fname, num, OPTIONAL, typ, offsetof(Kitchen, pick_case), NULL, NULL, \
          PROTOBUF_C_FIELD_FLAG_ONEOF)
/* clang-format on */

/* Numbered in name order, so fields[] is also the by-name index. */
static const ProtobufCFieldDescriptor kitchen_fields[] = {
    OPT(b, 1, BOOL),
    OPT(blob, 2, BYTES),
    REP(blobs, 3, BYTES, NULL),
    REP(bs, 4, BOOL, NULL),
    KF(color, 5, OPTIONAL, ENUM, offsetof(Kitchen, has_color), &color_desc, NULL),
    REP(colors, 6, ENUM, &color_desc),
    OPT(d, 7, DOUBLE),
    KF(dflt, 8, OPTIONAL, STRING, 0, NULL, kitchen_dflt),
    OPT(f, 9, FLOAT),
    OPT(f32, 10, FIXED32),
    OPT(f64, 11, FIXED64),
    OPT(i32, 12, INT32),
    OPT(i64, 13, INT64),
    REP(i64s, 14, INT64, NULL),
    KF(inner, 15, OPTIONAL, MESSAGE, 0, &kitchen_desc, NULL),
    REP(inners, 16, MESSAGE, &kitchen_desc),
    KF(p3, 17, NONE, INT32, 0, NULL, NULL),
    KF(p3s, 18, NONE, STRING, 0, NULL, protobuf_c_empty_string),
    PICK(pick_n, 19, INT32),
    PICK(pick_s, 20, STRING),
    OPT(s32, 21, SINT32),
    OPT(s64, 22, SINT64),
    OPT(sf32, 23, SFIXED32),
    OPT(sf64, 24, SFIXED64),
    KF(str, 25, OPTIONAL, STRING, 0, NULL, NULL),
    REP(strs, 26, STRING, NULL),
    OPT(u32, 27, UINT32),
    REP(u32s, 28, UINT32, NULL),
    OPT(u64, 29, UINT64),
};
#define KITCHEN_NFIELDS (sizeof kitchen_fields / sizeof kitchen_fields[0])
static const unsigned kitchen_by_name[KITCHEN_NFIELDS] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,
                                                          10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
                                                          20, 21, 22, 23, 24, 25, 26, 27, 28};
static const ProtobufCIntRange kitchen_ranges[] = {{1, 0}, {0, KITCHEN_NFIELDS}};
static const ProtobufCMessageDescriptor kitchen_desc = {
    .magic = PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
    .name = "t.Kitchen",
    .short_name = "Kitchen",
    .c_name = "Kitchen",
    .package_name = "t",
    .sizeof_message = sizeof(Kitchen),
    .n_fields = KITCHEN_NFIELDS,
    .fields = kitchen_fields,
    .fields_sorted_by_name = kitchen_by_name,
    .n_field_ranges = 1,
    .field_ranges = kitchen_ranges,
    .message_init = kitchen_init,
};

/* A proto2 message with required fields. */
typedef struct {
    ProtobufCMessage base;
    int32_t id;
    char *name;
} Needy;

static const ProtobufCMessageDescriptor needy_desc;

static void needy_init(ProtobufCMessage *msg)
{
    static const Needy init = {.base = PROTOBUF_C_MESSAGE_INIT(&needy_desc)};
    memcpy(msg, &init, sizeof init);
}

static const ProtobufCFieldDescriptor needy_fields[] = {
    FIELD(Needy, id, 1, REQUIRED, INT32, 0, NULL, NULL, 0),
    FIELD(Needy, name, 2, REQUIRED, STRING, 0, NULL, NULL, 0),
};
static const unsigned needy_by_name[] = {0, 1};
static const ProtobufCIntRange needy_ranges[] = {{1, 0}, {0, 2}};
static const ProtobufCMessageDescriptor needy_desc = {
    .magic = PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
    .name = "t.Needy",
    .short_name = "Needy",
    .c_name = "Needy",
    .package_name = "t",
    .sizeof_message = sizeof(Needy),
    .n_fields = 2,
    .fields = needy_fields,
    .fields_sorted_by_name = needy_by_name,
    .n_field_ranges = 1,
    .field_ranges = needy_ranges,
    .message_init = needy_init,
};

/* --- helpers --------------------------------------------------------------- */

static ProtobufCMessage *from_text(const ProtobufCMessageDescriptor *desc, const char *text)
{
    ProtobufCMessage *msg = NULL;
    cJSON *json = cJSON_Parse(text);
    char why[256];
    enum cc_status st;

    assert_non_null(json);
    st = cc_pbjson_from_json(desc, json, &msg, why, sizeof why);
    cJSON_Delete(json);
    if (st != CC_OK)
        fail_msg("refused %s: %s", text, why);
    assert_string_equal(why, "");
    assert_non_null(msg);
    return msg;
}

static void assert_refused_json(const ProtobufCMessageDescriptor *desc, const cJSON *json,
                                const char *reason)
{
    ProtobufCMessage *msg = (ProtobufCMessage *)&msg; /* must be reset to NULL */
    char why[256];

    assert_int_equal(cc_pbjson_from_json(desc, json, &msg, why, sizeof why), CC_ERR_INVALID);
    assert_null(msg);
    assert_string_equal(why, reason);
}

static void assert_refused(const ProtobufCMessageDescriptor *desc, const char *text,
                           const char *reason)
{
    cJSON *json = cJSON_Parse(text);

    assert_non_null(json);
    assert_refused_json(desc, json, reason);
    cJSON_Delete(json);
}

/* Renders `msg`, compares with `expected` (member order ignored), deletes. */
static void assert_renders(const ProtobufCMessage *msg, int nulls, const char *expected)
{
    cJSON *got = cc_pbjson_to_json(msg, nulls);
    cJSON *want = cJSON_Parse(expected);
    char *text;

    assert_non_null(got);
    assert_non_null(want);
    if (!cJSON_Compare(got, want, 1)) {
        text = cJSON_PrintUnformatted(got);
        fail_msg("rendered %s\nexpected %s", text, expected);
    }
    cJSON_Delete(got);
    cJSON_Delete(want);
}

/* Packs `msg`, unpacks it again and checks it renders as `expected`. */
static void assert_wire_round_trip(const ProtobufCMessage *msg, const char *expected)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(len + 1);
    ProtobufCMessage *back;

    assert_non_null(buf);
    assert_int_equal(protobuf_c_message_pack(msg, buf), len);
    back = protobuf_c_message_unpack(msg->descriptor, NULL, len, buf);
    assert_non_null(back);
    assert_renders(back, 0, expected);
    protobuf_c_message_free_unpacked(back, NULL);
    free(buf);
}

static void round_trip(const ProtobufCMessageDescriptor *desc, const char *text)
{
    ProtobufCMessage *msg = from_text(desc, text);

    assert_renders(msg, 0, text);
    assert_wire_round_trip(msg, text);
    protobuf_c_message_free_unpacked(msg, NULL);
}

/* --- registry messages ----------------------------------------------------- */

static const char user_json[] =
    "{\"id\":\"u1\",\"login\":\"ala\",\"role\":\"agent\",\"first_name\":\"Ała\","
    "\"last_name\":\"Kot\",\"email\":\"ala@example.com\",\"idle_timeout_s\":900,"
    "\"rights\":{\"print\":true,\"save\":false,\"screenshot\":true},\"archived\":false,"
    "\"agent\":{\"enabled\":true,\"team_id\":\"t1\"},\"created_at\":\"2026-01-02T03:04:05.000Z\"}";

static void user_round_trips_with_nested_rights_and_agent(void **state)
{
    Cc__V1__User *u;
    (void)state;
    u = (Cc__V1__User *)from_text(&cc__v1__user__descriptor, user_json);
    assert_string_equal(u->login, "ala");
    assert_string_equal(u->first_name, "Ała");
    assert_null(u->password);
    assert_true(u->has_idle_timeout_s);
    assert_int_equal(u->idle_timeout_s, 900);
    assert_true(u->has_archived);
    assert_false(u->archived);
    assert_non_null(u->rights);
    assert_true(u->rights->has_print && u->rights->print);
    assert_true(u->rights->has_save && !u->rights->save);
    assert_false(u->rights->has_contact_notes);
    assert_true(u->agent->has_enabled && u->agent->enabled);
    assert_string_equal(u->agent->team_id, "t1");
    protobuf_c_message_free_unpacked(&u->base, NULL);
    round_trip(&cc__v1__user__descriptor, user_json);
}

static const char queue_json[] =
    "{\"id\":\"q1\",\"name\":\"Sales\",\"channel\":\"chat\",\"team_ids\":[\"t1\",\"t2\"],"
    "\"priority\":100,\"max_wait_s\":0,\"widening\":[{\"after_s\":30,\"min_capacity\":5},"
    "{\"after_s\":9007199254740991},{}],\"sticky_agent\":true,\"max_concurrent_chats\":-3,"
    "\"supervisor_ids\":[],\"closing_messages\":[]}";

static void queue_round_trips_repeated_strings_messages_and_int64s(void **state)
{
    Cc__V1__Queue *q;
    (void)state;
    q = (Cc__V1__Queue *)from_text(&cc__v1__queue__descriptor, queue_json);
    assert_int_equal(q->n_team_ids, 2);
    assert_string_equal(q->team_ids[1], "t2");
    assert_int_equal(q->n_widening, 3);
    assert_int_equal(q->widening[0]->after_s, 30);
    assert_int_equal(q->widening[0]->min_capacity, 5);
    assert_int_equal(q->widening[1]->after_s, 9007199254740991LL);
    assert_false(q->widening[1]->has_min_capacity);
    assert_false(q->widening[2]->has_after_s);
    assert_true(q->has_max_wait_s);
    assert_int_equal(q->max_wait_s, 0);
    assert_int_equal(q->max_concurrent_chats, -3);
    assert_false(q->has_wrap_up_time_s);
    assert_int_equal(q->n_supervisor_ids, 0);
    assert_null(q->supervisor_ids);
    protobuf_c_message_free_unpacked(&q->base, NULL);
    round_trip(&cc__v1__queue__descriptor, queue_json);
}

static const char channel_json[] =
    "{\"id\":\"c1\",\"type\":\"telegram\",\"name\":\"TG\",\"queue_id\":\"q1\","
    "\"credentials\":{\"bot_token\":\"123:abc\",\"secret_token\":\"s\"},\"has_credentials\":true,\"allowed_origins\":[],\"media_hosts\":[]}";

static void channel_round_trips_nested_credentials(void **state)
{
    Cc__V1__Channel *c;
    (void)state;
    c = (Cc__V1__Channel *)from_text(&cc__v1__channel__descriptor, channel_json);
    assert_non_null(c->credentials);
    assert_string_equal(c->credentials->bot_token, "123:abc");
    assert_null(c->credentials->api_key);
    assert_true(c->has_has_credentials && c->has_credentials);
    protobuf_c_message_free_unpacked(&c->base, NULL);
    round_trip(&cc__v1__channel__descriptor, channel_json);
}

static void bytes_round_trip_as_base64(void **state)
{
    Cc__V1__ObjectRequest *r;
    (void)state;
    r = (Cc__V1__ObjectRequest *)from_text(&cc__v1__object_request__descriptor,
                                           "{\"body\":\"AAEC/w==\",\"fields\":[\"name\"]}");
    assert_true(r->has_body);
    assert_int_equal(r->body.len, 4);
    assert_memory_equal(r->body.data, "\x00\x01\x02\xff", 4);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    round_trip(&cc__v1__object_request__descriptor,
               "{\"id\":\"x\",\"body\":\"\",\"fields\":[],\"page\":{\"limit\":4294967295}}");
    round_trip(&cc__v1__object_reply__descriptor,
               "{\"items\":[\"aGk=\",\"\",\"AA==\"],\"next_cursor\":\"n\"}");
}

static void null_means_absent(void **state)
{
    Cc__V1__User *u;
    Cc__V1__Queue *q;
    (void)state;
    u = (Cc__V1__User *)from_text(&cc__v1__user__descriptor,
                                  "{\"login\":null,\"rights\":null,\"idle_timeout_s\":null,"
                                  "\"archived\":null,\"agent\":{\"team_id\":null}}");
    assert_null(u->login);
    assert_null(u->rights);
    assert_false(u->has_idle_timeout_s);
    assert_false(u->has_archived);
    assert_null(u->agent->team_id);
    assert_renders(&u->base, 0, "{\"agent\":{}}");
    protobuf_c_message_free_unpacked(&u->base, NULL);
    q = (Cc__V1__Queue *)from_text(&cc__v1__queue__descriptor,
                                   "{\"team_ids\":null,\"widening\":null}");
    assert_int_equal(q->n_team_ids, 0);
    assert_null(q->team_ids);
    protobuf_c_message_free_unpacked(&q->base, NULL);
}

static void empty_repeated_fields_are_written_as_empty_arrays(void **state)
{
    ProtobufCMessage *q;
    (void)state;
    q = from_text(&cc__v1__queue__descriptor, "{\"team_ids\":[],\"widening\":[]}");
    assert_int_equal(((Cc__V1__Queue *)q)->n_widening, 0);
    assert_renders(
        q, 0, "{\"team_ids\":[],\"widening\":[],\"supervisor_ids\":[],\"closing_messages\":[]}");
    protobuf_c_message_free_unpacked(q, NULL);
}

static void nulls_mode_writes_absent_strings_and_messages_as_null(void **state)
{
    ProtobufCMessage *c;
    (void)state;
    c = from_text(&cc__v1__channel__descriptor, "{\"id\":\"c1\"}");
    assert_renders(c, 1,
                   "{\"id\":\"c1\",\"type\":null,\"name\":null,\"queue_id\":null,"
                   "\"api_base_url\":null,\"api_version\":null,\"credentials\":null,"
                   "\"created_at\":null,\"updated_at\":null,\"allowed_origins\":[],\"media_hosts\":"
                   "[],\"webchat\":null}");
    assert_renders(c, 0, "{\"id\":\"c1\",\"allowed_origins\":[],\"media_hosts\":[]}");
    protobuf_c_message_free_unpacked(c, NULL);
    c = from_text(&cc__v1__user__descriptor, "{\"agent\":{\"enabled\":true}}");
    assert_renders(c, 0, "{\"agent\":{\"enabled\":true}}");
    protobuf_c_message_free_unpacked(c, NULL);
}

static void refuses_unknown_and_duplicate_fields_with_their_path(void **state)
{
    const ProtobufCMessageDescriptor *user = &cc__v1__user__descriptor;
    const ProtobufCMessageDescriptor *queue = &cc__v1__queue__descriptor;
    (void)state;
    assert_refused(user, "{\"login\":\"a\",\"foo\":1}", "unknown field: foo");
    assert_refused(user, "{\"rights\":{\"print\":true,\"foo\":true}}", "unknown field: rights.foo");
    assert_refused(queue, "{\"widening\":[{},{\"bar\":1}]}", "unknown field: widening[1].bar");
    assert_refused(user, "{\"Login\":\"a\"}", "unknown field: Login");
    assert_refused(user, "{\"id\":\"a\",\"id\":\"b\"}", "duplicate field: id");
    assert_refused(user, "{\"login\":null,\"login\":\"x\"}", "duplicate field: login");
    assert_refused(user, "{\"rights\":{\"print\":true,\"print\":false}}",
                   "duplicate field: rights.print");
}

static void refuses_wrong_types(void **state)
{
    const ProtobufCMessageDescriptor *user = &cc__v1__user__descriptor;
    const ProtobufCMessageDescriptor *queue = &cc__v1__queue__descriptor;
    (void)state;
    assert_refused(user, "[]", "expected an object");
    assert_refused(user, "\"u1\"", "expected an object");
    assert_refused_json(user, NULL, "expected an object");
    assert_refused(user, "{\"login\":5}", "login: expected a string");
    assert_refused(user, "{\"login\":[\"a\"]}", "login: expected a string");
    assert_refused(user, "{\"archived\":\"yes\"}", "archived: expected a boolean");
    assert_refused(user, "{\"archived\":1}", "archived: expected a boolean");
    assert_refused(user, "{\"idle_timeout_s\":\"900\"}", "idle_timeout_s: expected an integer");
    assert_refused(user, "{\"idle_timeout_s\":true}", "idle_timeout_s: expected an integer");
    assert_refused(user, "{\"rights\":[]}", "rights: expected an object");
    assert_refused(user, "{\"rights\":{\"print\":\"no\"}}", "rights.print: expected a boolean");
    assert_refused(queue, "{\"team_ids\":\"t1\"}", "team_ids: expected an array of strings");
    assert_refused(queue, "{\"team_ids\":{}}", "team_ids: expected an array of strings");
    assert_refused(queue, "{\"team_ids\":[\"t1\",2]}", "team_ids[1]: expected a string");
    assert_refused(queue, "{\"team_ids\":[null]}", "team_ids[0]: expected a string");
    assert_refused(queue, "{\"widening\":{}}", "widening: expected an array of objects");
    assert_refused(queue, "{\"widening\":[{\"after_s\":1},\"x\"]}",
                   "widening[1]: expected an object");
    assert_refused(&cc__v1__object_request__descriptor, "{\"body\":5}",
                   "body: expected a base64 string");
    assert_refused(&cc__v1__object_reply__descriptor, "{\"items\":[\"QQ==\",5]}",
                   "items[1]: expected a base64 string");
}

static void refuses_non_integral_and_out_of_range_numbers(void **state)
{
    const ProtobufCMessageDescriptor *queue = &cc__v1__queue__descriptor;
    const ProtobufCMessageDescriptor *page = &cc__v1__page__descriptor;
    cJSON *json;
    (void)state;
    assert_refused(queue, "{\"priority\":1.5}", "priority: expected an integer");
    assert_refused(queue, "{\"widening\":[{\"after_s\":1},{\"after_s\":2.5}]}",
                   "widening[1].after_s: expected an integer");
    assert_refused(queue, "{\"priority\":9007199254740992}", "priority: out of range");
    assert_refused(queue, "{\"priority\":-9007199254740992}", "priority: out of range");
    assert_refused(queue, "{\"priority\":1e300}", "priority: out of range");
    assert_refused(queue, "{\"priority\":1e999}", "priority: out of range");
    assert_refused(page, "{\"limit\":-1}", "limit: out of range");
    assert_refused(page, "{\"limit\":4294967296}", "limit: out of range");
    json = cJSON_CreateObject();
    cJSON_AddNumberToObject(json, "priority", NAN);
    assert_refused_json(queue, json, "priority: expected an integer");
    cJSON_Delete(json);
    json = cJSON_CreateObject();
    cJSON_AddNumberToObject(json, "priority", -INFINITY);
    assert_refused_json(queue, json, "priority: out of range");
    cJSON_Delete(json);
}

static void refuses_invalid_utf8_and_does_not_echo_it(void **state)
{
    cJSON *json, *agent, *ids;
    (void)state;
    json = cJSON_CreateObject();
    cJSON_AddItemToObject(json, "login", cJSON_CreateString("ok\xC3"));
    assert_refused_json(&cc__v1__user__descriptor, json, "login: invalid UTF-8");
    cJSON_Delete(json);

    json = cJSON_CreateObject();
    agent = cJSON_AddObjectToObject(json, "agent");
    cJSON_AddItemToObject(agent, "team_id", cJSON_CreateString("\xED\xA0\x80"));
    assert_refused_json(&cc__v1__user__descriptor, json, "agent.team_id: invalid UTF-8");
    cJSON_Delete(json);

    json = cJSON_CreateObject();
    ids = cJSON_AddArrayToObject(json, "team_ids");
    cJSON_AddItemToArray(ids, cJSON_CreateString("t1"));
    cJSON_AddItemToArray(ids, cJSON_CreateString("t\xFF"));
    assert_refused_json(&cc__v1__queue__descriptor, json, "team_ids[1]: invalid UTF-8");
    cJSON_Delete(json);

    json = cJSON_CreateObject();
    agent = cJSON_AddObjectToObject(json, "agent");
    cJSON_AddTrueToObject(agent, "\xFF\xFE");
    assert_refused_json(&cc__v1__user__descriptor, json, "agent: unknown field");
    cJSON_Delete(json);
    assert_refused(&cc__v1__user__descriptor,
                   "{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":1}",
                   "unknown field");
}

static void refuses_bad_base64(void **state)
{
    const ProtobufCMessageDescriptor *req = &cc__v1__object_request__descriptor;
    (void)state;
    assert_refused(req, "{\"body\":\"not base64!\"}", "body: invalid base64");
    assert_refused(req, "{\"body\":\"QQ\"}", "body: invalid base64");
    assert_refused(req, "{\"body\":\"aGk=\\n\"}", "body: invalid base64");
    assert_refused(req, "{\"body\":\"aG-_\"}", "body: invalid base64");
}

/* Failures late in a message that already holds strings, arrays and nested
 * messages: the sanitizer build proves nothing leaks. */
static void partial_failures_free_everything(void **state)
{
    (void)state;
    assert_refused(&cc__v1__queue__descriptor,
                   "{\"id\":\"q\",\"team_ids\":[\"a\",\"b\"],\"widening\":[{\"after_s\":1},"
                   "{\"after_s\":2},{\"after_s\":\"x\"}],\"name\":\"n\"}",
                   "widening[2].after_s: expected an integer");
    assert_refused(&cc__v1__user__descriptor,
                   "{\"id\":\"u\",\"rights\":{\"print\":true},\"agent\":{\"team_id\":\"t\","
                   "\"enabled\":1}}",
                   "agent.enabled: expected a boolean");
    assert_refused(&cc__v1__object_reply__descriptor, "{\"items\":[\"aGk=\",\"AA==\",\"?\"]}",
                   "items[2]: invalid base64");
    assert_refused(&kitchen_desc,
                   "{\"inners\":[{\"strs\":[\"a\"],\"inner\":{\"str\":\"s\",\"pick_s\":\"p\","
                   "\"blob\":\"AA==\",\"i32\":0.5}}]}",
                   "inners[0].inner.i32: expected an integer");
}

static void why_may_be_null_or_short(void **state)
{
    ProtobufCMessage *msg = NULL;
    cJSON *json = cJSON_Parse("{\"foo\":1}");
    char why[8];
    (void)state;
    assert_int_equal(cc_pbjson_from_json(&cc__v1__user__descriptor, json, &msg, NULL, 0),
                     CC_ERR_INVALID);
    assert_int_equal(cc_pbjson_from_json(&cc__v1__user__descriptor, json, &msg, why, sizeof why),
                     CC_ERR_INVALID);
    assert_string_equal(why, "unknown");
    assert_int_equal(cc_pbjson_from_json(NULL, json, &msg, why, sizeof why), CC_ERR_INTERNAL);
    cJSON_Delete(json);
}

/* --- every field type ------------------------------------------------------ */

static const char kitchen_json[] =
    "{\"b\":true,\"blob\":\"AAEC/w==\",\"blobs\":[\"\",\"aGk=\"],\"bs\":[true,false],"
    "\"color\":\"BLUE\",\"colors\":[\"RED\",1,\"BLUE\"],\"d\":-1.5e300,\"dflt\":\"y\","
    "\"f\":0.1,\"f32\":4294967295,\"f64\":9007199254740991,\"i32\":-2147483648,"
    "\"i64\":-9007199254740991,\"i64s\":[1,-2,3],\"inner\":{\"str\":\"deep\","
    "\"inner\":{\"i32\":7}},\"inners\":[{\"u32\":1},{}],\"p3\":0,\"p3s\":\"\","
    "\"pick_s\":\"chosen\",\"s32\":-5,\"s64\":-6,\"sf32\":-7,\"sf64\":-8,\"str\":\"zażółć\","
    "\"strs\":[\"a\",\"b\"],\"u32\":0,\"u32s\":[4294967295,0],\"u64\":42}";

/* What a Kitchen always renders: its repeated fields but colors, and proto3 zeros. */
#define EMPTY_LISTS "\"blobs\":[],\"bs\":[],\"i64s\":[],\"inners\":[],\"strs\":[],\"u32s\":[]"
#define P3_ZERO "\"p3\":0,\"p3s\":\"\""

static void kitchen_descriptor_is_sorted_by_name(void **state)
{
    (void)state;
    for (unsigned i = 1; i < KITCHEN_NFIELDS; i++)
        assert_true(strcmp(kitchen_fields[i - 1].name, kitchen_fields[i].name) < 0);
}

static void every_field_type_is_read(void **state)
{
    Kitchen *k;
    (void)state;
    k = (Kitchen *)from_text(&kitchen_desc, kitchen_json);
    assert_true(k->has_b && k->b);
    assert_int_equal(k->blob.len, 4);
    assert_int_equal(k->n_blobs, 2);
    assert_int_equal(k->blobs[0].len, 0);
    assert_memory_equal(k->blobs[1].data, "hi", 2);
    assert_int_equal(k->n_bs, 2);
    assert_true(k->bs[0] && !k->bs[1]);
    assert_int_equal(k->color, 5);
    assert_int_equal(k->n_colors, 3);
    assert_int_equal(k->colors[1], 1);
    assert_true(k->d == -1.5e300);
    assert_string_equal(k->dflt, "y");
    assert_true(k->f == 0.1f);
    assert_int_equal(k->f32, UINT32_MAX);
    assert_int_equal(k->f64, 9007199254740991ULL);
    assert_int_equal(k->i32, INT32_MIN);
    assert_int_equal(k->i64, -9007199254740991LL);
    assert_int_equal(k->i64s[1], -2);
    assert_int_equal(k->inner->inner->i32, 7);
    assert_int_equal(k->n_inners, 2);
    assert_true(k->inners[0]->has_u32);
    assert_int_equal(k->pick_case, 20);
    assert_string_equal(k->pick_s, "chosen");
    assert_int_equal(k->s32, -5);
    assert_int_equal(k->sf64, -8);
    assert_string_equal(k->strs[1], "b");
    assert_int_equal(k->u32s[0], UINT32_MAX);
    assert_int_equal(k->u64, 42);
    protobuf_c_message_free_unpacked(&k->base, NULL);
}

static void every_field_type_is_written_and_survives_the_wire(void **state)
{
    ProtobufCMessage *msg;
    cJSON *out;
    char *text;
    (void)state;
    msg = from_text(&kitchen_desc, kitchen_json);
    out = cc_pbjson_to_json(msg, 0);
    assert_non_null(out);
    assert_string_equal(cJSON_GetObjectItem(out, "color")->valuestring, "BLUE");
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(out, "colors"), 1)->valuestring,
                        "GREEN");
    assert_true(cJSON_GetObjectItem(out, "f")->valuedouble == 0.1);
    assert_string_equal(cJSON_GetObjectItem(out, "blob")->valuestring, "AAEC/w==");
    assert_null(cJSON_GetObjectItem(out, "pick_n"));
    /* proto3 fields and repeated fields of nested messages are always written */
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(out, "inner"), "p3"));
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(out, "inner"), "strs"));
    text = cJSON_PrintUnformatted(out);
    assert_non_null(text);
    /* what is written reads back to the same message */
    protobuf_c_message_free_unpacked(msg, NULL);
    msg = from_text(&kitchen_desc, text);
    assert_renders(msg, 0, text);
    assert_wire_round_trip(msg, text);
    protobuf_c_message_free_unpacked(msg, NULL);
    cJSON_free(text);
    cJSON_Delete(out);
}

static void integer_ranges_follow_the_field_type(void **state)
{
    const ProtobufCMessageDescriptor *k = &kitchen_desc;
    ProtobufCMessage *msg;
    (void)state;
    assert_refused(k, "{\"i32\":2147483648}", "i32: out of range");
    assert_refused(k, "{\"i32\":-2147483649}", "i32: out of range");
    assert_refused(k, "{\"s32\":2147483648}", "s32: out of range");
    assert_refused(k, "{\"sf32\":-2147483649}", "sf32: out of range");
    assert_refused(k, "{\"u32\":-1}", "u32: out of range");
    assert_refused(k, "{\"f32\":4294967296}", "f32: out of range");
    assert_refused(k, "{\"u32s\":[1,-1]}", "u32s[1]: out of range");
    assert_refused(k, "{\"u64\":-1}", "u64: out of range");
    assert_refused(k, "{\"f64\":9007199254740992}", "f64: out of range");
    assert_refused(k, "{\"i64\":-9007199254740992}", "i64: out of range");
    assert_refused(k, "{\"s64\":1e17}", "s64: out of range");
    assert_refused(k, "{\"sf64\":0.5}", "sf64: expected an integer");
    assert_refused(k, "{\"i64s\":[1,2.5]}", "i64s[1]: expected an integer");
    assert_refused(k, "{\"i64s\":[1,\"2\"]}", "i64s[1]: expected an integer");
    assert_refused(k, "{\"f\":1e39}", "f: out of range");
    assert_refused(k, "{\"d\":\"1\"}", "d: expected a number");
    assert_refused(k, "{\"bs\":[true,0]}", "bs[1]: expected a boolean");
    msg = from_text(k, "{\"s64\":-9007199254740991,\"d\":1e308,\"f\":-3e38}");
    assert_int_equal(((Kitchen *)msg)->s64, -9007199254740991LL);
    protobuf_c_message_free_unpacked(msg, NULL);
}

static void enums_take_names_or_known_numbers(void **state)
{
    const ProtobufCMessageDescriptor *k = &kitchen_desc;
    Kitchen *msg;
    (void)state;
    msg = (Kitchen *)from_text(k, "{\"color\":5,\"colors\":[\"GREEN\",0]}");
    assert_int_equal(msg->color, 5);
    assert_renders(&msg->base, 0,
                   "{\"color\":\"BLUE\",\"colors\":[\"GREEN\",\"RED\"]," EMPTY_LISTS "," P3_ZERO
                   "}");
    protobuf_c_message_free_unpacked(&msg->base, NULL);
    assert_refused(k, "{\"color\":\"PURPLE\"}", "color: unknown enum value");
    assert_refused(k, "{\"color\":\"blue\"}", "color: unknown enum value");
    assert_refused(k, "{\"color\":2}", "color: unknown enum value");
    assert_refused(k, "{\"color\":1.5}", "color: expected an enum name or number");
    assert_refused(k, "{\"color\":true}", "color: expected an enum name or number");
    assert_refused(k, "{\"colors\":[\"RED\",\"NOPE\"]}", "colors[1]: unknown enum value");
    assert_refused(k, "{\"colors\":\"RED\"}", "colors: expected an array of enum names or numbers");
}

static void unknown_enum_numbers_are_written_as_numbers(void **state)
{
    Kitchen *msg;
    cJSON *out;
    (void)state;
    msg = (Kitchen *)from_text(&kitchen_desc, "{\"color\":\"GREEN\"}");
    msg->color = 3; /* a value the .proto lacks, as from a newer sender */
    out = cc_pbjson_to_json(&msg->base, 0);
    assert_non_null(out);
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(out, "color")));
    assert_int_equal(cJSON_GetObjectItem(out, "color")->valueint, 3);
    cJSON_Delete(out);
    protobuf_c_message_free_unpacked(&msg->base, NULL);
}

static void oneof_takes_one_member(void **state)
{
    Kitchen *msg;
    (void)state;
    msg = (Kitchen *)from_text(&kitchen_desc, "{\"pick_n\":3,\"pick_s\":null}");
    assert_int_equal(msg->pick_case, 19);
    assert_int_equal(msg->pick_n, 3);
    assert_wire_round_trip(&msg->base, "{\"pick_n\":3,\"colors\":[]," EMPTY_LISTS "," P3_ZERO "}");
    protobuf_c_message_free_unpacked(&msg->base, NULL);
    assert_refused(&kitchen_desc, "{\"pick_s\":\"a\",\"pick_n\":1}",
                   "pick_n: another field of its oneof is set");
    assert_refused(&kitchen_desc, "{\"pick_n\":1,\"pick_s\":\"a\"}",
                   "pick_s: another field of its oneof is set");
}

static void proto3_fields_and_defaults_follow_protobuf_c_presence(void **state)
{
    ProtobufCMessage *msg;
    (void)state;
    msg = from_text(&kitchen_desc, "{}");
    assert_renders(msg, 0, "{\"colors\":[]," EMPTY_LISTS "," P3_ZERO "}");
    assert_renders(msg, 1,
                   "{\"colors\":[]," EMPTY_LISTS "," P3_ZERO
                   ",\"dflt\":null,\"inner\":null,\"pick_s\":null,\"str\":null}");
    protobuf_c_message_free_unpacked(msg, NULL);
    msg = from_text(&kitchen_desc, "{\"p3\":-4,\"p3s\":\"v\",\"dflt\":\"x\",\"blob\":\"\"}");
    assert_int_equal(((Kitchen *)msg)->p3, -4);
    assert_true(((Kitchen *)msg)->has_blob);
    assert_renders(
        msg, 0,
        "{\"blob\":\"\",\"dflt\":\"x\",\"p3\":-4,\"p3s\":\"v\",\"colors\":[]," EMPTY_LISTS "}");
    protobuf_c_message_free_unpacked(msg, NULL);
}

static void required_fields_must_be_given(void **state)
{
    ProtobufCMessage *msg;
    (void)state;
    assert_refused(&needy_desc, "{}", "missing required field: id");
    assert_refused(&needy_desc, "{\"id\":1}", "missing required field: name");
    assert_refused(&needy_desc, "{\"id\":null,\"name\":\"n\"}", "missing required field: id");
    msg = from_text(&needy_desc, "{\"id\":0,\"name\":\"n\"}");
    assert_renders(msg, 1, "{\"id\":0,\"name\":\"n\"}");
    assert_wire_round_trip(msg, "{\"id\":0,\"name\":\"n\"}");
    protobuf_c_message_free_unpacked(msg, NULL);
}

/* {"inner":{"inner":...{}}} with `levels` nested objects. */
static char *nested_text(int levels)
{
    size_t cap = (size_t)levels * 11 + 3, len = 0;
    char *s = malloc(cap);

    assert_non_null(s);
    for (int i = 0; i < levels; i++)
        len += (size_t)snprintf(s + len, cap - len, "{\"inner\":");
    len += (size_t)snprintf(s + len, cap - len, "{}");
    for (int i = 0; i < levels; i++)
        s[len++] = '}';
    s[len] = '\0';
    return s;
}

static void deep_nesting_is_refused(void **state)
{
    ProtobufCMessage *msg = NULL;
    char why[256], *text;
    cJSON *json;
    (void)state;
    text = nested_text(31);
    msg = from_text(&kitchen_desc, text);
    protobuf_c_message_free_unpacked(msg, NULL);
    free(text);
    text = nested_text(32);
    json = cJSON_Parse(text);
    assert_int_equal(cc_pbjson_from_json(&kitchen_desc, json, &msg, why, sizeof why),
                     CC_ERR_INVALID);
    assert_non_null(strstr(why, ": nested too deeply"));
    assert_true(strncmp(why, "inner.inner.", 12) == 0);
    cJSON_Delete(json);
    free(text);
}

/* --- rendering under allocation failure ------------------------------------ */

static int alloc_budget = -1; /* allocations left before failing; -1: no limit */

static void *failing_malloc(size_t size)
{
    if (alloc_budget == 0)
        return NULL;
    if (alloc_budget > 0)
        alloc_budget--;
    return malloc(size);
}

static void rendering_survives_every_allocation_failure(void **state)
{
    cJSON_Hooks hooks = {failing_malloc, free};
    ProtobufCMessage *msg;
    cJSON *out = NULL;
    int budget;
    (void)state;
    msg = from_text(&kitchen_desc, kitchen_json);
    cJSON_InitHooks(&hooks);
    for (budget = 0; budget < 10000 && !out; budget++) {
        alloc_budget = budget;
        out = cc_pbjson_to_json(msg, 1);
    }
    alloc_budget = -1;
    cJSON_InitHooks(NULL);
    assert_non_null(out);
    assert_true(budget > 50);
    cJSON_Delete(out);
    protobuf_c_message_free_unpacked(msg, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(user_round_trips_with_nested_rights_and_agent),
        cmocka_unit_test(queue_round_trips_repeated_strings_messages_and_int64s),
        cmocka_unit_test(channel_round_trips_nested_credentials),
        cmocka_unit_test(bytes_round_trip_as_base64),
        cmocka_unit_test(null_means_absent),
        cmocka_unit_test(empty_repeated_fields_are_written_as_empty_arrays),
        cmocka_unit_test(nulls_mode_writes_absent_strings_and_messages_as_null),
        cmocka_unit_test(refuses_unknown_and_duplicate_fields_with_their_path),
        cmocka_unit_test(refuses_wrong_types),
        cmocka_unit_test(refuses_non_integral_and_out_of_range_numbers),
        cmocka_unit_test(refuses_invalid_utf8_and_does_not_echo_it),
        cmocka_unit_test(refuses_bad_base64),
        cmocka_unit_test(partial_failures_free_everything),
        cmocka_unit_test(why_may_be_null_or_short),
        cmocka_unit_test(kitchen_descriptor_is_sorted_by_name),
        cmocka_unit_test(every_field_type_is_read),
        cmocka_unit_test(every_field_type_is_written_and_survives_the_wire),
        cmocka_unit_test(integer_ranges_follow_the_field_type),
        cmocka_unit_test(enums_take_names_or_known_numbers),
        cmocka_unit_test(unknown_enum_numbers_are_written_as_numbers),
        cmocka_unit_test(oneof_takes_one_member),
        cmocka_unit_test(proto3_fields_and_defaults_follow_protobuf_c_presence),
        cmocka_unit_test(required_fields_must_be_given),
        cmocka_unit_test(deep_nesting_is_refused),
        cmocka_unit_test(rendering_survives_every_allocation_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
