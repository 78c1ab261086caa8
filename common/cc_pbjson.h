/* cc_pbjson.h - JSON <-> protobuf-c messages, for any message type.
 *
 * The HTTP API speaks JSON and the bus speaks protobuf; both carry the same
 * objects, and JSON member names are exactly the .proto field names. This
 * module maps one to the other from the message descriptor alone, checking
 * every JSON value's type and range on the way in (request bodies are hostile).
 *
 * Field types and their JSON form: string (UTF-8 checked), bool, every
 * 32- and 64-bit integer type (a JSON number; 64-bit values must lie within
 * +-(2^53 - 1), beyond which a double cannot hold every integer), float and
 * double (a number), enum (the value's name as in the .proto; its number is
 * accepted too), bytes (standard base64 with padding), nested messages
 * (objects), and repeated fields of all of these (arrays). */
#ifndef CC_PBJSON_H
#define CC_PBJSON_H

#include "cc_status.h"

#include <cjson/cJSON.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

/* Builds a message of type `desc` from the JSON object `json` (borrowed).
 * JSON null for a field means absent; a repeated field takes an array whose
 * elements may not be null. Unknown or duplicate members, wrong types,
 * non-integral numbers for integer fields, integers out of the field's range,
 * unknown enum values, bad base64, strings that are not valid UTF-8, missing
 * proto2 required fields, two members of one oneof and objects nested deeper
 * than 32 levels give CC_ERR_INVALID with a short English reason in `why`
 * ("team_ids: expected an array of strings", "unknown field: rights.foo",
 * "widening[1].after_s: out of range"); CC_ERR_NOMEM when out of memory;
 * CC_ERR_INTERNAL when `desc` or `out` is NULL.
 * `why` (may be NULL) is always NUL-terminated when whycap > 0, "" on CC_OK.
 * On CC_OK *out is a new message the caller frees with
 * protobuf_c_message_free_unpacked(*out, NULL); on error *out is NULL. */
enum cc_status cc_pbjson_from_json(const ProtobufCMessageDescriptor *desc, const cJSON *json,
                                   ProtobufCMessage **out, char *why, size_t whycap);

/* Renders `msg` (borrowed, not NULL) as a new JSON object the caller deletes
 * with cJSON_Delete. Only present fields are written: optional scalars with
 * has_* false and NULL (or default-valued) strings and messages are left out,
 * except that when `nulls` is true absent string and message fields are
 * written as JSON null. Repeated fields are always written, [] when empty;
 * fields of proto3 messages without presence are always written. 64-bit
 * integers beyond 2^53 are written as the nearest double. Returns NULL only
 * when out of memory. */
cJSON *cc_pbjson_to_json(const ProtobufCMessage *msg, int nulls);

#endif
