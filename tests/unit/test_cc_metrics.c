/* Unit tests for the Prometheus text rendering and configuration parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "cc_config.h"
#include "cc_metrics.h"

static void counters_gauges_and_histograms_render_as_prometheus_text(void **state)
{
    struct cc_metrics *m;
    struct cc_buf out = CC_BUF_INIT;
    const double bounds[] = {0.1, 1};
    (void)state;
    assert_int_equal(cc_metrics_new(&m), CC_OK);
    struct cc_metric *c = cc_metrics_counter(m, "t_total", "A counter");
    struct cc_metric *g = cc_metrics_gauge(m, "t_gauge", "A gauge");
    struct cc_metric *h = cc_metrics_histogram(m, "t_seconds", "A histogram", bounds, 2);
    cc_metric_add(c, "q=\"a\"", 2);
    cc_metric_add(c, "q=\"a\"", 1);
    cc_metric_set(g, NULL, 7.5);
    cc_metric_observe(h, NULL, 0.05);
    cc_metric_observe(h, NULL, 0.5);
    cc_metric_observe(h, NULL, 5);
    assert_int_equal(cc_metrics_render(m, &out), CC_OK);
    assert_non_null(strstr(out.data, "# TYPE t_total counter\nt_total{q=\"a\"} 3\n"));
    assert_non_null(strstr(out.data, "# HELP t_gauge A gauge\n# TYPE t_gauge gauge\nt_gauge 7.5\n"));
    assert_non_null(strstr(out.data, "t_seconds_bucket{le=\"0.1\"} 1\n"));
    assert_non_null(strstr(out.data, "t_seconds_bucket{le=\"1\"} 2\n"));
    assert_non_null(strstr(out.data, "t_seconds_bucket{le=\"+Inf\"} 3\n"));
    assert_non_null(strstr(out.data, "t_seconds_sum 5.55\n"));
    assert_non_null(strstr(out.data, "t_seconds_count 3\n"));
    cc_buf_release(&out);
    cc_metrics_free(m);
}

static void parse_int_checks_range_and_trailing_text(void **state)
{
    int64_t v;
    (void)state;
    assert_int_equal(cc_parse_int("42", 0, 100, &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(cc_parse_int("101", 0, 100, &v), -1);
    assert_int_equal(cc_parse_int("-1", 0, 100, &v), -1);
    assert_int_equal(cc_parse_int("4x", 0, 100, &v), -1);
    assert_int_equal(cc_parse_int("", 0, 100, &v), -1);
    assert_int_equal(cc_parse_int("99999999999999999999", 0, INT64_MAX, &v), -1);
}

static void config_reads_environment_with_defaults(void **state)
{
    struct cc_config cfg;
    char *argv[] = {(char *)"svc", NULL};
    (void)state;
    unsetenv("CC_HTTP_ADDR");
    setenv("CC_TEST_PORT", "9999", 1);
    setenv("CC_NATS_URL", "nats://10.0.0.1:4222", 1);
    assert_int_equal(cc_config_load(&cfg, "svc", "CC_TEST_PORT", 1234, NULL, 1, argv), CC_OK);
    assert_string_equal(cfg.http_addr, "0.0.0.0:9999");
    assert_string_equal(cfg.nats_url, "nats://10.0.0.1:4222");
    assert_int_equal(cfg.http_max_body, 1 << 20);
    setenv("CC_TEST_PORT", "70000", 1);
    assert_int_equal(cc_config_load(&cfg, "svc", "CC_TEST_PORT", 1234, NULL, 1, argv),
                     CC_ERR_INVALID);
    unsetenv("CC_TEST_PORT");
    setenv("CC_LOG_LEVEL", "loud", 1);
    assert_int_equal(cc_config_load(&cfg, "svc", "CC_TEST_PORT", 1234, NULL, 1, argv),
                     CC_ERR_INVALID);
    unsetenv("CC_LOG_LEVEL");
    char *bad[] = {(char *)"svc", (char *)"--bogus", NULL};
    assert_int_equal(cc_config_load(&cfg, "svc", "CC_TEST_PORT", 1234, NULL, 2, bad),
                     CC_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counters_gauges_and_histograms_render_as_prometheus_text),
        cmocka_unit_test(parse_int_checks_range_and_trailing_text),
        cmocka_unit_test(config_reads_environment_with_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
