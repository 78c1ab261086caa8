/* ccsim.c - the contact-center simulator: Poisson arrivals per queue,
 * exponential handling times and patience, a given number of agents and
 * skills, run through the real services (agent-registry, skill-router) at
 * accelerated but real time, reporting what planners use: average speed of
 * answer, service level, abandonment, occupancy. See docs/ccsim.md.
 *
 * Wiring only: arguments, scenario, connection, then provision, run, report. */
#include "ccsim.h"
#include "cc_config.h"
#include "cc_log.h"
#include "cc_nats.h"
#include "engine.h"
#include "provision.h"
#include "report.h"
#include "scenario.h"
#include "timeline.h"
#include "workload.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONNECT_WAIT_MS 5000

struct args {
    const char *scenario, *json, *csv;
    int audit, progress;
    int has_seed, has_scale, has_duration, has_warmup, has_drain;
    int64_t seed;
    double scale, duration, warmup, drain;
};

static void usage(FILE *out)
{
    fprintf(out, "usage: ccsim [options] SCENARIO.json\n"
                 "  --seed N        random seed (same seed, same customers)\n"
                 "  --scale X       simulated seconds per real second\n"
                 "  --duration S    simulated seconds of arrivals\n"
                 "  --warmup S      simulated seconds at the start that are not measured\n"
                 "  --drain S       after the arrivals, wait at most this for measured customers\n"
                 "  --json FILE     also write the figures as JSON\n"
                 "  --csv FILE      also write one line per customer\n"
                 "  --no-audit      do not check skill-router's record of each customer\n"
                 "  --quiet         no progress lines on stderr\n"
                 "environment: CC_NATS_URL (nats://127.0.0.1:4222), CC_LOG_LEVEL (warn)\n"
                 "exit status: 0 figures written; 1 could not run; 2 bad usage or scenario;\n"
                 "             3 figures written but the run had anomalies (see the report)\n");
}

/* Parses all of `s` as a finite number in [min, max]. Returns 0 or -1. */
static int parse_double(const char *s, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* One option with a value at argv[*i]; -1 when unknown or malformed. */
static int option(struct args *a, int argc, char **argv, int *i)
{
    const char *o = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    int bad;
    if (!v)
        return -1;
    if (!strcmp(o, "--seed")) {
        a->has_seed = 1;
        bad = cc_parse_int(v, 0, INT64_MAX, &a->seed);
    } else if (!strcmp(o, "--scale")) {
        a->has_scale = 1;
        bad = parse_double(v, 1e-3, 1e5, &a->scale);
    } else if (!strcmp(o, "--duration")) {
        a->has_duration = 1;
        bad = parse_double(v, 1, 1e8, &a->duration);
    } else if (!strcmp(o, "--warmup")) {
        a->has_warmup = 1;
        bad = parse_double(v, 0, 1e8, &a->warmup);
    } else if (!strcmp(o, "--drain")) {
        a->has_drain = 1;
        bad = parse_double(v, 0, 1e8, &a->drain);
    } else if (!strcmp(o, "--json") || !strcmp(o, "--csv")) {
        *(o[2] == 'j' ? &a->json : &a->csv) = v;
        bad = 0;
    } else {
        return -1;
    }
    (*i)++;
    return bad ? -1 : 0;
}

/* Returns 0, 1 for --help, -1 for bad usage. */
static int parse_args(struct args *a, int argc, char **argv)
{
    memset(a, 0, sizeof *a);
    a->audit = a->progress = 1;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return 1;
        if (!strcmp(argv[i], "--no-audit"))
            a->audit = 0;
        else if (!strcmp(argv[i], "--quiet"))
            a->progress = 0;
        else if (argv[i][0] != '-' && !a->scenario)
            a->scenario = argv[i];
        else if (option(a, argc, argv, &i)) {
            fprintf(stderr, "ccsim: bad option or value: %s\n", o);
            return -1;
        }
    }
    return a->scenario ? 0 : -1;
}

static enum cc_status load(const struct args *a, struct scenario *sc, char *why, size_t cap)
{
    enum cc_status st = scenario_load(sc, a->scenario, why, cap);
    if (st != CC_OK)
        return st;
    if (a->has_seed)
        sc->seed = (uint64_t)a->seed;
    if (a->has_scale)
        sc->scale = a->scale;
    if (a->has_duration)
        sc->duration_s = a->duration;
    if (a->has_warmup)
        sc->warmup_s = a->warmup;
    if (a->has_drain)
        sc->drain_s = a->drain;
    return scenario_check(sc, why, cap);
}

