/* validate.c - field checks for the configuration kinds. */
#include "validate.h"

#include <string.h>

int text_blank(const char *s)
{
    /* the multi-byte spaces: U+00A0, U+1680, U+2000..U+200B, U+2028, U+2029,
     * U+202F, U+205F, U+3000, U+FEFF */
    static const char *const wide[] = {
        "\xc2\xa0",     "\xe1\x9a\x80", "\xe2\x80\x80", "\xe2\x80\x81", "\xe2\x80\x82",
        "\xe2\x80\x83", "\xe2\x80\x84", "\xe2\x80\x85", "\xe2\x80\x86", "\xe2\x80\x87",
        "\xe2\x80\x88", "\xe2\x80\x89", "\xe2\x80\x8a", "\xe2\x80\x8b", "\xe2\x80\xa8",
        "\xe2\x80\xa9", "\xe2\x80\xaf", "\xe2\x81\x9f", "\xe3\x80\x80", "\xef\xbb\xbf"};
    while (*s) {
        if (strchr(" \t\n\r\v\f", *s)) {
            s++;
            continue;
        }
        size_t i = 0;
        while (i < sizeof wide / sizeof *wide && strncmp(s, wide[i], strlen(wide[i])) != 0)
            i++;
        if (i == sizeof wide / sizeof *wide)
            return 0;
        s += strlen(wide[i]);
    }
    return 1;
}

enum cc_status check_text(struct op *op, const char *field, const char *v, size_t min, size_t max)
{
    size_t fl = strlen(field);
    int a_name = !strcmp(field, "name") || (fl > 5 && !strcmp(field + fl - 5, "_name"));
    enum cc_status st = check_length(op, field, v, min, max);
    if (st == CC_OK && (min > 0 || a_name) && v && *v && text_blank(v))
        return op_fail(op, CC_ERR_INVALID, "%s: must not be blank", field);
    return st;
}

enum cc_status check_length(struct op *op, const char *field, const char *v, size_t min, size_t max)
{
    size_t n = v ? strlen(v) : 0;
    if (n == 0 && min > 0)
        return op_fail(op, CC_ERR_INVALID, "%s: required", field);
    if (n > max)
        return op_fail(op, CC_ERR_INVALID, "%s: at most %zu bytes", field, max);
    if (n < min)
        return op_fail(op, CC_ERR_INVALID, "%s: at least %zu characters", field, min);
    return CC_OK;
}

enum cc_status check_int(struct op *op, const char *field, int has, int64_t v, int64_t min,
                         int64_t max)
{
    if (!has)
        return op_fail(op, CC_ERR_INVALID, "%s: required", field);
    if (v < min || v > max)
        return op_fail(op, CC_ERR_INVALID, "%s: must be between %lld and %lld", field,
                       (long long)min, (long long)max);
    return CC_OK;
}

enum cc_status check_one_of(struct op *op, const char *field, const char *v, int required,
                            const char *const *allowed)
{
    if (!v || !*v)
        return required ? op_fail(op, CC_ERR_INVALID, "%s: required", field) : CC_OK;
    for (const char *const *a = allowed; *a; a++)
        if (strcmp(v, *a) == 0)
            return CC_OK;
    return op_fail(op, CC_ERR_INVALID, "%s: unknown value %.64s", field, v);
}

enum cc_status check_ref(struct op *op, const char *field, const struct kind *k, const char *id)
{
    if (!id || !*id)
        return CC_OK;
    enum cc_status st = store_exists(op->reg->redis, &k->store, id);
    return st != CC_ERR_NOT_FOUND
               ? st
               : op_fail(op, CC_ERR_INVALID, "%s: no such %s %.64s", field, k->store.noun, id);
}

enum cc_status check_refs(struct op *op, const char *field, const struct kind *k, char *const *ids,
                          size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < i; j++)
            if (strcmp(ids[i], ids[j]) == 0)
                return op_fail(op, CC_ERR_INVALID, "%s: %.64s listed twice", field, ids[i]);
        enum cc_status st = check_ref(op, field, k, ids[i]);
        if (st != CC_OK)
            return st;
    }
    return CC_OK;
}
