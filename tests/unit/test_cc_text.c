/* Unit tests for the text helpers: times, JSON escaping, UTF-8, status table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "cc_http.h"
#include "cc_log.h"
#include "cc_status.h"
#include "cc_time.h"

static void time_formats_rfc3339_utc_with_millis(void **state)
{
    char out[32];
    (void)state;
    assert_int_equal(cc_time_format_ms(1795428000123LL, out, sizeof out), 0);
    assert_string_equal(out, "2026-11-23T10:00:00.123Z");
    assert_int_equal(cc_time_format_ms(0, out, sizeof out), 0);
    assert_string_equal(out, "1970-01-01T00:00:00.000Z");
    assert_int_equal(cc_time_format_ms(0, out, 10), -1);
}

static void time_parses_what_it_formats_and_refuses_garbage(void **state)
{
    int64_t ms;
    (void)state;
    assert_int_equal(cc_time_parse_ms("2026-11-23T10:00:00.123Z", &ms), 0);
    assert_int_equal(ms, 1795428000123LL);
    assert_int_equal(cc_time_parse_ms("2026-11-23T10:00:00Z", &ms), 0);
    assert_int_equal(ms, 1795428000000LL);
    assert_int_equal(cc_time_parse_ms("2026-11-23T10:00:00.5+00:00", &ms), 0);
    assert_int_equal(ms, 1795428000500LL);
    assert_int_equal(cc_time_parse_ms("2026-11-23T10:00:00+02:00", &ms), -1);
    assert_int_equal(cc_time_parse_ms("yesterday", &ms), -1);
    assert_int_equal(cc_time_parse_ms("2026-11-23T10:00:00.Z", &ms), -1);
    assert_int_equal(cc_time_parse_ms(NULL, &ms), -1);
}

static void json_escape_quotes_controls_and_truncates(void **state)
{
    char out[64];
    (void)state;
    cc_json_escape(out, sizeof out, "a\"b\\c\nd\x01");
    assert_string_equal(out, "a\\\"b\\\\c\\nd\\u0001");
    cc_json_escape(out, 4, "abcdef");
    assert_string_equal(out, "abc");
    cc_json_escape(out, 3, "\"\"");
    assert_string_equal(out, "\\\"");
    cc_json_escape(out, sizeof out, "zażółć 😀");
    assert_string_equal(out, "zażółć 😀");
}

static void utf8_accepts_text_and_emoji_refuses_broken_sequences(void **state)
{
    (void)state;
    const char *ok[] = {"", "plain", "zażółć gęślą jaźń", "¡Hola! ¿qué tal?", "😀👍🏽", "\xF4\x8F\xBF\xBF"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        assert_true(cc_utf8_valid(ok[i], strlen(ok[i])));
    const char *bad[] = {"\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xC3",
                         "\xE2\x82", "\x80", "abc\xFF", "\xF8\x88\x80\x80\x80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(cc_utf8_valid(bad[i], strlen(bad[i])));
}

static void status_table_gives_one_http_status_and_code_each(void **state)
{
    (void)state;
    assert_int_equal(cc_status_http(CC_ERR_INVALID), 400);
    assert_string_equal(cc_status_code(CC_ERR_INVALID), "bad_request");
    assert_int_equal(cc_status_http(CC_ERR_CONFLICT), 409);
    assert_string_equal(cc_status_code(CC_ERR_TOO_LARGE), "too_large");
    assert_int_equal(cc_status_http(CC_ERR_RATE_LIMITED), 429);
    assert_string_equal(cc_status_code(CC_ERR_TIMEOUT), "unavailable");
    for (int i = 1; i < CC_STATUS_COUNT; i++) {
        assert_true(cc_status_http((enum cc_status)i) >= 400);
        assert_non_null(cc_status_str((enum cc_status)i));
    }
    assert_int_equal(cc_status_from_code("not_found"), CC_ERR_NOT_FOUND);
    assert_int_equal(cc_status_from_code("nonsense"), CC_ERR_INTERNAL);
    assert_int_equal(cc_status_http((enum cc_status)999), 500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(time_formats_rfc3339_utc_with_millis),
        cmocka_unit_test(time_parses_what_it_formats_and_refuses_garbage),
        cmocka_unit_test(json_escape_quotes_controls_and_truncates),
        cmocka_unit_test(utf8_accepts_text_and_emoji_refuses_broken_sequences),
        cmocka_unit_test(status_table_gives_one_http_status_and_code_each),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
