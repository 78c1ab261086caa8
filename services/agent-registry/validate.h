/* validate.h - checks shared by the kinds; each fails through op_fail with
 * the field named in the message ("name: required"). */
#ifndef REGISTRY_VALIDATE_H
#define REGISTRY_VALIDATE_H

#include "registry.h"

#include <stdint.h>

/* Text of `min`..`max` UTF-8 bytes; min 0 allows absent (or empty). A
 * required text (min > 0: a name, a login, a quick reply's text) and any
 * name (`name`, `*_name`) given must not be blank (only spaces, tabs, line
 * breaks, no-break or other Unicode spaces): "name: must not be blank".
 * 400 otherwise. */
enum cc_status check_text(struct op *op, const char *field, const char *v, size_t min, size_t max);

/* `min`..`max` bytes, nothing else checked (passwords: spaces count). */
enum cc_status check_length(struct op *op, const char *field, const char *v, size_t min,
                            size_t max);

/* 1 when `s` holds nothing but white space (ASCII and Unicode spaces). */
int text_blank(const char *s);

/* An integer that is present (when required) and in [min, max]. */
enum cc_status check_int(struct op *op, const char *field, int has, int64_t v, int64_t min,
                         int64_t max);

/* One of `allowed` (NULL-terminated); absent passes unless required. */
enum cc_status check_one_of(struct op *op, const char *field, const char *v, int required,
                            const char *const *allowed);

/* An id of kind `k` that exists; absent passes. 400 when unknown. */
enum cc_status check_ref(struct op *op, const char *field, const struct kind *k, const char *id);

/* Each id in the list exists and appears once. */
enum cc_status check_refs(struct op *op, const char *field, const struct kind *k,
                          char *const *ids, size_t n);

/* Sets an optional int64 to `def` when absent. */
#define DEFAULT_INT(obj, f, def)                                                                   \
    do {                                                                                           \
        if (!(obj)->has_##f)                                                                       \
            (obj)->has_##f = 1, (obj)->f = (def);                                                  \
    } while (0)
#define DEFAULT_BOOL DEFAULT_INT

#endif
