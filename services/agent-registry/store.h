/* store.h - agent-registry's objects in Redis, generic over protobuf types.
 *
 * Each kind keeps its objects packed in one hash ({cc}:obj:<kind>), their
 * creation order in a sorted set for paging ({cc}:ord:<kind>) and one index
 * hash per unique field ({cc}:uniq:<kind>:<field>, lower-cased value -> id).
 * Writes happen under one configuration lock shared by every replica
 * ({cc}:lock:config), so check-then-write is atomic across replicas; reads
 * take no lock. */
#ifndef REGISTRY_STORE_H
#define REGISTRY_STORE_H

#include "cc_redis.h"
#include "cc_status.h"

#include <protobuf-c/protobuf-c.h>

#define STORE_MAX_UNIQUE 2

struct store_kind {
    const char *name;                        /* "users": key and subject part */
    const char *id_prefix;                   /* "usr": ids look like usr_1f2e... */
    const ProtobufCMessageDescriptor *desc;  /* the stored message type */
    const char *unique[STORE_MAX_UNIQUE];    /* string fields unique across the kind */
    const char *noun;                        /* "user": for messages */
};

struct store_lock {
    char token[33]; /* random; only the holder's token releases the lock */
};

/* Takes the configuration write lock, waiting up to 3 s.
 * Returns CC_OK, CC_ERR_UNAVAILABLE (Redis down) or CC_ERR_TIMEOUT. */
enum cc_status store_lock(struct cc_redis *r, struct store_lock *lk);

/* Releases the lock if still held by `lk`. */
void store_unlock(struct cc_redis *r, const struct store_lock *lk);

/* Makes a new id "<prefix>_<16 hex>" into `out` (at least 24 bytes). */
void store_new_id(const struct store_kind *k, char *out, size_t cap);

/* Reads object `id`. On CC_OK *out is a heap message (free with
 * protobuf_c_message_free_unpacked); CC_ERR_NOT_FOUND when absent. */
enum cc_status store_get(struct cc_redis *r, const struct store_kind *k, const char *id,
                         ProtobufCMessage **out);

/* CC_OK when object `id` exists, CC_ERR_NOT_FOUND when it does not, or the
 * Redis failure (never reported as "not found"). */
enum cc_status store_exists(struct cc_redis *r, const struct store_kind *k, const char *id);

/* Id holding unique `field` = `value` (case-insensitive) into `id`
 * (cap >= 64). CC_OK, CC_ERR_NOT_FOUND, or a Redis failure. */
enum cc_status store_find_unique(struct cc_redis *r, const struct store_kind *k, const char *field,
                                 const char *value, char *id, size_t cap);

/* Writes `obj` (its "id" field names it), replacing `old` (NULL for a new
 * object): moves unique index entries from old to new values. Call under the
 * lock after checking uniqueness with store_check_unique. */
enum cc_status store_put(struct cc_redis *r, const struct store_kind *k,
                         const ProtobufCMessage *obj, const ProtobufCMessage *old);

/* CC_ERR_CONFLICT (with the field in `why`) when a unique field of `obj`
 * is already held by another object. */
enum cc_status store_check_unique(struct cc_redis *r, const struct store_kind *k,
                                  const ProtobufCMessage *obj, char *why, size_t whycap);

/* Deletes `obj` and its index entries. */
enum cc_status store_delete(struct cc_redis *r, const struct store_kind *k,
                            const ProtobufCMessage *obj);

/* Calls `fn` for every object of the kind (messages are freed after the
 * call); stops early when fn returns non-zero and returns that value. */
typedef int (*store_each_fn)(void *arg, const ProtobufCMessage *obj);
int store_each(struct cc_redis *r, const struct store_kind *k, store_each_fn fn, void *arg,
               enum cc_status *st);

/* One page of objects in creation order after `cursor` (NULL or "" for the
 * first page). `keep` (may be NULL) filters; kept objects go to items[]
 * (heap messages; the caller frees each and the array). *next is a new
 * heap string cursor, or NULL on the last page. */
typedef int (*store_keep_fn)(void *arg, const ProtobufCMessage *obj);
enum cc_status store_page(struct cc_redis *r, const struct store_kind *k, const char *cursor,
                          size_t limit, store_keep_fn keep, void *arg, ProtobufCMessage ***items,
                          size_t *nitems, char **next);

/* The string field `name` of `msg` (NULL when absent or not a string). */
const char *store_field_str(const ProtobufCMessage *msg, const char *name);

/* Sets string field `name` of `msg` to a malloc'ed copy of `value` (NULL
 * clears it). Returns CC_OK or CC_ERR_NOMEM. */
enum cc_status store_set_str(ProtobufCMessage *msg, const char *name, const char *value);

#endif
