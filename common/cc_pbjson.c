/* cc_pbjson.c - descriptor-driven mapping between cJSON and protobuf-c.
 *
 * Reading walks the JSON object's members, finds each field by name and
 * writes the value straight into the message at the descriptor's offsets.
 * Every pointer is stored as soon as it is allocated and arrays are zeroed
 * and counted before they are filled, so protobuf_c_message_free_unpacked
 * can free a half-built message at any point of a failure. */
#include "cc_pbjson.h"

#include "cc_http.h"

#include <float.h>
#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 32                    /* nested objects refused beyond this */
#define MAX_SAFE_INT 9007199254740991.0 /* 2^53 - 1: every integer up to it is a double */
#define MAX_KEY_SHOWN 64                /* longer unknown member names are not echoed */

/* What each field type takes in JSON, and its size in a repeated array. */
struct ftype {
    const char *one;  /* "a string", for "expected a string" */
    const char *many; /* "an array of strings" */
    size_t size;      /* bytes per element of a repeated field */
    int integer;      /* 1 when a number must be integral */
    double lo, hi;    /* range of a number */
};

/* clang-format off */
#define INT_TYPE(ctype, lo, hi) {"an integer", "an array of integers", sizeof(ctype), 1, lo, hi}
#define REAL_TYPE(ctype, max) {"a number", "an array of numbers", sizeof(ctype), 0, -(max), max}
#define OTHER_TYPE(ctype, one, many) {one, many, sizeof(ctype), 0, 0, 0}
/* clang-format on */

static const struct ftype ftypes[] = {
    [PROTOBUF_C_TYPE_INT32] = INT_TYPE(int32_t, INT32_MIN, INT32_MAX),
    [PROTOBUF_C_TYPE_SINT32] = INT_TYPE(int32_t, INT32_MIN, INT32_MAX),
    [PROTOBUF_C_TYPE_SFIXED32] = INT_TYPE(int32_t, INT32_MIN, INT32_MAX),
    [PROTOBUF_C_TYPE_INT64] = INT_TYPE(int64_t, -MAX_SAFE_INT, MAX_SAFE_INT),
    [PROTOBUF_C_TYPE_SINT64] = INT_TYPE(int64_t, -MAX_SAFE_INT, MAX_SAFE_INT),
    [PROTOBUF_C_TYPE_SFIXED64] = INT_TYPE(int64_t, -MAX_SAFE_INT, MAX_SAFE_INT),
    [PROTOBUF_C_TYPE_UINT32] = INT_TYPE(uint32_t, 0, UINT32_MAX),
    [PROTOBUF_C_TYPE_FIXED32] = INT_TYPE(uint32_t, 0, UINT32_MAX),
    [PROTOBUF_C_TYPE_UINT64] = INT_TYPE(uint64_t, 0, MAX_SAFE_INT),
    [PROTOBUF_C_TYPE_FIXED64] = INT_TYPE(uint64_t, 0, MAX_SAFE_INT),
    [PROTOBUF_C_TYPE_FLOAT] = REAL_TYPE(float, FLT_MAX),
    [PROTOBUF_C_TYPE_DOUBLE] = REAL_TYPE(double, DBL_MAX),
    [PROTOBUF_C_TYPE_BOOL] = OTHER_TYPE(protobuf_c_boolean, "a boolean", "an array of booleans"),
    [PROTOBUF_C_TYPE_ENUM] = {"an enum name or number", "an array of enum names or numbers",
                              sizeof(int32_t), 1, INT32_MIN, INT32_MAX},
    [PROTOBUF_C_TYPE_STRING] = OTHER_TYPE(char *, "a string", "an array of strings"),
    [PROTOBUF_C_TYPE_BYTES] =
        OTHER_TYPE(ProtobufCBinaryData, "a base64 string", "an array of base64 strings"),
    [PROTOBUF_C_TYPE_MESSAGE] = OTHER_TYPE(ProtobufCMessage *, "an object", "an array of objects"),
};

/* The state of one from_json call: where we are, for error messages. */
struct ctx {
    char path[128]; /* "widening[1].after_s"; truncated when deeper */
    size_t len;     /* strlen(path) */
    int depth;      /* messages being filled */
    char *why;      /* the caller's reason buffer */
    size_t whycap;  /* 0 when there is none */
};

enum { SEEN_NULL = 1, SEEN_VALUE = 2 }; /* what a member gave a field */

static enum cc_status msg_new(struct ctx *c, const ProtobufCMessageDescriptor *desc,
                              const cJSON *json, ProtobufCMessage **out);
