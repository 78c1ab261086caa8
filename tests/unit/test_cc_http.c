/* Unit tests for routing patterns, the request pool and the growable buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "cc_buf.h"
#include "cc_http.h"
#include "cc_pool.h"

static void match_fills_parameters_in_order(void **state)
{
    struct cc_pool pool = CC_POOL_INIT;
    const char *params[CC_HTTP_MAX_PARAMS];
    int n;
    (void)state;
    assert_true(cc_http_match("/api/v1/agents/{id}/skills/{skill}", "/api/v1/agents/u1/skills/s9",
                              &pool, params, &n));
    assert_int_equal(n, 2);
    assert_string_equal(params[0], "u1");
    assert_string_equal(params[1], "s9");
    assert_true(cc_http_match("/healthz", "/healthz", &pool, params, &n));
    assert_int_equal(n, 0);
    cc_pool_release(&pool);
}

static void match_refuses_other_paths(void **state)
{
    struct cc_pool pool = CC_POOL_INIT;
    const char *params[CC_HTTP_MAX_PARAMS];
    int n;
    (void)state;
    assert_false(cc_http_match("/api/v1/users/{id}", "/api/v1/users/", &pool, params, &n));
    assert_false(cc_http_match("/api/v1/users/{id}", "/api/v1/users/a/b", &pool, params, &n));
    assert_false(cc_http_match("/api/v1/users", "/api/v1/users/x", &pool, params, &n));
    assert_false(cc_http_match("/api/v1/users/{id}", "/api/v1/teams/x", &pool, params, &n));
    assert_false(cc_http_match("/healthz", "/healthzz", &pool, params, &n));
    cc_pool_release(&pool);
}

static void pool_gives_aligned_zeroed_memory_and_large_blocks(void **state)
{
    struct cc_pool pool = CC_POOL_INIT;
    (void)state;
    for (int i = 0; i < 1000; i++) {
        unsigned char *p = cc_pool_alloc(&pool, (size_t)(i % 97) + 1);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
        assert_int_equal(p[0], 0);
    }
    char *big = cc_pool_alloc(&pool, 100000);
    assert_non_null(big);
    memset(big, 'x', 100000);
    assert_string_equal(cc_pool_printf(&pool, "%s-%d", "a", 7), "a-7");
    assert_string_equal(cc_pool_strndup(&pool, "abcdef", 3), "abc");
    assert_null(cc_pool_strdup(&pool, NULL));
    cc_pool_release(&pool);
    assert_null(pool.head);
}

static void buf_grows_and_detaches(void **state)
{
    struct cc_buf b = CC_BUF_INIT;
    size_t len;
    (void)state;
    for (int i = 0; i < 1000; i++)
        assert_int_equal(cc_buf_addf(&b, "%d,", i % 10), CC_OK);
    assert_int_equal(b.len, 2000);
    assert_int_equal(b.data[b.len], '\0');
    char *s = cc_buf_detach(&b, &len);
    assert_int_equal(len, 2000);
    assert_memory_equal(s, "0,1,2,", 6);
    assert_null(b.data);
    free(s);
    s = cc_buf_detach(&b, &len);
    assert_string_equal(s, "");
    assert_int_equal(len, 0);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(match_fills_parameters_in_order),
        cmocka_unit_test(match_refuses_other_paths),
        cmocka_unit_test(pool_gives_aligned_zeroed_memory_and_large_blocks),
        cmocka_unit_test(buf_grows_and_detaches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
