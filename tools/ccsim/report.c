/* report.c - writes a run's figures (figures.c) as text, JSON and CSV. */
#include "report.h"
#include "engine.h"
#include "figures.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* --- text ------------------------------------------------------------------------------ */

static const char *hms(double s, char *buf, size_t cap)
{
    long t = (long)llround(s);
    snprintf(buf, cap, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    return buf;
}

/* "12.3" or "-" for NAN; `pct` shows a fraction as a percentage. */
static const char *fmt(double v, int pct, char *buf, size_t cap)
{
    if (isnan(v))
        snprintf(buf, cap, "-");
    else
        snprintf(buf, cap, "%.1f%s", pct ? 100 * v : v, pct ? "%" : "");
    return buf;
}

static const char *with_ci(double v, double ci, int pct, char *buf, size_t cap)
{
    char a[32], b[32];
    if (isnan(ci))
        return fmt(v, pct, buf, cap);
    snprintf(buf, cap, "%s ±%s", fmt(v, pct, a, sizeof a), fmt(ci, pct, b, sizeof b));
    return buf;
}

static void queue_row(FILE *out, const char *name, const char *kind, const struct fig_queue *q)
{
    char asa[80], sl[80], ab[32], aht[32], lw[32];
    fprintf(out, "%-18.18s %-4s %8ld %8ld %9ld %7ld %15s %15s %7s %7s %8s\n", name, kind,
            q->arrivals, q->answered, q->abandoned, q->waiting,
            with_ci(q->asa_s, q->asa_ci_s, 0, asa, sizeof asa),
            with_ci(q->sl, q->sl_ci, 1, sl, sizeof sl), fmt(q->abandon, 1, ab, sizeof ab),
            fmt(q->aht_s, 0, aht, sizeof aht), fmt(q->longest_s, 0, lw, sizeof lw));
}

static void text_queues(const struct sim *s, const struct figures *f, FILE *out)
{
    const struct scenario *sc = s->sc;
    fprintf(out, "\n%-18s %-4s %8s %8s %9s %7s %15s %15s %7s %7s %8s\n", "queue", "kind",
            "arrivals", "answered", "abandoned", "waiting", "ASA s", "SL", "aband.", "AHT s",
            "longest");
    for (size_t q = 0; q < sc->n_queues; q++)
        queue_row(out, sc->queues[q].name, sc->queues[q].kind, &f->queues[q]);
    queue_row(out, "total", "", &f->total);
    if (f->total.failed)
        fprintf(out, "FAILED: %ld measured customers were refused or lost by the system\n",
                f->total.failed);
    fprintf(out,
            "  measured customers: those arriving in [%g s, %g s); \"waiting\": neither "
            "answered nor abandoned when the run stopped\n"
            "  ASA = mean wait (arrival to accept confirmed) of answered customers, "
            "simulated s\n"
            "  SL = answered within %g s / (answered + abandoned); abandonment = abandoned "
            "/ (answered + abandoned)\n"
            "  AHT = mean accept-to-end time measured; longest = longest wait, s; "
            "± = 95 %% interval from %d batch means\n",
            sc->warmup_s, sc->duration_s, sc->sl_s, FIG_BATCHES);
}

static void text_groups(const struct sim *s, const struct figures *f, FILE *out)
{
    char occ[16];
    fprintf(out, "\n%-18s %6s %10s %8s\n", "agent group", "agents", "occupancy", "answered");
    for (size_t g = 0; g < s->sc->n_groups; g++)
        fprintf(out, "%-18.18s %6ld %10s %8ld\n", s->sc->groups[g].name, f->groups[g].agents,
                fmt(f->groups[g].occupancy, 1, occ, sizeof occ), f->groups[g].answered);
    fprintf(out, "%-18s %6zu %10s\n", "total", s->n_agents, fmt(f->occupancy, 1, occ, sizeof occ));
    fprintf(out, "  occupancy = time offered, handling or in wrap-up / time signed in, "
                 "within the measurement window\n");
}

static void check_row(FILE *out, const char *what, const double v[4], int pct)
{
    char a[4][32];
    for (int i = 0; i < 4; i++)
        fmt(v[i], pct, a[i], sizeof a[i]);
    fprintf(out, "%-20s %9s %14s %13s %9s\n", what, a[0], a[1], a[2], a[3]);
}

static void text_check(const struct sim *s, const struct figures *f, FILE *out)
{
    const struct sim_queue_cfg *q = &s->sc->queues[0];
    const struct theory *r = &f->replay, *l = &f->replay_lat, *e = &f->erlang;
    double wrap = s->sc->wrap_up_s, no = NAN;
    char t[48];
    if (!f->check_agents) {
        fprintf(out, "\ncheck: none (Erlang C and the replay need one queue that every agent "
                     "takes, one interaction at a time)\n");
        return;
    }
    fprintf(out, "\ncheck: one queue, %d interchangeable agents%s\n", f->check_agents,
            q->patience_s > 0 ? " (customers abandon: no Erlang C)" : "");
    fprintf(out, "%-20s %9s %14s %13s %9s\n", "", "measured", "replay+latency", "ideal replay",
            "Erlang C");
    snprintf(t, sizeof t, "SL within %g s", s->sc->sl_s);
    check_row(out, "ASA s",
              (double[]){f->total.asa_s, l->asa_s, r->asa_s, e->valid ? e->asa_s : no}, 0);
    check_row(out, t, (double[]){f->total.sl, l->sl, r->sl, e->valid ? e->sl : no}, 1);
    check_row(out, "occupancy",
              (double[]){f->occupancy, l->occupancy, r->occupancy, e->valid ? e->occupancy : no},
              1);
    check_row(out, "abandonment",
              (double[]){f->total.abandon, l->abandon, r->abandon, e->valid ? 0 : no}, 1);
    check_row(out, "AHT s (+ wrap-up)",
              (double[]){f->total.aht_s + wrap, no, r->aht_s + wrap, e->valid ? e->aht_s : no}, 0);
    if (q->patience_s == 0 && !e->valid)
        fprintf(out, "  Erlang C: no steady state (load %.2f Erlangs >= %d agents)\n",
                q->arrivals_per_hour / 3600.0 * (q->handling_s + wrap), f->check_agents);
    fprintf(out,
            "  ideal replay: these very customers (same arrivals, handling times, patience) "
            "through %d agents, first come\n  first served, no latency; replay+latency: the "
            "same with this run's latency (offer %.2f s, accept %.2f s,\n  %.2f s more held "
            "per contact). measured - replay+latency = what the latency model leaves "
            "unexplained;\n  replay - Erlang C = the luck of a finite sample.\n",
            f->check_agents, f->lat_model.route_s, f->lat_model.accept_s, f->lat_model.held_s);
    if (wrap > 0 && e->valid)
        fprintf(out, "  Erlang C takes handling + a fixed wrap-up as one exponential service "
                     "time: an approximation.\n");
}

/* Mean handling time over the queues, weighted by their arrivals. */
static double mean_handling_s(const struct scenario *sc)
{
    double sum = 0, rate = 0;
    for (size_t q = 0; q < sc->n_queues; q++) {
        sum += sc->queues[q].arrivals_per_hour * sc->queues[q].handling_s;
        rate += sc->queues[q].arrivals_per_hour;
    }
    return sum / rate;
}

/* Says so when the scaled latency is large enough to move the figures: a
 * contact costing its agent 2 % more than its handling time, or a floor
 * under every wait above 10 % of the service level threshold. */
static void latency_warning(const struct sim *s, const struct figures *f, FILE *out)
{
    const struct fig_latency *l = &f->lat;
    double aht = mean_handling_s(s->sc);
    double extra = (isnan(l->held_extra_s) ? 0 : l->held_extra_s) +
                   (isnan(l->route_mean_ms) ? 0 : l->route_mean_ms * s->sc->scale / 1000.0);
    double floor = isnan(l->free_wait_s) ? 0 : l->free_wait_s;
    if (extra <= 0.02 * aht && floor <= 0.1 * s->sc->sl_s)
        return;
    fprintf(out,
            "  WARNING: at scale %g the latency is not negligible: each contact costs its "
            "agent %.1f%% more than its\n  handling time and a customer meeting a free agent "
            "waits %.1f s, so waits, service level and occupancy\n  come out worse than "
            "the same system would give in real time; lower --scale for closer figures.\n",
            s->sc->scale, 100 * extra / aht, floor);
}

static void text_latency(const struct sim *s, const struct figures *f, FILE *out)
{
    const struct fig_latency *l = &f->lat;
    double k = s->sc->scale / 1000.0; /* real ms -> simulated s */
    fprintf(out,
            "\nsystem latency (real time; the scale multiplies it into every figure above):\n"
            "  offer after customer and agent were both free: mean %.2f ms, p99 %.2f ms "
            "(%.2f s, %.2f s simulated; %ld offers)\n"
            "  accept confirmed after the offer: mean %.2f ms (%.2f s simulated)\n",
            l->route_mean_ms, l->route_p99_ms, l->route_mean_ms * k, l->route_p99_ms * k,
            l->route_n, l->accept_mean_ms, l->accept_mean_ms * k);
    if (l->held_n)
        fprintf(out,
                "  each contact held its agent %.2f s simulated longer than its handling "
                "time (offer, accept, hang-up timing, end)\n",
                l->held_extra_s);
    if (l->free_n)
        fprintf(out,
                "  customers who found an agent free still waited %.2f s simulated on "
                "average (%ld customers): the floor of every wait at this scale\n",
                l->free_wait_s, l->free_n);
    fprintf(out, "  simulator's own timing: events ran %.2f ms late on average, %.2f ms at worst\n",
            l->late_mean_ms, l->late_max_ms);
    latency_warning(s, f, out);
}

static void text_anomalies(const struct sim *s, FILE *out)
{
    long bad = s->failed_requests + s->offer_timeouts + s->wrap_timer + s->wrap_refused +
               s->lost_events + s->audit_mismatch;
    fprintf(out, "\nanomalies: %s\n", bad ? "" : "none");
    if (s->failed_requests)
        fprintf(out, "  %ld requests refused or unanswered\n", s->failed_requests);
    if (s->offer_timeouts)
        fprintf(out, "  %ld offers rang out unanswered (an agent stuck offering)\n",
                s->offer_timeouts);
    if (s->wrap_timer)
        fprintf(out, "  %ld wrap-ups ended by agent-registry's timer: the simulator lagged\n",
                s->wrap_timer);
    if (s->wrap_refused)
        fprintf(out, "  %ld wrap-up ends refused\n", s->wrap_refused);
    if (s->lost_events)
        fprintf(out, "  %ld events lost (out of memory)\n", s->lost_events);
    if (s->audit_checked)
        fprintf(out,
                "skill-router's records agree with the simulator's for %ld of %ld measured "
                "customers\n",
                s->audit_checked - s->audit_mismatch, s->audit_checked);
    if (s->stale_offers)
        fprintf(out,
                "(%ld offers arrived after the customer had hung up: normal with "
                "abandonment)\n",
                s->stale_offers);
}

static void text(const struct sim *s, const struct figures *f, FILE *out)
{
    const struct scenario *sc = s->sc;
    char a[32], b[32], c[32], d[32];
    fprintf(out,
            "ccsim: %s\nseed %llu, scale %g (one real second = %g simulated seconds), %s "
            "simulated (warm-up %s, then %s measured), drain up to %s, wrap-up %g s\n",
            sc->name, (unsigned long long)sc->seed, sc->scale, sc->scale,
            hms(sc->duration_s, a, sizeof a), hms(sc->warmup_s, b, sizeof b),
            hms(sc->duration_s - sc->warmup_s, c, sizeof c), hms(sc->drain_s, d, sizeof d),
            sc->wrap_up_s);
    text_queues(s, f, out);
    text_groups(s, f, out);
    text_check(s, f, out);
    text_latency(s, f, out);
    text_anomalies(s, out);
}

/* --- JSON ------------------------------------------------------------------------------ */

static void add_queue(cJSON *o, const struct fig_queue *q)
{
    cJSON_AddNumberToObject(o, "arrivals", (double)q->arrivals);
    cJSON_AddNumberToObject(o, "answered", (double)q->answered);
    cJSON_AddNumberToObject(o, "abandoned", (double)q->abandoned);
    cJSON_AddNumberToObject(o, "waiting", (double)q->waiting);
    cJSON_AddNumberToObject(o, "failed", (double)q->failed);
    cJSON_AddNumberToObject(o, "answered_within_t", (double)q->within);
    cJSON_AddNumberToObject(o, "asa_s", q->asa_s); /* cJSON writes NAN as null */
    cJSON_AddNumberToObject(o, "asa_ci_s", q->asa_ci_s);
    cJSON_AddNumberToObject(o, "service_level", q->sl);
    cJSON_AddNumberToObject(o, "service_level_ci", q->sl_ci);
    cJSON_AddNumberToObject(o, "abandonment", q->abandon);
    cJSON_AddNumberToObject(o, "aht_s", q->aht_s);
    cJSON_AddNumberToObject(o, "longest_wait_s", q->longest_s);
}

static cJSON *theory_json(const struct theory *t, int erlang)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !t->valid)
        return cJSON_Delete(o), cJSON_CreateNull();
    cJSON_AddNumberToObject(o, "asa_s", t->asa_s);
    cJSON_AddNumberToObject(o, "service_level", t->sl);
    cJSON_AddNumberToObject(o, "occupancy", t->occupancy);
    cJSON_AddNumberToObject(o, erlang ? "p_wait" : "abandonment", erlang ? t->p_wait : t->abandon);
    if (!erlang) {
        cJSON_AddNumberToObject(o, "answered", (double)t->answered);
        cJSON_AddNumberToObject(o, "abandoned", (double)t->abandoned);
        cJSON_AddNumberToObject(o, "aht_s", t->aht_s);
    }
    return o;
}