static enum cc_status fail(struct ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static size_t path_push(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --- errors and paths ---------------------------------------------------- */

/* Sets why to "<path>: <reason>" and returns CC_ERR_INVALID. */
static enum cc_status fail(struct ctx *c, const char *fmt, ...)
{
    char reason[96];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    if (c->whycap > 0)
        snprintf(c->why, c->whycap, "%s%s%s", c->path, c->len ? ": " : "", reason);
    return CC_ERR_INVALID;
}

/* Sets why to "<reason>: <path>.<name>" and returns CC_ERR_INVALID. */
static enum cc_status fail_field(struct ctx *c, const char *reason, const char *name)
{
    if (c->whycap > 0)
        snprintf(c->why, c->whycap, "%s: %s%s%s", reason, c->path, c->len ? "." : "", name);
    return CC_ERR_INVALID;
}

static enum cc_status nomem(struct ctx *c)
{
    if (c->whycap > 0)
        snprintf(c->why, c->whycap, "out of memory");
    return CC_ERR_NOMEM;
}

/* Appends to the path; returns the mark path_pop goes back to. */
static size_t path_push(struct ctx *c, const char *fmt, ...)
{
    size_t mark = c->len;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(c->path + c->len, sizeof c->path - c->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        c->len += (size_t)n < sizeof c->path - c->len ? (size_t)n : sizeof c->path - 1 - c->len;
    return mark;
}

static void path_pop(struct ctx *c, size_t mark)
{
    c->len = mark;
    c->path[mark] = '\0';
}

/* --- JSON to message: one value ------------------------------------------- */

static enum cc_status wrong_type(struct ctx *c, const ProtobufCFieldDescriptor *fd)
{
    return fail(c, "expected %s", ftypes[fd->type].one);
}

/* Reads a number for a numeric or enum field, checking integrality and range. */
static enum cc_status number_get(struct ctx *c, const ProtobufCFieldDescriptor *fd,
                                 const cJSON *json, double *v)
{
    const struct ftype *t = &ftypes[fd->type];

    if (!cJSON_IsNumber(json))
        return wrong_type(c, fd);
    *v = json->valuedouble;
    if (t->integer && *v != floor(*v)) /* also NaN */
        return wrong_type(c, fd);
    if (!(*v >= t->lo && *v <= t->hi))
        return fail(c, "out of range");
    return CC_OK;
}

static enum cc_status number_set(struct ctx *c, const ProtobufCFieldDescriptor *fd,
                                 const cJSON *json, void *slot)
{
    double v;
    enum cc_status st = number_get(c, fd, json, &v);

    if (st != CC_OK)
        return st;
    switch (fd->type) {
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        *(uint32_t *)slot = (uint32_t)v;
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        *(int64_t *)slot = (int64_t)v;
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        *(uint64_t *)slot = (uint64_t)v;
        break;
    case PROTOBUF_C_TYPE_FLOAT:
        *(float *)slot = (float)v;
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        *(double *)slot = v;
        break;
    default: /* the 32-bit signed types */
        *(int32_t *)slot = (int32_t)v;
        break;
    }
    return CC_OK;
}

static enum cc_status bool_set(struct ctx *c, const ProtobufCFieldDescriptor *fd, const cJSON *json,
                               protobuf_c_boolean *slot)
{
    if (!cJSON_IsBool(json))
        return wrong_type(c, fd);
    *slot = cJSON_IsTrue(json) ? 1 : 0;
    return CC_OK;
}

/* Enums are closed in proto2: a name or number the .proto lacks is refused. */
static enum cc_status enum_set(struct ctx *c, const ProtobufCFieldDescriptor *fd, const cJSON *json,
                               int32_t *slot)
{
    const ProtobufCEnumValue *ev;
    enum cc_status st;
    double v;

    if (cJSON_IsString(json) && json->valuestring) {
        ev = protobuf_c_enum_descriptor_get_value_by_name(fd->descriptor, json->valuestring);
    } else {
        st = number_get(c, fd, json, &v);
        if (st != CC_OK)
            return st;
        ev = protobuf_c_enum_descriptor_get_value(fd->descriptor, (int)v);
    }
    if (!ev)
        return fail(c, "unknown enum value");
    *slot = ev->value;
    return CC_OK;
}

static enum cc_status string_set(struct ctx *c, const ProtobufCFieldDescriptor *fd,
                                 const cJSON *json, char **slot)
{
    size_t len;
    char *s;

    if (!cJSON_IsString(json) || !json->valuestring)
        return wrong_type(c, fd);
    len = strlen(json->valuestring);
    if (!cc_utf8_valid(json->valuestring, len))
        return fail(c, "invalid UTF-8");
    s = malloc(len + 1);
    if (!s)
        return nomem(c);
    memcpy(s, json->valuestring, len + 1);
    *slot = s;
    return CC_OK;
}

static enum cc_status bytes_set(struct ctx *c, const ProtobufCFieldDescriptor *fd,
                                const cJSON *json, ProtobufCBinaryData *slot)
{
    size_t b64len, cap, len;
    unsigned char *bin;

    if (!cJSON_IsString(json) || !json->valuestring)
        return wrong_type(c, fd);
    b64len = strlen(json->valuestring);
    cap = b64len / 4 * 3 + 3;
    bin = malloc(cap);
    if (!bin)
        return nomem(c);
    if (sodium_base642bin(bin, cap, json->valuestring, b64len, NULL, &len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
        free(bin);
        return fail(c, "invalid base64");
    }
    if (len == 0) {
        free(bin);
        bin = NULL;
    }
    slot->data = bin;
    slot->len = len;
    return CC_OK;
}

/* Writes one JSON value into the storage of one field (or array element). */
static enum cc_status value_set(struct ctx *c, const ProtobufCFieldDescriptor *fd,
                                const cJSON *json, void *slot)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_BOOL:
        return bool_set(c, fd, json, slot);
    case PROTOBUF_C_TYPE_ENUM:
        return enum_set(c, fd, json, slot);
    case PROTOBUF_C_TYPE_STRING:
        return string_set(c, fd, json, slot);
    case PROTOBUF_C_TYPE_BYTES:
        return bytes_set(c, fd, json, slot);
    case PROTOBUF_C_TYPE_MESSAGE:
        return msg_new(c, fd->descriptor, json, slot);
    default:
        return number_set(c, fd, json, slot);
    }
}

/* --- JSON to message: fields ---------------------------------------------- */

/* The array is stored and counted before it is filled: its zeroed elements
 * are what free_unpacked expects of elements not reached yet. */
static enum cc_status repeated_set(struct ctx *c, const ProtobufCFieldDescriptor *fd,
                                   const cJSON *json, ProtobufCMessage *msg)
{
    size_t size = ftypes[fd->type].size, n = 0, i = 0, mark;
    enum cc_status st;
    const cJSON *e;
    char *arr;

    if (!cJSON_IsArray(json))
        return fail(c, "expected %s", ftypes[fd->type].many);
    cJSON_ArrayForEach(e, json) n++;
    if (n == 0)
        return CC_OK;
    arr = calloc(n, size);
    if (!arr)
        return nomem(c);
    *(void **)((char *)msg + fd->offset) = arr;
    *(size_t *)((char *)msg + fd->quantifier_offset) = n;
    cJSON_ArrayForEach(e, json)
    {
        mark = path_push(c, "[%zu]", i);
        st = value_set(c, fd, e, arr + i * size);
        path_pop(c, mark);
        if (st != CC_OK)
            return st;
        i++;
    }
    return CC_OK;
}

/* 1 when the field has a has_* flag at its quantifier offset. */
static int has_flag(const ProtobufCFieldDescriptor *fd)
{
    return fd->label == PROTOBUF_C_LABEL_OPTIONAL && !(fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
           fd->type != PROTOBUF_C_TYPE_STRING && fd->type != PROTOBUF_C_TYPE_MESSAGE;
}

static enum cc_status field_set(struct ctx *c, const ProtobufCFieldDescriptor *fd,
                                const cJSON *json, ProtobufCMessage *msg)
{
    char *base = (char *)msg;
    uint32_t *which;
    enum cc_status st;

    if (fd->label == PROTOBUF_C_LABEL_REPEATED)
        return repeated_set(c, fd, json, msg);
    if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        /* Members share storage: a second one would overwrite (and leak) the first. */
        which = (uint32_t *)(base + fd->quantifier_offset);
        if (*which != 0 && *which != fd->id)
            return fail(c, "another field of its oneof is set");
        *which = fd->id;
    }
    st = value_set(c, fd, json, base + fd->offset);
    if (st == CC_OK && has_flag(fd))
        *(protobuf_c_boolean *)(base + fd->quantifier_offset) = 1;
    return st;
}

/* Member names from the client are echoed only when short and valid UTF-8. */
static enum cc_status unknown_field(struct ctx *c, const char *key)
{
    if (!key || strlen(key) > MAX_KEY_SHOWN || !cc_utf8_valid(key, strlen(key)))
        return fail(c, "unknown field");
    return fail_field(c, "unknown field", key);
}

static enum cc_status member_set(struct ctx *c, const ProtobufCMessageDescriptor *desc,
                                 const cJSON *member, ProtobufCMessage *msg, unsigned char *seen)
{
    const ProtobufCFieldDescriptor *fd = NULL;
    enum cc_status st;
    size_t mark, i;

    if (member->string)
        fd = protobuf_c_message_descriptor_get_field_by_name(desc, member->string);
    if (!fd)
        return unknown_field(c, member->string);
    i = (size_t)(fd - desc->fields);
    if (seen[i])
        return fail_field(c, "duplicate field", fd->name);
    seen[i] = cJSON_IsNull(member) ? SEEN_NULL : SEEN_VALUE;
    if (seen[i] == SEEN_NULL)
        return CC_OK;
    mark = path_push(c, "%s%s", c->len ? "." : "", fd->name);
    st = field_set(c, fd, member, msg);
    path_pop(c, mark);
    return st;
}

static enum cc_status required_check(struct ctx *c, const ProtobufCMessageDescriptor *desc,
                                     const unsigned char *seen)
{
    for (unsigned i = 0; i < desc->n_fields; i++) {
        if (desc->fields[i].label == PROTOBUF_C_LABEL_REQUIRED && seen[i] != SEEN_VALUE)
            return fail_field(c, "missing required field", desc->fields[i].name);
    }
    return CC_OK;
}

static enum cc_status msg_fill(struct ctx *c, const ProtobufCMessageDescriptor *desc,
                               const cJSON *json, ProtobufCMessage *msg)
{
    unsigned char *seen = calloc(desc->n_fields + 1, 1);
    enum cc_status st = CC_OK;
    const cJSON *member;

    if (!seen)
        return nomem(c);
    cJSON_ArrayForEach(member, json)
    {
        st = member_set(c, desc, member, msg, seen);
        if (st != CC_OK)
            goto out;
    }
    st = required_check(c, desc, seen);
out:
    free(seen);
    return st;
}

/* Builds one message; *out is set only on success. */
static enum cc_status msg_new(struct ctx *c, const ProtobufCMessageDescriptor *desc,
                              const cJSON *json, ProtobufCMessage **out)
{
    ProtobufCMessage *msg;
    enum cc_status st;

    if (!cJSON_IsObject(json))
        return fail(c, "expected an object");
    if (c->depth >= MAX_DEPTH)
        return fail(c, "nested too deeply");
    msg = malloc(desc->sizeof_message);
    if (!msg)
        return nomem(c);
    protobuf_c_message_init(desc, msg);
    c->depth++;
    st = msg_fill(c, desc, json, msg);
    c->depth--;
    if (st != CC_OK) {
        protobuf_c_message_free_unpacked(msg, NULL);
        return st;
    }
    *out = msg;
    return CC_OK;
}

enum cc_status cc_pbjson_from_json(const ProtobufCMessageDescriptor *desc, const cJSON *json,
                                   ProtobufCMessage **out, char *why, size_t whycap)
{
    struct ctx c = {.why = why, .whycap = why ? whycap : 0};

    if (c.whycap > 0)
        why[0] = '\0';
    if (!out || !desc || desc->magic != PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC) {
        if (c.whycap > 0)
            snprintf(why, whycap, "bad arguments");
        return CC_ERR_INTERNAL;
    }
    *out = NULL;
    return msg_new(&c, desc, json, out);
}

/* --- message to JSON ------------------------------------------------------ */

/* A float as the shortest decimal that reads back as the same float, so
 * that 0.1f is written 0.1 rather than 0.10000000149011612. */
static double float_widen(float f)
{
    char buf[32];

    for (int prec = 6; prec <= 9; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, (double)f);
        if (strtof(buf, NULL) == f)
            return strtod(buf, NULL);
    }
    return (double)f; /* NaN: cJSON writes null */
}

static cJSON *enum_render(const ProtobufCFieldDescriptor *fd, int32_t v)
{
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(fd->descriptor, v);

    return ev ? cJSON_CreateString(ev->name) : cJSON_CreateNumber(v);
}

static cJSON *bytes_render(const ProtobufCBinaryData *bd)
{
    size_t len = bd->data ? bd->len : 0;
    size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(cap);
    cJSON *item;

    if (!b64)
        return NULL;
    sodium_bin2base64(b64, cap, bd->data, len, sodium_base64_VARIANT_ORIGINAL);
    item = cJSON_CreateString(b64);
    free(b64);
    return item;
}

static cJSON *string_render(const char *s)
{
    return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *message_render(const ProtobufCMessage *sub, int nulls)
{
    return sub ? cc_pbjson_to_json(sub, nulls) : cJSON_CreateNull();
}

/* One value of a field (or array element) as a new JSON item; NULL when out of memory. */
static cJSON *value_render(const ProtobufCFieldDescriptor *fd, const void *slot, int nulls)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return cJSON_CreateNumber(*(const int32_t *)slot);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return cJSON_CreateNumber(*(const uint32_t *)slot);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return cJSON_CreateNumber((double)*(const int64_t *)slot);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return cJSON_CreateNumber((double)*(const uint64_t *)slot);
    case PROTOBUF_C_TYPE_FLOAT:
        return cJSON_CreateNumber(float_widen(*(const float *)slot));
    case PROTOBUF_C_TYPE_DOUBLE:
        return cJSON_CreateNumber(*(const double *)slot);
    case PROTOBUF_C_TYPE_BOOL:
        return cJSON_CreateBool(*(const protobuf_c_boolean *)slot != 0);
    case PROTOBUF_C_TYPE_ENUM:
        return enum_render(fd, *(const int32_t *)slot);
    case PROTOBUF_C_TYPE_STRING:
        return string_render(*(char *const *)slot);
    case PROTOBUF_C_TYPE_BYTES:
        return bytes_render(slot);
    case PROTOBUF_C_TYPE_MESSAGE:
        return message_render(*(const ProtobufCMessage *const *)slot, nulls);
    }
    return cJSON_CreateNull();
}

