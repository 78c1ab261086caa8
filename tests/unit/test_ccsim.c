/* Unit tests for the simulator's pure modules: Erlang C against closed forms
 * and published values, the first-come-first-served replay worked by hand,
 * the customers' random streams, and the scenario reader's refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scenario.h"
#include "theory.h"
#include "workload.h"

static void erlang_c_of_one_agent_is_the_mm1_closed_form(void **state)
{
    struct theory t;
    (void)state;
    /* M/M/1 at rho 0.5, S 100 s: P(wait) = rho, ASA = rho S / (1 - rho),
     * SL(T) = 1 - rho e^(-(1 - rho) T / S) */
    theory_erlang_c(1, 0.005, 100, 20, &t);
    assert_true(t.valid);
    assert_true(fabs(t.p_wait - 0.5) < 1e-12);
    assert_true(fabs(t.asa_s - 100) < 1e-9);
    assert_true(fabs(t.sl - (1 - 0.5 * exp(-0.1))) < 1e-12);
    assert_true(fabs(t.occupancy - 0.5) < 1e-12);
}

static void erlang_c_of_ten_agents_at_eighty_percent_matches_the_tables(void **state)
{
    struct theory t;
    (void)state;
    /* 10 agents, 8 Erlangs: P(wait) 0.4092 (published Erlang C tables) */
    theory_erlang_c(10, 8.0 / 300, 300, 20, &t);
    assert_true(t.valid);
    assert_true(fabs(t.p_wait - 0.409180) < 1e-6);
    assert_true(fabs(t.asa_s - 61.377023) < 1e-5);
    assert_true(fabs(t.sl - 0.641896) < 1e-6);
}

static void erlang_c_has_no_steady_state_when_load_reaches_the_agents(void **state)
{
    struct theory t;
    (void)state;
    theory_erlang_c(5, 5.0 / 300, 300, 20, &t);
    assert_false(t.valid);
    theory_erlang_c(5, 6.0 / 300, 300, 20, &t);
    assert_false(t.valid);
}

static struct sim_customer customer(double arrive, double handle, double patience)
{
    struct sim_customer c;
    memset(&c, 0, sizeof c);
    c.arrive_s = arrive, c.handle_s = handle, c.patience_s = patience, c.measured = 1;
    return c;
}

static void replay_serves_first_come_first_served_by_hand(void **state)
{
    /* one agent: waits 0, 9 and 13; the fourth gives up after 5 s */
    struct sim_customer cu[] = {customer(0, 10, 0), customer(1, 5, 0), customer(2, 1, 0),
                                customer(3, 4, 5)};
    struct theory t;
    (void)state;
    assert_int_equal(theory_replay(cu, 4, 1, 0, NULL, 10, 0, 16, &t), CC_OK);
    assert_int_equal(t.answered, 3);
    assert_int_equal(t.abandoned, 1);
    assert_true(fabs(t.asa_s - 22.0 / 3) < 1e-12);
    assert_true(fabs(t.sl - 2.0 / 4) < 1e-12); /* 0 and 9 within 10 s, of 3 + 1 */
    assert_true(fabs(t.abandon - 0.25) < 1e-12);
    assert_true(fabs(t.occupancy - 1.0) < 1e-12); /* busy 0..16 of 0..16 */
}

static void replay_adds_the_latency_to_offers_answers_and_holding(void **state)
{
    struct sim_customer cu[] = {customer(0, 10, 0), customer(1, 5, 0)};
    struct theory_latency lat = {1, 0.5, 2};
    struct theory t;
    (void)state;
    /* offered at 1, answered 1.5, agent held to 13; then offered 14, answered 14.5 */
    assert_int_equal(theory_replay(cu, 2, 1, 0, &lat, 20, 0, 100, &t), CC_OK);
    assert_true(fabs(t.asa_s - (1.5 + 13.5) / 2) < 1e-12);
    assert_true(fabs(t.occupancy - (12 + 7) / 100.0) < 1e-12);
}

static struct scenario *one_queue(const char *name, double rate)
{
    struct scenario *sc = calloc(1, sizeof *sc);
    assert_non_null(sc);
    sc->duration_s = 36000, sc->seed = 42, sc->n_queues = 1;
    snprintf(sc->queues[0].name, sizeof sc->queues[0].name, "%s", name);
    sc->queues[0].arrivals_per_hour = rate, sc->queues[0].handling_s = 300;
    return sc;
}