static cJSON *check_json(const struct sim *s, const struct figures *f)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !f->check_agents)
        return cJSON_Delete(o), cJSON_CreateNull();
    cJSON_AddNumberToObject(o, "agents", f->check_agents);
    cJSON_AddItemToObject(o, "replay", theory_json(&f->replay, 0));
    cJSON_AddItemToObject(o, "replay_latency", theory_json(&f->replay_lat, 0));
    cJSON_AddNumberToObject(o, "latency_route_s", f->lat_model.route_s);
    cJSON_AddNumberToObject(o, "latency_accept_s", f->lat_model.accept_s);
    cJSON_AddNumberToObject(o, "latency_held_s", f->lat_model.held_s);
    cJSON_AddItemToObject(o, "erlang_c", theory_json(&f->erlang, 1));
    cJSON_AddBoolToObject(o, "erlang_c_approximate", s->sc->wrap_up_s > 0);
    return o;
}

static cJSON *counters_json(const struct sim *s, const struct figures *f)
{
    cJSON *o = cJSON_CreateObject();
    const struct fig_latency *l = &f->lat;
    cJSON_AddNumberToObject(o, "route_delay_ms_mean", l->route_mean_ms);
    cJSON_AddNumberToObject(o, "route_delay_ms_p99", l->route_p99_ms);
    cJSON_AddNumberToObject(o, "accept_ms_mean", l->accept_mean_ms);
    cJSON_AddNumberToObject(o, "free_agent_wait_s", l->free_wait_s);
    cJSON_AddNumberToObject(o, "held_extra_s", l->held_extra_s);
    cJSON_AddNumberToObject(o, "late_ms_mean", l->late_mean_ms);
    cJSON_AddNumberToObject(o, "late_ms_max", l->late_max_ms);
    cJSON_AddNumberToObject(o, "failed_requests", (double)s->failed_requests);
    cJSON_AddNumberToObject(o, "offer_timeouts", (double)s->offer_timeouts);
    cJSON_AddNumberToObject(o, "wrap_timer", (double)s->wrap_timer);
    cJSON_AddNumberToObject(o, "wrap_refused", (double)s->wrap_refused);
    cJSON_AddNumberToObject(o, "lost_events", (double)s->lost_events);
    cJSON_AddNumberToObject(o, "stale_offers", (double)s->stale_offers);
    cJSON_AddNumberToObject(o, "audit_checked", (double)s->audit_checked);
    cJSON_AddNumberToObject(o, "audit_mismatch", (double)s->audit_mismatch);
    return o;
}

