/* tz.c - local time in the organisation's time zone for reports. The C
 * library keeps one process-wide zone (TZ), so every conversion holds one
 * lock while it switches the zone and converts. */
#include "reports.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

int tz_valid(const char *name)
{
    char path[256];
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 64 || name[0] == '/' || strstr(name, ".."))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_+-", name[i]))
            return 0;
    if (!strcmp(name, "UTC"))
        return 1;
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", name);
    return access(path, R_OK) == 0;
}

/* Sets the zone; called with the lock held. */
static void use(const char *tz)
{
    char spec[80];
    snprintf(spec, sizeof spec, ":%s", tz && *tz ? tz : "UTC");
    setenv("TZ", spec, 1);
    tzset();
}

void tz_local(const char *tz, int64_t ms, struct tm *tm)
{
    time_t t = (time_t)(ms / 1000);
    pthread_mutex_lock(&lock);
    use(tz);
    localtime_r(&t, tm);
    pthread_mutex_unlock(&lock);
}

int64_t tz_midnight(const char *tz, int y, int m, int d)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_isdst = -1};
    pthread_mutex_lock(&lock);
    use(tz);
    time_t t = mktime(&tm);
    pthread_mutex_unlock(&lock);
    return (int64_t)t * 1000;
}

void tz_format(const char *tz, int64_t ms, char *out, size_t cap)
{
    struct tm tm;
    tz_local(tz, ms, &tm);
    long off = tm.tm_gmtoff / 60;
    snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+',
             labs(off) / 60, labs(off) % 60);
}