static void workload_same_seed_same_customers_and_queues_keep_their_draws(void **state)
{
    struct scenario *a = one_queue("Sales", 60), *b = one_queue("Sales", 60);
    struct sim_customer *x, *y;
    size_t nx, ny, k = 0;
    (void)state;
    assert_int_equal(workload_draw(a, &x, &nx), CC_OK);
    /* a second queue in front changes neither the Sales arrivals nor their times */
    b->n_queues = 2;
    b->queues[1] = b->queues[0];
    snprintf(b->queues[0].name, sizeof b->queues[0].name, "Billing");
    assert_int_equal(workload_draw(b, &y, &ny), CC_OK);
    assert_true(nx > 500 && nx < 700); /* 600 expected */
    for (size_t i = 0; i < ny; i++)
        if (y[i].queue == 1) {
            assert_true(k < nx);
            assert_true(x[k].arrive_s == y[i].arrive_s && x[k].handle_s == y[i].handle_s);
            k++;
        }
    assert_int_equal(k, nx);
    for (size_t i = 1; i < ny; i++)
        assert_true(y[i - 1].arrive_s <= y[i].arrive_s);
    free(x), free(y), free(a), free(b);
}

static void rng_exponential_has_its_mean(void **state)
{
    struct rng r;
    double sum = 0;
    (void)state;
    rng_init(&r, 7, 1);
    for (int i = 0; i < 200000; i++)
        sum += rng_exp(&r, 300);
    assert_true(fabs(sum / 200000 - 300) < 300 * 4.5 / sqrt(200000)); /* 4.5 sigma */
}

/* Writes `json` to a temporary file and loads it; returns the status. */
static enum cc_status load_text(const char *json, struct scenario *sc, char *why, size_t cap)
{
    char path[] = "/tmp/ccsim-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, json, strlen(json)), (ssize_t)strlen(json));
    close(fd);
    enum cc_status st = scenario_load(sc, path, why, cap);
    unlink(path);
    return st;
}

#define GOOD_QUEUE                                                                                 \
    "\"queues\":[{\"name\":\"Q\",\"kind\":\"chat\",\"arrivals_per_hour\":10,"                      \
    "\"handling_time_s\":60}]"
#define GOOD_AGENTS                                                                                \
    "\"agents\":[{\"group\":\"G\",\"count\":2,\"skills\":[{\"skill\":\"Q\","                       \
    "\"capacity\":5}]}]"

static void scenario_fills_defaults_and_refuses_typos_and_bad_values(void **state)
{
    static const char *const bad[] = {
        "{\"duration_s\":100,\"time_scal\":60," GOOD_QUEUE "," GOOD_AGENTS "}",
        "{\"duration_s\":100,\"warmup_s\":100," GOOD_QUEUE "," GOOD_AGENTS "}",
        "{\"duration_s\":-1," GOOD_QUEUE "," GOOD_AGENTS "}",
        "{\"duration_s\":100," GOOD_QUEUE "}",
        "{\"duration_s\":100," GOOD_QUEUE ",\"agents\":[{\"group\":\"G\",\"count\":2,"
        "\"skills\":[{\"skill\":\"Other\",\"capacity\":5}]}]}",
        "{\"duration_s\":100,\"queues\":[{\"name\":\"Q\",\"kind\":\"fax\","
        "\"arrivals_per_hour\":10,\"handling_time_s\":60}]," GOOD_AGENTS "}",
        "{\"duration_s\":100,\"seed\":1.5," GOOD_QUEUE "," GOOD_AGENTS "}",
        "[1,2]",
        "not json"};
    struct scenario *sc = calloc(1, sizeof *sc);
    char why[256];
    (void)state;
    assert_int_equal(
        load_text("{\"duration_s\":100," GOOD_QUEUE "," GOOD_AGENTS "}", sc, why, sizeof why),
        CC_OK);
    assert_true(sc->scale == 60 && sc->sl_s == 20 && sc->seed == 1 && sc->drain_s == 3600);
    assert_string_equal(sc->queues[0].strategy, "longest_idle");
    assert_string_equal(sc->queues[0].skill, "Q");
    assert_int_equal(sc->n_skills, 1);
    assert_int_equal(scenario_agents(sc), 2);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(load_text(bad[i], sc, why, sizeof why), CC_ERR_INVALID);
    free(sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(erlang_c_of_one_agent_is_the_mm1_closed_form),
        cmocka_unit_test(erlang_c_of_ten_agents_at_eighty_percent_matches_the_tables),
        cmocka_unit_test(erlang_c_has_no_steady_state_when_load_reaches_the_agents),
        cmocka_unit_test(replay_serves_first_come_first_served_by_hand),
        cmocka_unit_test(replay_adds_the_latency_to_offers_answers_and_holding),
        cmocka_unit_test(workload_same_seed_same_customers_and_queues_keep_their_draws),
        cmocka_unit_test(rng_exponential_has_its_mean),
        cmocka_unit_test(scenario_fills_defaults_and_refuses_typos_and_bad_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
