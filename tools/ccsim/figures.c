/* figures.c - aggregates of a finished run (definitions in figures.h). */
#include "figures.h"
#include "timeline.h"
#include "scenario.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Student's t, two-sided 95 %, for 1..9 degrees of freedom. */
static const double T95[] = {0, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262};

const char *figures_outcome(const struct sim_customer *c)
{
    switch (c->state) {
    case SIM_ANSWERED:
    case SIM_ENDED:
        return "answered";
    case SIM_ABANDONED:
        return "abandoned";
    case SIM_WAITING:
    case SIM_ACCEPTING:
        return "waiting";
    default:
        return "failed";
    }
}

static double span_s(const struct sim *s, int64_t from, int64_t to)
{
    return (double)(to - from) / 1e6 * s->sc->scale;
}

double figures_wait_s(const struct sim *s, const struct sim_customer *c)
{
    switch (c->state) {
    case SIM_ANSWERED:
    case SIM_ENDED:
        return span_s(s, c->t_arrive, c->t_answer);
    case SIM_ABANDONED:
        return span_s(s, c->t_arrive, c->t_abandon);
    case SIM_WAITING:
    case SIM_ACCEPTING:
        return span_s(s, c->t_arrive, s->end);
    default:
        return NAN;
    }
}

/* Per-batch sums for the intervals. */
struct batches {
    double wait[FIG_BATCHES];
    long answered[FIG_BATCHES], within[FIG_BATCHES], resolved[FIG_BATCHES];
};

/* Half-width of the 95 % interval of the mean of `v` (n values); NAN below 2. */
static double ci95(const double *v, int n)
{
    double mean = 0, ss = 0;
    if (n < 2)
        return NAN;
    for (int i = 0; i < n; i++)
        mean += v[i] / n;
    for (int i = 0; i < n; i++)
        ss += (v[i] - mean) * (v[i] - mean);
    return T95[n - 1] * sqrt(ss / (n - 1)) / sqrt(n);
}

static void batch_cis(const struct batches *b, struct fig_queue *q)
{
    double asa[FIG_BATCHES], sl[FIG_BATCHES];
    int na = 0, ns = 0;
    for (int i = 0; i < FIG_BATCHES; i++) {
        if (b->answered[i])
            asa[na++] = b->wait[i] / (double)b->answered[i];
        if (b->resolved[i])
            sl[ns++] = (double)b->within[i] / (double)b->resolved[i];
    }
    q->asa_ci_s = ci95(asa, na), q->sl_ci = ci95(sl, ns);
}

static void add_customer(const struct sim *s, const struct sim_customer *c, struct fig_queue *q,
                         struct batches *b, double *wait_sum, double *handle_sum)
{
    const struct scenario *sc = s->sc;
    int k = (int)((c->arrive_s - sc->warmup_s) / (sc->duration_s - sc->warmup_s) * FIG_BATCHES);
    double wait = figures_wait_s(s, c);
    const char *o = figures_outcome(c);
    k = k < 0 ? 0 : k >= FIG_BATCHES ? FIG_BATCHES - 1 : k;
    q->arrivals++;
    if (!strcmp(o, "answered")) {
        q->answered++, *wait_sum += wait, q->within += wait <= sc->sl_s;
        b->answered[k]++, b->wait[k] += wait, b->within[k] += wait <= sc->sl_s, b->resolved[k]++;
        if (c->state == SIM_ENDED)
            q->ended++, *handle_sum += span_s(s, c->t_answer, c->t_end);
    } else if (!strcmp(o, "abandoned")) {
        q->abandoned++, b->resolved[k]++;
    } else if (!strcmp(o, "waiting")) {
        q->waiting++;
    } else {
        q->failed++;
    }
    if (!isnan(wait) && (isnan(q->longest_s) || wait > q->longest_s))
        q->longest_s = wait;
}

/* Queue `qi`'s figures, or every queue's when qi < 0. */
static void queue_figures(const struct sim *s, int qi, struct fig_queue *q)
{
    struct batches b;
    double wait_sum = 0, handle_sum = 0;
    memset(q, 0, sizeof *q);
    memset(&b, 0, sizeof b);
    q->longest_s = NAN;
    for (size_t i = 0; i < s->n_customers; i++) {
        const struct sim_customer *c = &s->customers[i];
        if (c->measured && (qi < 0 || c->queue == (uint32_t)qi))
            add_customer(s, c, q, &b, &wait_sum, &handle_sum);
    }
    long resolved = q->answered + q->abandoned;
    q->asa_s = q->answered ? wait_sum / (double)q->answered : NAN;
    q->sl = resolved ? (double)q->within / (double)resolved : NAN;
    q->abandon = resolved ? (double)q->abandoned / (double)resolved : NAN;
    q->aht_s = q->ended ? handle_sum / (double)q->ended : NAN;
    batch_cis(&b, q);
}