static cJSON *array_render(const ProtobufCFieldDescriptor *fd, const char *base, int nulls)
{
    size_t n = *(const size_t *)(base + fd->quantifier_offset);
    const char *arr = *(const char *const *)(base + fd->offset);
    size_t size = ftypes[fd->type].size;
    cJSON *array = cJSON_CreateArray(), *item;

    for (size_t i = 0; array && arr && i < n; i++) {
        item = value_render(fd, arr + i * size, nulls);
        if (!item || !cJSON_AddItemToArray(array, item)) {
            cJSON_Delete(item);
            cJSON_Delete(array);
            return NULL;
        }
    }
    return array;
}

/* 1 when a singular field holds a value; the rules protobuf-c packs by. */
static int field_present(const char *base, const ProtobufCFieldDescriptor *fd)
{
    const void *ptr;

    if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)(base + fd->quantifier_offset) == fd->id;
    if (fd->type == PROTOBUF_C_TYPE_STRING || fd->type == PROTOBUF_C_TYPE_MESSAGE) {
        ptr = *(const void *const *)(base + fd->offset);
        return ptr && !(fd->label == PROTOBUF_C_LABEL_OPTIONAL && ptr == fd->default_value);
    }
    if (fd->label == PROTOBUF_C_LABEL_OPTIONAL)
        return *(const protobuf_c_boolean *)(base + fd->quantifier_offset) != 0;
    return 1; /* required, or proto3 without presence */
}

