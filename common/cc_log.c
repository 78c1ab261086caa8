/* cc_log.c - JSON-lines logger; each line is written with one fwrite so lines
 * from different threads never interleave. */
#include "cc_log.h"
#include "cc_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum cc_log_level cc_log_min_level = CC_LOG_INFO;
static const char *service = "cc";
static const char *level_names[] = {"debug", "info", "warn", "error"};

void cc_log_init(const char *service_name, enum cc_log_level min_level)
{
    service = service_name;
    cc_log_min_level = min_level;
}

int cc_log_level_parse(const char *s, enum cc_log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (s && strcmp(s, level_names[i]) == 0) {
            *out = (enum cc_log_level)i;
            return 0;
        }
    }
    return -1;
}

size_t cc_json_escape(char *out, size_t cap, const char *s)
{
    size_t n = 0;
    if (cap == 0)
        return 0;
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        size_t len;
        if (c == '"' || c == '\\') {
            esc[0] = '\\', esc[1] = (char)c, len = 2;
        } else if (c == '\n') {
            memcpy(esc, "\\n", 2), len = 2;
        } else if (c < 0x20) {
            len = (size_t)snprintf(esc, sizeof esc, "\\u%04x", c);
        } else {
            esc[0] = (char)c, len = 1;
        }
        if (n + len >= cap)
            break;
        memcpy(out + n, esc, len);
        n += len;
    }
    out[n] = '\0';
    return n;
}

static void emit(enum cc_log_level level, const char *msg, const char *src, const char *members)
{
    char ts[32], text[2048], line[4096];
    cc_time_format_ms(cc_time_now_ms(), ts, sizeof ts);
    cc_json_escape(text, sizeof text, msg);
    int n = snprintf(line, sizeof line, "{\"ts\":\"%s\",\"level\":\"%s\",\"svc\":\"%s\",\"msg\":\"%s\"%s%s%s%s%s}\n",
                     ts, level_names[level], service, text, src ? ",\"src\":\"" : "",
                     src ? src : "", src ? "\"" : "", members ? "," : "", members ? members : "");
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line) { /* keep the line valid JSON when cut */
        n = (int)sizeof line - 1;
        memcpy(line + n - 3, "\"}\n", 3);
    }
    fwrite(line, 1, (size_t)n, stderr);
}

void cc_log_write(enum cc_log_level level, const char *file, int line, const char *fmt, ...)
{
    char msg[1024], src[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *base = strrchr(file, '/');
    char esc[128];
    cc_json_escape(esc, sizeof esc, base ? base + 1 : file);
    snprintf(src, sizeof src, "%s:%d", esc, line);
    emit(level, msg, src, NULL);
}

void cc_log_write_fields(enum cc_log_level level, const char *msg, const char *json_members)
{
    if (level >= cc_log_min_level)
        emit(level, msg, NULL, json_members);
}

void cc_log_assert_failed(const char *cond, const char *file, int line)
{
    cc_log_write(CC_LOG_ERROR, file, line, "assertion failed: %s", cond);
    abort();
}
