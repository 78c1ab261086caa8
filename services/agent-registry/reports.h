/* reports.h - historical reports of queues and agents (SPEC 7b,
 * docs/reports.md): counters per 15-minute UTC interval kept in Redis while
 * things happen (reports_ingest.c), summed into the organisation's
 * intervals and days on request (reports_query.c, tz.c). */
#ifndef REGISTRY_REPORTS_H
#define REGISTRY_REPORTS_H

#include "registry.h"

#include <stdint.h>
#include <time.h>

#define REPORT_QUARTER_MS 900000LL
#define REPORT_DAY_QUARTERS 96

/* Subscribes the status events and the RECORDS stream (ingest) and the
 * report subjects (query). */
enum cc_status reports_start(struct registry *reg);

enum cc_status reports_ingest_start(struct registry *reg);

/* Counts the status events still waiting and stops the thread counting
 * them (events arriving later are counted as they come). */
void reports_stop(struct registry *reg);

/* Frees what reports_ingest_start made, once no handler runs any more
 * (after cc_service_release). */
void reports_release(struct registry *reg);
enum cc_status reports_query_start(struct registry *reg);

/* How long the counters are kept, seconds (CC_REPORT_RETENTION_DAYS). */
int64_t reports_retention_s(void);

/* --- tz.c: the organisation's local time ------------------------------------------------ */

/* 1 when `name` is a time zone this machine knows (IANA name, no path tricks). */
int tz_valid(const char *name);

/* The local time of `ms` in zone `tz` (NULL or "": UTC) into *tm (tm_gmtoff
 * set). */
void tz_local(const char *tz, int64_t ms, struct tm *tm);

/* The instant (ms) of local midnight starting date `y-m-d` in zone `tz`. */
int64_t tz_midnight(const char *tz, int y, int m, int d);

/* Formats `ms` as local RFC 3339 with the zone's offset at that instant. */
void tz_format(const char *tz, int64_t ms, char *out, size_t cap);

#endif
