/* report.h - the figures of a finished run, from the simulator's own
 * timestamps: per queue and in total arrivals, answered, abandoned, still
 * waiting, average speed of answer, service level, abandonment, handling
 * time; occupancy per agent group; for one queue of interchangeable agents
 * the ideal replay and Erlang C beside them; the system latency that the
 * scale multiplies into every figure; anything that went wrong. As text, and
 * optionally as JSON and as one CSV line per customer. Definitions are in
 * docs/ccsim.md and in the text itself. */
#ifndef CCSIM_REPORT_H
#define CCSIM_REPORT_H

#include "ccsim.h"

#include <stdio.h>

/* Writes the report of finished run `s` as text to `out`, and as JSON to
 * `json_path` and per customer as CSV to `csv_path` when those are not
 * NULL. Returns CC_OK, CC_ERR_IO when a file cannot be written, or
 * CC_ERR_NOMEM. */
enum cc_status report_write(const struct sim *s, FILE *out, const char *json_path,
                            const char *csv_path);

#endif