/* Adds the field to `obj` if it is to be written. Returns 0, or -1 when out of memory. */
static int field_render(cJSON *obj, const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *fd,
                        int nulls)
{
    const char *base = (const char *)msg;
    cJSON *item;

    if (fd->label == PROTOBUF_C_LABEL_REPEATED)
        item = array_render(fd, base, nulls);
    else if (field_present(base, fd))
        item = value_render(fd, base + fd->offset, nulls);
    else if (nulls && (fd->type == PROTOBUF_C_TYPE_STRING || fd->type == PROTOBUF_C_TYPE_MESSAGE))
        item = cJSON_CreateNull();
    else
        return 0;
    if (!item || !cJSON_AddItemToObject(obj, fd->name, item)) {
        cJSON_Delete(item);
        return -1;
    }
    return 0;
}

cJSON *cc_pbjson_to_json(const ProtobufCMessage *msg, int nulls)
{
    const ProtobufCMessageDescriptor *desc;
    cJSON *obj;

    if (!msg)
        return NULL;
    desc = msg->descriptor;
    obj = cJSON_CreateObject();
    for (unsigned i = 0; obj && i < desc->n_fields; i++) {
        if (field_render(obj, msg, &desc->fields[i], nulls) != 0) {
            cJSON_Delete(obj);
            return NULL;
        }
    }
    return obj;
}