static enum cc_status connect_nats(struct sim *s)
{
    enum cc_status st =
        cc_nats_connect(&s->nats, cc_env_str("CC_NATS_URL", "nats://127.0.0.1:4222"), "ccsim");
    for (int i = 0; st == CC_OK && i < CONNECT_WAIT_MS / 10 && !cc_nats_connected(s->nats); i++)
        usleep(10000);
    if (st == CC_OK && !cc_nats_connected(s->nats))
        st = CC_ERR_UNAVAILABLE;
    return st;
}

static int anomalies(const struct sim *s)
{
    long failed = 0;
    for (size_t i = 0; i < s->n_customers; i++)
        failed += s->customers[i].measured &&
                  (s->customers[i].state == SIM_FAILED || s->customers[i].state == SIM_PENDING);
    return failed || s->failed_requests || s->offer_timeouts || s->wrap_timer || s->wrap_refused ||
           s->lost_events || s->audit_mismatch;
}

/* Provisions, runs and reports; returns the exit status. */
static int run(struct sim *s, const struct args *a)
{
    char why[512] = "";
    const struct scenario *sc = s->sc;
    enum cc_status st = connect_nats(s);
    if (st != CC_OK) {
        fprintf(stderr, "ccsim: NATS: %s\n", cc_status_str(st));
        return 1;
    }
    fprintf(stderr, "ccsim: creating %zu skills, %zu queues and %zu agents\n", sc->n_skills,
            sc->n_queues, scenario_agents(sc));
    if ((st = provision_run(s, why, sizeof why)) != CC_OK) {
        fprintf(stderr, "ccsim: %s\n", why);
        return 1;
    }
    fprintf(stderr, "ccsim: run %s: %zu customers over %g simulated s, about %.1f real s\n", s->tag,
            s->n_customers, sc->duration_s, sc->duration_s / sc->scale);
    if ((st = engine_run(s, a->audit, a->progress)) != CC_OK) {
        fprintf(stderr, "ccsim: could not start the run: %s\n", cc_status_str(st));
        return 1;
    }
    if ((st = report_write(s, stdout, a->json, a->csv)) != CC_OK) {
        fprintf(stderr, "ccsim: writing the report: %s\n", cc_status_str(st));
        return 1;
    }
    return anomalies(s) ? 3 : 0;
}

/* Reads the scenario and draws its customers into `s`; returns the exit
 * status on failure, 0 on success. */
static int prepare(struct sim *s, struct scenario *sc, const struct args *a)
{
    char why[512] = "";
    enum cc_status st = load(a, sc, why, sizeof why);
    if (st != CC_OK) {
        fprintf(stderr, "ccsim: %s\n", why);
        return 2;
    }
    s->sc = sc;
    st = workload_draw(sc, &s->customers, &s->n_customers);
    if (st != CC_OK) {
        fprintf(stderr, "ccsim: drawing the customers: %s\n",
                st == CC_ERR_INVALID ? "more than 5,000,000 customers" : cc_status_str(st));
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct args a;
    struct sim s;
    enum cc_log_level level = CC_LOG_WARN;
    int rc = parse_args(&a, argc, argv);
    if (rc != 0) {
        usage(rc > 0 ? stdout : stderr);
        return rc > 0 ? 0 : 2;
    }
    if (cc_log_level_parse(cc_env_str("CC_LOG_LEVEL", "warn"), &level))
        level = CC_LOG_WARN;
    cc_log_init("ccsim", level);
    memset(&s, 0, sizeof s);
    struct scenario *sc = calloc(1, sizeof *sc); /* large: kept off the stack */
    if (!sc || pthread_mutex_init(&s.lock, NULL)) {
        free(sc);
        return 1;
    }
    if (!(rc = prepare(&s, sc, &a)))
        rc = run(&s, &a);
    if (s.nats)
        cc_nats_drain(s.nats, 1000); /* no callback runs after this */
    timeline_free(s.timeline);
    if (s.nats)
        cc_nats_free(s.nats);
    cc_nats_library_close();
    pthread_mutex_destroy(&s.lock);
    free(s.customers);
    free(s.agents);
    free(sc);
    return rc;
}
