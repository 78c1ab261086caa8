/* cc_metrics.h - Prometheus metrics: counters, gauges and histograms with
 * labels, rendered in the text exposition format for GET /metrics.
 *
 * Families are registered at start-up; updates are thread-safe. Label sets
 * are given preformatted, e.g. `method="GET",code="200"`; values in them must
 * already be escaped (use fixed vocabularies such as route patterns). */
#ifndef CC_METRICS_H
#define CC_METRICS_H

#include "cc_buf.h"
#include "cc_status.h"

#include <stddef.h>

struct cc_metrics;
struct cc_metric;

/* Called before each render so a service can set gauges from live state. */
typedef void (*cc_metrics_collect_fn)(struct cc_metrics *m, void *arg);

/* Creates an empty registry. Returns CC_OK or CC_ERR_NOMEM. */
enum cc_status cc_metrics_new(struct cc_metrics **out);

/* Frees the registry and every family in it. */
void cc_metrics_free(struct cc_metrics *m);

/* Registers a family; `name` and `help` must be string literals or outlive m.
 * Returns the family (owned by m), or NULL when out of memory. */
struct cc_metric *cc_metrics_counter(struct cc_metrics *m, const char *name, const char *help);
struct cc_metric *cc_metrics_gauge(struct cc_metrics *m, const char *name, const char *help);
/* `bounds` (ascending, seconds or any unit) is copied; +Inf is implicit. */
struct cc_metric *cc_metrics_histogram(struct cc_metrics *m, const char *name, const char *help,
                                       const double *bounds, int nbounds);

#define CC_METRICS_MAX_COLLECT 4

/* Adds a collect callback (CC_METRICS_MAX_COLLECT at most), called before
 * each render in the order added. */
void cc_metrics_on_collect(struct cc_metrics *m, cc_metrics_collect_fn fn, void *arg);

/* Adds `v` (>= 0) to a counter's or gauge's series; `labels` may be NULL. */
void cc_metric_add(struct cc_metric *f, const char *labels, double v);

/* Sets a gauge's series. */
void cc_metric_set(struct cc_metric *f, const char *labels, double v);

/* Records one observation in a histogram's series. */
void cc_metric_observe(struct cc_metric *f, const char *labels, double v);

/* Appends the whole registry in the Prometheus text format to `out`. */
enum cc_status cc_metrics_render(struct cc_metrics *m, struct cc_buf *out);

#endif