static void group_figures(const struct sim *s, struct figures *f)
{
    double window = (double)(s->w1 - s->w0), busy_all = 0;
    int64_t busy[SIM_MAX_GROUPS] = {0};
    for (size_t i = 0; i < s->n_agents; i++) {
        f->groups[s->agents[i].group].agents++;
        busy[s->agents[i].group] += s->agents[i].busy_us;
        busy_all += (double)s->agents[i].busy_us;
    }
    for (size_t i = 0; i < s->n_customers; i++) {
        const struct sim_customer *c = &s->customers[i];
        if (c->measured && c->agent >= 0 && !strcmp(figures_outcome(c), "answered"))
            f->groups[s->agents[c->agent].group].answered++;
    }
    for (size_t g = 0; g < s->sc->n_groups; g++)
        f->groups[g].occupancy = f->groups[g].agents && window > 0
                                     ? (double)busy[g] / ((double)f->groups[g].agents * window)
                                     : NAN;
    f->occupancy = s->n_agents && window > 0 ? busy_all / ((double)s->n_agents * window) : NAN;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static enum cc_status latency(const struct sim *s, struct fig_latency *l)
{
    double *route = malloc((s->n_customers + 1) * sizeof *route), sum = 0, acc = 0, fw = 0,
           held = 0;
    if (!route)
        return CC_ERR_NOMEM;
    memset(l, 0, sizeof *l);
    for (size_t i = 0; i < s->n_customers; i++) {
        const struct sim_customer *c = &s->customers[i];
        if (strcmp(figures_outcome(c), "answered"))
            continue;
        if (c->route_delay >= 0)
            route[l->route_n++] = (double)c->route_delay / 1000.0, sum += (double)c->route_delay;
        l->accept_n++, acc += (double)(c->t_answer - c->t_offer);
        if (c->state == SIM_ENDED)
            l->held_n++, held += span_s(s, c->t_offer, c->t_end) - c->handle_s;
        if (c->found_free)
            l->free_n++, fw += span_s(s, c->t_arrive, c->t_answer);
    }
    qsort(route, (size_t)l->route_n, sizeof *route, cmp_double);
    l->route_mean_ms = l->route_n ? sum / 1000.0 / (double)l->route_n : NAN;
    l->route_p99_ms = l->route_n ? route[(size_t)(0.99 * (double)(l->route_n - 1))] : NAN;
    l->accept_mean_ms = l->accept_n ? acc / 1000.0 / (double)l->accept_n : NAN;
    l->free_wait_s = l->free_n ? fw / (double)l->free_n : NAN;
    l->held_extra_s = l->held_n ? held / (double)l->held_n : NAN;
    free(route);
    return CC_OK;
}

/* Agents that can take the only queue, or 0 when the check does not apply
 * (several queues, chats taken several at a time, an agent who cannot take
 * the queue: then there is no single M/M/c to compare with). */
static int check_agents(const struct sim *s)
{
    const struct sim_queue_cfg *q = &s->sc->queues[0];
    if (s->sc->n_queues != 1 || q->max_chats != 1)
        return 0;
    for (size_t g = 0; g < s->sc->n_groups; g++) {
        const struct sim_group_cfg *gr = &s->sc->groups[g];
        int ok = 0;
        for (size_t k = 0; k < gr->n_skills; k++)
            ok |=
                !strcmp(gr->skills[k].skill, q->skill) && gr->skills[k].capacity >= q->min_capacity;
        if (!ok)
            return 0;
    }
    return (int)s->n_agents;
}

static enum cc_status check(const struct sim *s, struct figures *f)
{
    const struct scenario *sc = s->sc;
    const struct sim_queue_cfg *q = &sc->queues[0];
    if (!(f->check_agents = check_agents(s)))
        return CC_OK;
    struct theory_latency *m = &f->lat_model;
    if (q->patience_s == 0)
        theory_erlang_c(f->check_agents, q->arrivals_per_hour / 3600.0,
                        q->handling_s + sc->wrap_up_s, sc->sl_s, &f->erlang);
    m->route_s = isnan(f->lat.route_mean_ms) ? 0 : f->lat.route_mean_ms * sc->scale / 1000.0;
    m->accept_s = isnan(f->lat.accept_mean_ms) ? 0 : f->lat.accept_mean_ms * sc->scale / 1000.0;
    m->held_s = isnan(f->lat.held_extra_s) ? 0 : f->lat.held_extra_s;
    enum cc_status st = theory_replay(s->customers, s->n_customers, f->check_agents, sc->wrap_up_s,
                                      NULL, sc->sl_s, sc->warmup_s, sc->duration_s, &f->replay);
    if (st == CC_OK)
        st = theory_replay(s->customers, s->n_customers, f->check_agents, sc->wrap_up_s, m,
                           sc->sl_s, sc->warmup_s, sc->duration_s, &f->replay_lat);
    return st;
}

enum cc_status figures_compute(const struct sim *s, struct figures *f)
{
    memset(f, 0, sizeof *f);
    for (size_t q = 0; q < s->sc->n_queues; q++)
        queue_figures(s, (int)q, &f->queues[q]);
    queue_figures(s, -1, &f->total);
    group_figures(s, f);
    enum cc_status st = latency(s, &f->lat);
    if (st == CC_OK) {
        int64_t late_max;
        timeline_lateness(s->timeline, &f->lat.late_n, &f->lat.late_mean_ms, &late_max);
        f->lat.late_mean_ms /= 1000.0, f->lat.late_max_ms = (double)late_max / 1000.0;
        st = check(s, f);
    }
    return st;
}