static cJSON *run_json(const struct sim *s, const struct figures *f)
{
    const struct scenario *sc = s->sc;
    cJSON *root = cJSON_CreateObject(), *qs = cJSON_AddArrayToObject(root, "queues"),
          *gs = cJSON_AddArrayToObject(root, "groups"), *o;
    cJSON_AddStringToObject(root, "scenario", sc->name);
    cJSON_AddNumberToObject(root, "seed", (double)sc->seed);
    cJSON_AddNumberToObject(root, "scale", sc->scale);
    cJSON_AddNumberToObject(root, "duration_s", sc->duration_s);
    cJSON_AddNumberToObject(root, "warmup_s", sc->warmup_s);
    cJSON_AddNumberToObject(root, "service_level_s", sc->sl_s);
    cJSON_AddNumberToObject(root, "wrap_up_s", sc->wrap_up_s);
    for (size_t q = 0; q < sc->n_queues && qs; q++)
        if ((o = cJSON_CreateObject()) && cJSON_AddItemToArray(qs, o)) {
            cJSON_AddStringToObject(o, "name", sc->queues[q].name);
            add_queue(o, &f->queues[q]);
        }
    if ((o = cJSON_AddObjectToObject(root, "total")))
        add_queue(o, &f->total);
    for (size_t g = 0; g < sc->n_groups && gs; g++)
        if ((o = cJSON_CreateObject()) && cJSON_AddItemToArray(gs, o)) {
            cJSON_AddStringToObject(o, "name", sc->groups[g].name);
            cJSON_AddNumberToObject(o, "agents", (double)f->groups[g].agents);
            cJSON_AddNumberToObject(o, "occupancy", f->groups[g].occupancy);
            cJSON_AddNumberToObject(o, "answered", (double)f->groups[g].answered);
        }
    cJSON_AddNumberToObject(root, "occupancy", f->occupancy);
    cJSON_AddItemToObject(root, "check", check_json(s, f));
    cJSON_AddItemToObject(root, "diagnostics", counters_json(s, f));
    return root;
}

