/* Unit tests for the key names (cc_keys.h): the routing domain, the tag in
 * every format, prefixes for scripts, and keys without ids. The order
 * matters: keys without ids are made once, with the tag of that moment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "cc_keys.h"

static void domains_are_lower_case_letters_digits_and_dashes(void **state)
{
    (void)state;
    const char *ok[] = {"main", "cell-2", "0", "a-domain-of-the-longest-size-32c"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        assert_true(cc_domain_valid(ok[i]));
    const char *bad[] = {NULL,
                         "",
                         "Main",
                         "cell_2",
                         "cell.2",
                         "a}b",
                         "{cc}",
                         "cell 2",
                         "é",
                         "a-domain-of-the-longest-size-32c!",
                         "a-domain-longer-than-thirty-two-c"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_false(cc_domain_valid(bad[i]));
}

static void a_bad_domain_leaves_the_tag_alone(void **state)
{
    (void)state;
    assert_string_equal(cc_tag(), "{cc:main}");
    assert_int_equal(cc_keys_init("Bad"), CC_ERR_INVALID);
    assert_string_equal(cc_tag(), "{cc:main}");
    assert_string_equal(cc_domain(), "main");
}

static void every_key_carries_the_domain_tag(void **state)
{
    char k[128];
    (void)state;
    assert_int_equal(cc_keys_init("cell-7"), CC_OK);
    assert_string_equal(cc_tag(), "{cc:cell-7}");
    assert_string_equal(cc_domain(), "cell-7");
    snprintf(k, sizeof k, KEY_AGENT, cc_tag(), "usr_1");
    assert_string_equal(k, "{cc:cell-7}:agent:usr_1");
    snprintf(k, sizeof k, KEY_TIS, cc_tag(), "2026-12-02", "usr_1");
    assert_string_equal(k, "{cc:cell-7}:tis:2026-12-02:usr_1");
    snprintf(k, sizeof k, KEY_REP_AGENTS, cc_tag(), 20000LL);
    assert_string_equal(k, "{cc:cell-7}:rep:agents:20000");
}

static void prefixes_end_before_the_first_id(void **state)
{
    char p[64];
    (void)state;
    cc_key_prefix(p, sizeof p, KEY_AOFF);
    assert_string_equal(p, "{cc:cell-7}:aoff:");
    cc_key_prefix(p, sizeof p, KEY_REP_AGENT);
    assert_string_equal(p, "{cc:cell-7}:rep:a:");
    cc_key_prefix(p, sizeof p, KEY_OFFERED);
    assert_string_equal(p, "{cc:cell-7}:offered");
    cc_key_prefix(p, 8, KEY_AOFF); /* cut, still terminated */
    assert_string_equal(p, "{cc:cel");
}

static void keys_without_ids_are_made_once_and_then_the_tag_is_fixed(void **state)
{
    (void)state;
    const char *a = cc_key_fixed(KEY_OFFERED);
    assert_string_equal(a, "{cc:cell-7}:offered");
    assert_ptr_equal(cc_key_fixed(KEY_OFFERED), a);
    assert_string_equal(cc_key_fixed(KEY_DEADLINE), "{cc:cell-7}:deadline");
    /* a key was made with this tag: it can no longer change */
    assert_int_equal(cc_keys_init("other"), CC_ERR_INVALID);
    assert_string_equal(cc_tag(), "{cc:cell-7}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(domains_are_lower_case_letters_digits_and_dashes),
        cmocka_unit_test(a_bad_domain_leaves_the_tag_alone),
        cmocka_unit_test(every_key_carries_the_domain_tag),
        cmocka_unit_test(prefixes_end_before_the_first_id),
        cmocka_unit_test(keys_without_ids_are_made_once_and_then_the_tag_is_fixed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
