/* cc_time.h - wall and monotonic clocks in milliseconds, and RFC 3339 text. */
#ifndef CC_TIME_H
#define CC_TIME_H

#include <stddef.h>
#include <stdint.h>

/* Milliseconds since the Unix epoch (wall clock). */
int64_t cc_time_now_ms(void);

/* Milliseconds on a monotonic clock, for durations only. */
int64_t cc_time_mono_ms(void);

/* Microseconds on a monotonic clock, for durations only. */
int64_t cc_time_mono_us(void);

/* Writes `ms` as "2026-11-23T10:00:00.123Z" into `out` (at least 25 bytes).
 * Returns 0, or -1 when `cap` is too small or the time cannot be shown. */
int cc_time_format_ms(int64_t ms, char *out, size_t cap);

/* Writes the UTC day of `ms` as "2026-11-23" into `out` (at least 11 bytes):
 * the day part of per-day keys such as time in state. */
void cc_time_day(int64_t ms, char *out, size_t cap);

/* Parses an RFC 3339 UTC time with optional fraction ("...Z" or "+00:00").
 * Returns 0 and sets *ms, or -1 when the text is not such a time. */
int cc_time_parse_ms(const char *s, int64_t *ms);

#endif
