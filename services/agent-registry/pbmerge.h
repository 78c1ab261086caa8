/* pbmerge.h - PATCH semantics on protobuf messages, generic over types. */
#ifndef REGISTRY_PBMERGE_H
#define REGISTRY_PBMERGE_H

#include "cc_status.h"

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

/* Applies `patch` to *base for the top-level `fields` the client sent:
 * a field sent as null clears it, a scalar or string replaces, a repeated
 * field replaces the whole list, a nested message merges field by field.
 * Fields named in `readonly` (NULL-terminated) are ignored. *base is
 * replaced by a new message (the old one is freed). Returns CC_OK,
 * CC_ERR_INVALID (unknown field, `why` says which) or CC_ERR_NOMEM. */
enum cc_status pb_merge(ProtobufCMessage **base, const ProtobufCMessage *patch,
                        char *const *fields, size_t nfields, const char *const *readonly,
                        char *why, size_t whycap);

/* A deep copy of `msg` (free with protobuf_c_message_free_unpacked), or NULL. */
ProtobufCMessage *pb_copy(const ProtobufCMessage *msg);

/* Clears one field of `msg`, freeing what it held. */
void pb_clear_field(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f);

#endif
