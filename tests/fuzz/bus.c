/* libFuzzer target: protobuf from the bus. Every message type of
 * proto/cc/v1 (the list is generated from the protobuf-c headers) is
 * unpacked as the services unpack what NATS delivers; a message that
 * unpacks is then used as they use it: packed again (its size as
 * announced), mapped to JSON (cc_pbjson_to_json: api-gateway's answers,
 * SSE events) and read back (cc_pbjson_from_json), copied (pb_copy) and
 * merged as a PATCH (agent-registry's pb_merge, every field named, nested
 * nulls too). First byte: the type; second: where the input splits into
 * the stored object and the patch. */
#include "cc_pbjson.h"
#include "fuzz.h"
#include "fuzz_types.h" /* generated: every .pb-c.h and bus_types[] */
#include "pbmerge.h"

#define NTYPES (sizeof bus_types / sizeof *bus_types)

static void check_pack(const ProtobufCMessage *m)
{
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *b = malloc(len ? len : 1);
    FUZZ_CHECK(b != NULL);
    FUZZ_CHECK(protobuf_c_message_pack(m, b) == len);
    free(b);
}

/* 1 when `m` or a message inside it holds fields unknown to its type.
 * protobuf-c 1.4 keeps an unknown field numbered 0 (reachable through an
 * overlong tag) but cannot read it back once packed, so such messages do
 * not survive a copy: pb_copy and pb_merge then fail cleanly. */
static int has_unknown(const ProtobufCMessage *m)
{
    if (m->n_unknown_fields)
        return 1;
    for (unsigned i = 0; i < m->descriptor->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &m->descriptor->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        const char *at = (const char *)m + f->offset;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
            ProtobufCMessage *const *v = *(ProtobufCMessage *const *const *)at;
            for (size_t k = 0; k < n; k++)
                if (has_unknown(v[k]))
                    return 1;
        } else if (*(ProtobufCMessage *const *)at && has_unknown(*(ProtobufCMessage *const *)at)) {
            return 1;
        }
    }
    return 0;
}

/* every top-level field name, and "<field>.<first subfield>" for nested messages */
static size_t field_names(const ProtobufCMessageDescriptor *d, char **names, size_t cap)
{
    size_t n = 0;
    for (unsigned i = 0; i < d->n_fields && n < cap; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        names[n++] = strdup(f->name);
        if (f->type == PROTOBUF_C_TYPE_MESSAGE && f->label != PROTOBUF_C_LABEL_REPEATED &&
            n < cap) {
            const ProtobufCMessageDescriptor *sub = f->descriptor;
            if (sub->n_fields &&
                (names[n] = malloc(strlen(f->name) + strlen(sub->fields[0].name) + 2)))
                sprintf(names[n++], "%s.%s", f->name, sub->fields[0].name);
        }
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const ProtobufCMessageDescriptor *desc = bus_types[data[0] % NTYPES];
    data += 2, size -= 2;
    size_t split = size ? data[-1] % (size + 1) : 0;

    ProtobufCMessage *msg = protobuf_c_message_unpack(desc, NULL, size, data);
    if (msg) {
        check_pack(msg);
        for (int nulls = 0; nulls <= 1; nulls++) {
            cJSON *j = cc_pbjson_to_json(msg, nulls);
            FUZZ_CHECK(j != NULL);
            ProtobufCMessage *back = NULL;
            char why[256];
            /* what was written reads back, unless it holds text that is not UTF-8,
             * 64-bit numbers beyond 2^53 or NaN/infinity, which JSON cannot carry */
            if (cc_pbjson_from_json(desc, j, &back, why, sizeof why) == CC_OK)
                protobuf_c_message_free_unpacked(back, NULL);
            cJSON_Delete(j);
        }
        ProtobufCMessage *copy = pb_copy(msg);
        FUZZ_CHECK(copy != NULL || has_unknown(msg));
        if (copy) {
            check_pack(copy);
            protobuf_c_message_free_unpacked(copy, NULL);
        }
        protobuf_c_message_free_unpacked(msg, NULL);
    }

    /* a PATCH: the stored object from data[0..split), the patch from the rest */
    ProtobufCMessage *base = protobuf_c_message_unpack(desc, NULL, split, data);
    ProtobufCMessage *patch = protobuf_c_message_unpack(desc, NULL, size - split, data + split);
    if (base && patch) {
        char *names[512];
        size_t n = field_names(desc, names, sizeof names / sizeof *names);
        const char *const readonly[] = {"id", "created_at", NULL};
        char why[256];
        enum cc_status st = pb_merge(&base, patch, names, n, readonly, why, sizeof why);
        FUZZ_CHECK(st == CC_OK ||
                   (st == CC_ERR_NOMEM && (has_unknown(base) || has_unknown(patch))));
        check_pack(base);
        for (size_t i = 0; i < n; i++)
            free(names[i]);
    }
    if (base)
        protobuf_c_message_free_unpacked(base, NULL);
    if (patch)
        protobuf_c_message_free_unpacked(patch, NULL);
    return 0;
}