static enum cc_status write_json(const struct sim *s, const struct figures *f, const char *path)
{
    cJSON *root = run_json(s, f);
    char *text = root ? cJSON_Print(root) : NULL;
    FILE *fp = text ? fopen(path, "w") : NULL;
    enum cc_status st = !text ? CC_ERR_NOMEM : !fp ? CC_ERR_IO : CC_OK;
    if (fp && (fputs(text, fp) < 0 || fputc('\n', fp) == EOF))
        st = CC_ERR_IO;
    if (fp && fclose(fp))
        st = CC_ERR_IO;
    free(text);
    cJSON_Delete(root);
    return st;
}

/* --- CSV ------------------------------------------------------------------------------- */

/* A name as one CSV field: quoted, inner quotes doubled. */
static void csv_str(FILE *fp, const char *v)
{
    fputc('"', fp);
    for (; *v; v++) {
        if (*v == '"')
            fputc('"', fp);
        fputc(*v, fp);
    }
    fputc('"', fp);
}

static enum cc_status write_csv(const struct sim *s, const char *path)
{
    FILE *fp = fopen(path, "w");
    if (!fp)
        return CC_ERR_IO;
    fprintf(fp, "customer,queue,measured,arrive_s,handle_drawn_s,patience_drawn_s,outcome,"
                "arrived_s,wait_s,offer_wait_s,handle_s,group\n");
    for (size_t i = 0; i < s->n_customers; i++) {
        const struct sim_customer *c = &s->customers[i];
        double wait = figures_wait_s(s, c);
        fprintf(fp, "%zu,", i);
        csv_str(fp, s->sc->queues[c->queue].name);
        fprintf(fp, ",%d,%.6f,%.6f,%.6f,%s,", c->measured, c->arrive_s, c->handle_s, c->patience_s,
                figures_outcome(c));
        if (!isnan(wait))
            fprintf(fp, "%.6f,%.6f", engine_sim_s(s, c->t_arrive), wait);
        else
            fputs(",", fp);
        if (c->t_offer && !isnan(wait))
            fprintf(fp, ",%.6f", (double)(c->t_offer - c->t_arrive) / 1e6 * s->sc->scale);
        else
            fputs(",", fp);
        if (c->state == SIM_ENDED)
            fprintf(fp, ",%.6f", (double)(c->t_end - c->t_answer) / 1e6 * s->sc->scale);
        else
            fputs(",", fp);
        fputc(',', fp);
        if (c->agent >= 0 && strcmp(figures_outcome(c), "answered") == 0)
            csv_str(fp, s->sc->groups[s->agents[c->agent].group].name);
        fputc('\n', fp);
    }
    return fclose(fp) ? CC_ERR_IO : CC_OK;
}

enum cc_status report_write(const struct sim *s, FILE *out, const char *json_path,
                            const char *csv_path)
{
    struct figures *f = malloc(sizeof *f);
    enum cc_status st = f ? figures_compute(s, f) : CC_ERR_NOMEM;
    if (st == CC_OK) {
        text(s, f, out);
        if (json_path)
            st = write_json(s, f, json_path);
        if (st == CC_OK && csv_path)
            st = write_csv(s, csv_path);
    }
    free(f);
    return st;
}
