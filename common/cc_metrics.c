/* cc_metrics.c - metric families, each a list of labelled series under a lock. */
#include "cc_metrics.h"
#include "cc_log.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind { COUNTER, GAUGE, HISTOGRAM };

struct series {
    struct series *next;
    char *labels;         /* preformatted label set, "" when none */
    double value;         /* counter/gauge value; histogram sum */
    unsigned long *counts; /* histogram: one per bound plus +Inf */
    unsigned long total;  /* histogram: observation count */
};

struct cc_metric {
    struct cc_metric *next;
    const char *name;
    const char *help;
    enum kind kind;
    double *bounds; /* histogram bucket upper bounds */
    int nbounds;
    pthread_mutex_t lock;
    struct series *series;
};

struct cc_metrics {
    pthread_mutex_t lock; /* guards the family list */
    struct cc_metric *head, *tail;
    struct {
        cc_metrics_collect_fn fn;
        void *arg;
    } collect[CC_METRICS_MAX_COLLECT];
    int ncollect;
};

enum cc_status cc_metrics_new(struct cc_metrics **out)
{
    struct cc_metrics *m = calloc(1, sizeof *m);
    if (!m)
        return CC_ERR_NOMEM;
    pthread_mutex_init(&m->lock, NULL);
    *out = m;
    return CC_OK;
}

static void family_free(struct cc_metric *f)
{
    struct series *s = f->series;
    while (s) {
        struct series *next = s->next;
        free(s->labels);
        free(s->counts);
        free(s);
        s = next;
    }
    pthread_mutex_destroy(&f->lock);
    free(f->bounds);
    free(f);
}

void cc_metrics_free(struct cc_metrics *m)
{
    if (!m)
        return;
    for (struct cc_metric *f = m->head, *next; f; f = next) {
        next = f->next;
        family_free(f);
    }
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static struct cc_metric *family_add(struct cc_metrics *m, const char *name, const char *help,
                                    enum kind kind)
{
    struct cc_metric *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->name = name;
    f->help = help;
    f->kind = kind;
    pthread_mutex_init(&f->lock, NULL);
    pthread_mutex_lock(&m->lock);
    if (m->tail)
        m->tail->next = f;
    else
        m->head = f;
    m->tail = f;
    pthread_mutex_unlock(&m->lock);
    return f;
}

struct cc_metric *cc_metrics_counter(struct cc_metrics *m, const char *name, const char *help)
{
    return family_add(m, name, help, COUNTER);
}

struct cc_metric *cc_metrics_gauge(struct cc_metrics *m, const char *name, const char *help)
{
    return family_add(m, name, help, GAUGE);
}

struct cc_metric *cc_metrics_histogram(struct cc_metrics *m, const char *name, const char *help,
                                       const double *bounds, int nbounds)
{
    double *copy = malloc(sizeof *copy * (size_t)nbounds);
    if (!copy)
        return NULL;
    memcpy(copy, bounds, sizeof *copy * (size_t)nbounds);
    struct cc_metric *f = family_add(m, name, help, HISTOGRAM);
    if (!f) {
        free(copy);
        return NULL;
    }
    f->bounds = copy;
    f->nbounds = nbounds;
    return f;
}

void cc_metrics_on_collect(struct cc_metrics *m, cc_metrics_collect_fn fn, void *arg)
{
    CC_ASSERT(m->ncollect < CC_METRICS_MAX_COLLECT);
    m->collect[m->ncollect].fn = fn;
    m->collect[m->ncollect++].arg = arg;
}

/* Finds or creates the series for `labels`; call with f->lock held. */
static struct series *series_get(struct cc_metric *f, const char *labels)
{
    if (!labels)
        labels = "";
    for (struct series *s = f->series; s; s = s->next)
        if (strcmp(s->labels, labels) == 0)
            return s;
    struct series *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->labels = strdup(labels);
    if (f->kind == HISTOGRAM)
        s->counts = calloc((size_t)f->nbounds + 1, sizeof *s->counts);
    if (!s->labels || (f->kind == HISTOGRAM && !s->counts)) {
        free(s->labels);
        free(s->counts);
        free(s);
        return NULL;
    }
    s->next = f->series;
    f->series = s;
    return s;
}

void cc_metric_add(struct cc_metric *f, const char *labels, double v)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->lock);
    struct series *s = series_get(f, labels);
    if (s)
        s->value += v;
    pthread_mutex_unlock(&f->lock);
}

void cc_metric_set(struct cc_metric *f, const char *labels, double v)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->lock);
    struct series *s = series_get(f, labels);
    if (s)
        s->value = v;
    pthread_mutex_unlock(&f->lock);
}

void cc_metric_observe(struct cc_metric *f, const char *labels, double v)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->lock);
    struct series *s = series_get(f, labels);
    if (s) {
        int i = 0;
        while (i < f->nbounds && v > f->bounds[i])
            i++;
        s->counts[i]++; /* cumulated at render time */
        s->total++;
        s->value += v;
    }
    pthread_mutex_unlock(&f->lock);
}

static void render_value(struct cc_buf *out, const char *name, const char *suffix,
                         const char *labels, const char *extra, double v)
{
    int any = (labels && *labels) || extra;
    cc_buf_addf(out, "%s%s", name, suffix);
    if (any)
        cc_buf_addf(out, "{%s%s%s}", labels ? labels : "", labels && *labels && extra ? "," : "",
                    extra ? extra : "");
    if (isinf(v))
        cc_buf_adds(out, v > 0 ? " +Inf\n" : " -Inf\n");
    else
        cc_buf_addf(out, " %.15g\n", v);
}

static void render_histogram(struct cc_buf *out, const struct cc_metric *f, const struct series *s)
{
    unsigned long cum = 0;
    char le[64];
    for (int i = 0; i <= f->nbounds; i++) {
        cum += s->counts[i];
        if (i < f->nbounds)
            snprintf(le, sizeof le, "le=\"%.15g\"", f->bounds[i]);
        else
            snprintf(le, sizeof le, "le=\"+Inf\"");
        render_value(out, f->name, "_bucket", s->labels, le, (double)cum);
    }
    render_value(out, f->name, "_sum", s->labels, NULL, s->value);
    render_value(out, f->name, "_count", s->labels, NULL, (double)s->total);
}

enum cc_status cc_metrics_render(struct cc_metrics *m, struct cc_buf *out)
{
    static const char *types[] = {"counter", "gauge", "histogram"};
    for (int i = 0; i < m->ncollect; i++)
        m->collect[i].fn(m, m->collect[i].arg);
    pthread_mutex_lock(&m->lock);
    for (struct cc_metric *f = m->head; f; f = f->next) {
        cc_buf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
                    types[f->kind]);
        pthread_mutex_lock(&f->lock);
        for (struct series *s = f->series; s; s = s->next) {
            if (f->kind == HISTOGRAM)
                render_histogram(out, f, s);
            else
                render_value(out, f->name, "", s->labels, NULL, s->value);
        }
        pthread_mutex_unlock(&f->lock);
    }
    pthread_mutex_unlock(&m->lock);
    return out->oom ? CC_ERR_NOMEM : CC_OK;
}
