/* pbmerge.c - merge by clearing what the patch replaces, then concatenating
 * the two encodings: protobuf parsing of base+patch keeps the last scalar,
 * appends repeated fields and merges nested messages. */
#include "pbmerge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void free_value(const ProtobufCFieldDescriptor *f, void *slot)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
        if (*(char **)slot != f->default_value)
            free(*(char **)slot);
        *(char **)slot = NULL;
        break;
    case PROTOBUF_C_TYPE_MESSAGE:
        if (*(ProtobufCMessage **)slot)
            protobuf_c_message_free_unpacked(*(ProtobufCMessage **)slot, NULL);
        *(ProtobufCMessage **)slot = NULL;
        break;
    case PROTOBUF_C_TYPE_BYTES:
        free(((ProtobufCBinaryData *)slot)->data);
        memset(slot, 0, sizeof(ProtobufCBinaryData));
        break;
    default:
        break;
    }
}

static size_t value_size(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    default:
        return 4;
    }
}

void pb_clear_field(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
    char *slot = (char *)msg + f->offset;
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        size_t *n = (size_t *)((char *)msg + f->quantifier_offset);
        char *arr = *(char **)slot;
        for (size_t i = 0; i < *n; i++)
            free_value(f, arr + i * value_size(f));
        free(arr);
        *(char **)slot = NULL;
        *n = 0;
        return;
    }
    free_value(f, slot);
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
        f->type != PROTOBUF_C_TYPE_MESSAGE)
        *(protobuf_c_boolean *)((char *)msg + f->quantifier_offset) = 0;
}

/* 1 when `f` holds a value in `msg`. */
static int present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
    const char *slot = (const char *)msg + f->offset;
    if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE)
        return *(void *const *)slot != NULL;
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return *(const size_t *)((const char *)msg + f->quantifier_offset) > 0;
    return *(const protobuf_c_boolean *)((const char *)msg + f->quantifier_offset);
}

static int listed(const char *const *names, const char *name)
{
    for (; names && *names; names++)
        if (strcmp(*names, name) == 0)
            return 1;
    return 0;
}

/* Clears the nested field named by a dotted path ("agent.team_id"), when
 * every message on the way is present. CC_ERR_INVALID for unknown names. */
static enum cc_status clear_path(ProtobufCMessage *msg, const char *path, char *why,
                                 size_t whycap)
{
    char head[64];
    const char *dot = strchr(path, '.');
    size_t len = dot ? (size_t)(dot - path) : strlen(path);
    if (len >= sizeof head)
        len = sizeof head - 1;
    memcpy(head, path, len), head[len] = '\0';
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, head);
    if (!f || (dot && (f->type != PROTOBUF_C_TYPE_MESSAGE || f->label == PROTOBUF_C_LABEL_REPEATED))) {
        snprintf(why, whycap, "unknown field: %.64s", path);
        return CC_ERR_INVALID;
    }
    if (!dot) {
        pb_clear_field(msg, f);
        return CC_OK;
    }
    ProtobufCMessage *sub = *(ProtobufCMessage **)((char *)msg + f->offset);
    return sub ? clear_path(sub, dot + 1, why, whycap) : CC_OK;
}

/* Clears in `base` what the patch replaces; CC_ERR_INVALID for unknown names. */
static enum cc_status clear_replaced(ProtobufCMessage *base, const ProtobufCMessage *patch,
                                     char *const *fields, size_t nfields,
                                     const char *const *readonly, char *why, size_t whycap)
{
    for (size_t i = 0; i < nfields; i++) {
        if (strchr(fields[i], '.')) { /* a nested null: cleared after the merge below */
            continue;
        }
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name(base->descriptor, fields[i]);
        if (!f) {
            snprintf(why, whycap, "unknown field: %s", fields[i]);
            return CC_ERR_INVALID;
        }
        if (listed(readonly, f->name))
            continue;
        /* a nested message present in the patch merges into the old one */
        if (f->type == PROTOBUF_C_TYPE_MESSAGE && f->label != PROTOBUF_C_LABEL_REPEATED &&
            present(patch, f))
            continue;
        pb_clear_field(base, f);
    }
    return CC_OK;
}

ProtobufCMessage *pb_copy(const ProtobufCMessage *msg)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return NULL;
    protobuf_c_message_pack(msg, buf);
    ProtobufCMessage *copy = protobuf_c_message_unpack(msg->descriptor, NULL, len, buf);
    free(buf);
    return copy;
}

/* A copy of `patch` without the fields that were not sent or are read-only. */
static ProtobufCMessage *patch_copy(const ProtobufCMessage *patch, char *const *fields,
                                    size_t nfields, const char *const *readonly)
{
    ProtobufCMessage *copy = pb_copy(patch);
    for (unsigned i = 0; copy && i < copy->descriptor->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &copy->descriptor->fields[i];
        int sent = 0;
        for (size_t j = 0; j < nfields && !sent; j++)
            sent = strcmp(fields[j], f->name) == 0;
        if (!sent || listed(readonly, f->name))
            pb_clear_field(copy, f);
    }
    return copy;
}

enum cc_status pb_merge(ProtobufCMessage **base, const ProtobufCMessage *patch,
                        char *const *fields, size_t nfields, const char *const *readonly,
                        char *why, size_t whycap)
{
    enum cc_status st = clear_replaced(*base, patch, fields, nfields, readonly, why, whycap);
    if (st != CC_OK)
        return st;
    ProtobufCMessage *p = patch_copy(patch, fields, nfields, readonly);
    if (!p)
        return CC_ERR_NOMEM;
    size_t lb = protobuf_c_message_get_packed_size(*base), lp = protobuf_c_message_get_packed_size(p);
    uint8_t *buf = malloc(lb + lp + 1);
    ProtobufCMessage *merged = NULL;
    if (buf) {
        protobuf_c_message_pack(*base, buf);
        protobuf_c_message_pack(p, buf + lb);
        merged = protobuf_c_message_unpack((*base)->descriptor, NULL, lb + lp, buf);
    }
    free(buf);
    protobuf_c_message_free_unpacked(p, NULL);
    if (!merged)
        return CC_ERR_NOMEM;
    protobuf_c_message_free_unpacked(*base, NULL);
    *base = merged;
    for (size_t i = 0; i < nfields; i++) /* nested nulls clear what the merge kept */
        if (strchr(fields[i], '.') && !listed(readonly, fields[i]) &&
            (st = clear_path(*base, fields[i], why, whycap)) != CC_OK)
            return st;
    return CC_OK;
}
