/* Integration tests of the common NATS and Redis adapters against the real
 * nats-server and redis-server that tests/system/test_common_bus.py starts;
 * their URLs come in CC_TEST_NATS_URL and CC_TEST_REDIS_URL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cc/v1/common.pb-c.h"
#include "cc_nats.h"
#include "cc_redis.h"
#include "cc_time.h"

static struct cc_nats *nats;
static struct cc_redis *redis;

static void on_echo(void *arg, const struct cc_nats_msg *m)
{
    struct cc_nats *n = arg;
    Cc__V1__Caller *in = cc__v1__caller__unpack(NULL, m->len, m->data);
    if (!in) {
        cc_nats_respond_error(n, m, CC_ERR_INVALID, "not a Caller");
        return;
    }
    if (in->role && strcmp(in->role, "nobody") == 0) {
        cc_nats_respond_error(n, m, CC_ERR_CONFLICT, "login already taken");
    } else if (in->role && strcmp(in->role, "silent") == 0) {
        /* no answer: the requester times out */
    } else {
        Cc__V1__Caller out = CC__V1__CALLER__INIT;
        out.user_id = in->user_id;
        out.role = CC_PB_STR("echo");
        cc_nats_respond(n, m, &out.base);
    }
    cc__v1__caller__free_unpacked(in, NULL);
}

static int setup(void **state)
{
    (void)state;
    const char *nurl = getenv("CC_TEST_NATS_URL"), *rurl = getenv("CC_TEST_REDIS_URL");
    if (!nurl || !rurl) {
        fprintf(stderr, "CC_TEST_NATS_URL and CC_TEST_REDIS_URL must be set\n");
        return -1;
    }
    if (cc_nats_connect(&nats, nurl, "it_cc_bus") != CC_OK ||
        cc_redis_new(&redis, rurl, 2) != CC_OK)
        return -1;
    for (int i = 0; i < 200 && !cc_nats_connected(nats); i++)
        usleep(10000);
    return cc_nats_subscribe(nats, "it.echo", "q", on_echo, nats) == CC_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    cc_nats_drain(nats, 1000);
    cc_nats_free(nats);
    cc_redis_free(redis);
    cc_nats_library_close();
    return 0;
}

static void request_reply_carries_protobuf_both_ways(void **state)
{
    Cc__V1__Caller req = CC__V1__CALLER__INIT;
    ProtobufCMessage *rep = NULL;
    (void)state;
    req.user_id = CC_PB_STR("u-42");
    req.role = CC_PB_STR("agent");
    assert_int_equal(cc_nats_request(nats, "it.echo", &req.base, &cc__v1__caller__descriptor, 2000,
                                     &rep, NULL, 0),
                     CC_OK);
    Cc__V1__Caller *out = (Cc__V1__Caller *)rep;
    assert_string_equal(out->user_id, "u-42");
    assert_string_equal(out->role, "echo");
    protobuf_c_message_free_unpacked(rep, NULL);
}

static void responder_error_reaches_requester_as_status_and_message(void **state)
{
    Cc__V1__Caller req = CC__V1__CALLER__INIT;
    ProtobufCMessage *rep = NULL;
    char msg[64];
    (void)state;
    req.role = CC_PB_STR("nobody");
    assert_int_equal(cc_nats_request(nats, "it.echo", &req.base, &cc__v1__caller__descriptor, 2000,
                                     &rep, msg, sizeof msg),
                     CC_ERR_CONFLICT);
    assert_null(rep);
    assert_string_equal(msg, "login already taken");
}

static void request_without_responder_or_answer_fails_fast_or_times_out(void **state)
{
    Cc__V1__Caller req = CC__V1__CALLER__INIT;
    ProtobufCMessage *rep = NULL;
    (void)state;
    int64_t t0 = cc_time_mono_ms();
    assert_int_equal(cc_nats_request(nats, "it.nobody.here", &req.base,
                                     &cc__v1__caller__descriptor, 2000, &rep, NULL, 0),
                     CC_ERR_UNAVAILABLE);
    assert_true(cc_time_mono_ms() - t0 < 1000); /* no-responders, not a timeout */
    req.role = CC_PB_STR("silent");
    assert_int_equal(cc_nats_request(nats, "it.echo", &req.base, &cc__v1__caller__descriptor, 200,
                                     &rep, NULL, 0),
                     CC_ERR_TIMEOUT);
}

