/* cc_log.h - structured logging: one JSON object per line on stderr.
 *
 * The macros check the level before anything is formatted, so a debug line
 * in a hot path costs one comparison when debug is off. Messages must never
 * contain secrets (passwords, tokens, provider credentials). */
#ifndef CC_LOG_H
#define CC_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum cc_log_level { CC_LOG_DEBUG, CC_LOG_INFO, CC_LOG_WARN, CC_LOG_ERROR };

extern enum cc_log_level cc_log_min_level; /* lines below it are skipped */

/* Sets the service name every line carries. `name` must outlive logging. */
void cc_log_init(const char *service_name, enum cc_log_level min_level);

/* Parses "debug", "info", "warn" or "error". Returns 0, or -1 when unknown. */
int cc_log_level_parse(const char *s, enum cc_log_level *out);

/* Writes one line. Use the macros, which skip formatting below the level. */
void cc_log_write(enum cc_log_level level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Writes one line with extra JSON members: `json_members` is a string such as
 * "\"status\":200,\"path\":\"/x\"" already escaped by the caller. */
void cc_log_write_fields(enum cc_log_level level, const char *msg, const char *json_members);

/* Appends `s` to `out` escaped as the inside of a JSON string, truncating so
 * that at most `cap` bytes including the NUL are used. Returns the length. */
size_t cc_json_escape(char *out, size_t cap, const char *s);

#define CC_LOG(level, ...)                                                                         \
    do {                                                                                           \
        if ((level) >= cc_log_min_level)                                                           \
            cc_log_write((level), __FILE__, __LINE__, __VA_ARGS__);                                \
    } while (0)
#define CC_DEBUG(...) CC_LOG(CC_LOG_DEBUG, __VA_ARGS__)
#define CC_INFO(...) CC_LOG(CC_LOG_INFO, __VA_ARGS__)
#define CC_WARN(...) CC_LOG(CC_LOG_WARN, __VA_ARGS__)
#define CC_ERROR(...) CC_LOG(CC_LOG_ERROR, __VA_ARGS__)

/* Aborts with file and line when `cond` is false: for broken invariants only. */
#define CC_ASSERT(cond)                                                                            \
    do {                                                                                           \
        if (!(cond))                                                                               \
            cc_log_assert_failed(#cond, __FILE__, __LINE__);                                       \
    } while (0)
void cc_log_assert_failed(const char *cond, const char *file, int line)
    __attribute__((noreturn));

#endif