static atomic_int deliveries[3];

static enum cc_nats_verdict retry_once(void *arg, const struct cc_nats_msg *m, int64_t *retry_ms)
{
    (void)arg;
    int idx = m->len == 1 ? m->data[0] - '0' : 0;
    if (idx < 0 || idx > 2)
        return CC_NATS_TERM;
    atomic_fetch_add(&deliveries[idx], 1);
    if (m->delivered == 1) {
        *retry_ms = 50;
        return CC_NATS_RETRY;
    }
    return CC_NATS_ACK;
}

static void jetstream_drops_duplicates_and_redelivers_after_retry(void **state)
{
    const char *subjects[] = {"it.js.>"};
    struct cc_nats_stream sc = {"IT_BUS", subjects, 1, 3600, 120, 1};
    struct cc_nats_consumer cc = {"IT_BUS", "it.js.in", "it-worker", 2000, 5, 10};
    int dup = -1;
    (void)state;
    assert_int_equal(cc_nats_stream_ensure(nats, &sc), CC_OK);
    assert_int_equal(cc_nats_stream_ensure(nats, &sc), CC_OK); /* existing: updated */
    assert_int_equal(cc_nats_js_publish(nats, "it.js.in", "1", 1, "msg-1", 2000, &dup), CC_OK);
    assert_int_equal(dup, 0);
    assert_int_equal(cc_nats_js_publish(nats, "it.js.in", "1", 1, "msg-1", 2000, &dup), CC_OK);
    assert_int_equal(dup, 1);
    assert_int_equal(cc_nats_js_publish(nats, "it.js.in", "2", 1, "msg-2", 2000, &dup), CC_OK);
    assert_int_equal(cc_nats_consume(nats, &cc, retry_once, NULL), CC_OK);
    for (int i = 0; i < 500 && (deliveries[1] < 2 || deliveries[2] < 2); i++)
        usleep(10000);
    usleep(300000); /* an acked message must not come back */
    assert_int_equal(atomic_load(&deliveries[1]), 2);
    assert_int_equal(atomic_load(&deliveries[2]), 2);
}

static void redis_script_survives_script_flush_and_pipeline_keeps_order(void **state)
{
    static struct cc_redis_script add =
        CC_REDIS_SCRIPT("add", "return redis.call('INCRBY', KEYS[1], ARGV[1])");
    struct cc_redis_conn *c;
    redisReply *r;
    const char *args[] = {"{it}:n", "5"};
    (void)state;
    assert_int_equal(cc_redis_acquire(redis, &c), CC_OK);
    assert_int_equal(cc_redis_cmd(c, &r, "DEL %s", "{it}:n"), CC_OK);
    freeReplyObject(r);
    assert_int_equal(cc_redis_eval(c, &add, &r, 1, 2, args, NULL), CC_OK);
    assert_int_equal(r->integer, 5);
    freeReplyObject(r);
    assert_int_equal(cc_redis_cmd(c, &r, "SCRIPT FLUSH"), CC_OK); /* as after a restart */
    freeReplyObject(r);
    assert_int_equal(cc_redis_eval(c, &add, &r, 1, 2, args, NULL), CC_OK);
    assert_int_equal(r->integer, 10);
    freeReplyObject(r);
    for (int i = 0; i < 100; i++) {
        const char *argv[] = {"INCR", "{it}:n"};
        assert_int_equal(cc_redis_append(c, 2, argv, NULL), CC_OK);
    }
    for (int i = 0; i < 100; i++) {
        assert_int_equal(cc_redis_reply(c, &r), CC_OK);
        assert_int_equal(r->integer, 11 + i);
        freeReplyObject(r);
    }
    assert_int_equal(cc_redis_cmd(c, &r, "NOT_A_COMMAND"), CC_ERR_INTERNAL);
    assert_int_equal(r->type, REDIS_REPLY_ERROR);
    freeReplyObject(r);
    cc_redis_release(redis, c);
    assert_int_equal(cc_redis_ping(redis), CC_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(request_reply_carries_protobuf_both_ways),
        cmocka_unit_test(responder_error_reaches_requester_as_status_and_message),
        cmocka_unit_test(request_without_responder_or_answer_fails_fast_or_times_out),
        cmocka_unit_test(jetstream_drops_duplicates_and_redelivers_after_retry),
        cmocka_unit_test(redis_script_survives_script_flush_and_pipeline_keeps_order),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
