/* Unit test of the agent's state machine (common/cc_agent.c): every row of
 * the transition table in docs/presence.md is decided by the C module, and,
 * when CC_TEST_REDIS_URL names a Redis (tests/system/test_presence_table.py
 * starts one), applied through the one compare-and-set script
 * (common/agent_apply.lua via agent_apply) and read back: the record the
 * script wrote must be exactly the one C decided, and a record that moved
 * meanwhile must be left alone. Also agent_can_take, the one rule. */
#pragma GCC diagnostic ignored "-Woverride-init" /* F(...) overrides its defaults */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cc_agent.h"
#include "cc_agent_store.h"
#include "cc_config.h"
#include "cc_keys.h"

#define NOW 1795428000000LL
#define EARLIER (NOW - 60000)

struct row {
    const char *name;
    struct agent_rec cur;
    struct presence_input in;
    struct presence_facts f; /* now_ms and is_agent are set by default() */
    enum cc_status want;
    struct agent_rec next; /* the fields the row checks; version ignored */
};

/* A record in `status`/`state` with active calls, chats and offers. */
static struct agent_rec rec(enum agent_status st, enum agent_state s, int64_t calls, int64_t chats,
                            int64_t offers)
{
    struct agent_rec r;
    agent_rec_init(&r);
    r.status = st, r.state = s, r.calls = calls, r.chats = chats, r.offers = offers;
    r.since_ms = EARLIER, r.version = 7;
    return r;
}

static struct agent_rec moved(struct agent_rec r, enum agent_status st, enum agent_state s)
{
    r.status = st, r.state = s, r.since_ms = NOW, r.due_ms = 0, r.cause[0] = '\0';
    return r;
}

static struct agent_rec with_pending(struct agent_rec r, enum agent_pending p, const char *cause)
{
    r.pending = p;
    snprintf(r.pending_cause, sizeof r.pending_cause, "%s", cause);
    return r;
}

static struct agent_rec counts(struct agent_rec r, int64_t calls, int64_t chats, int64_t offers)
{
    r.calls = calls, r.chats = chats, r.offers = offers;
    return r;
}

static struct agent_rec paused(struct agent_rec r, const char *cause, int64_t due)
{
    r = moved(r, AGENT_CALLCENTER, STATE_PAUSE);
    snprintf(r.cause, sizeof r.cause, "%s", cause);
    r.due_ms = due;
    return r;
}

static struct agent_rec due(struct agent_rec r, int64_t due_ms)
{
    r.due_ms = due_ms;
    return r;
}

static struct agent_rec misses(struct agent_rec r, int64_t n)
{
    r.misses = n;
    return r;
}

#define IN(ev_, ...) ((struct presence_input){.ev = (ev_), __VA_ARGS__})
#define F(...)                                                                                     \
    ((struct presence_facts){.now_ms = NOW,                                                        \
                             .is_agent = 1,                                                        \
                             .cause_left_ms = -1,                                                  \
                             .pending_cause_left_ms = -1,                                          \
                             __VA_ARGS__})

#define CC AGENT_CALLCENTER
static struct row *table(size_t *n)
{
    static struct row rows[64];
    size_t k = 0;
    struct agent_rec off = rec(AGENT_OFFLINE, STATE_NONE, 0, 0, 0);
    struct agent_rec ready = rec(AGENT_READY, STATE_NONE, 0, 0, 0);
    struct agent_rec dnd = rec(AGENT_DND, STATE_NONE, 0, 0, 0);
    struct agent_rec waiting = rec(CC, STATE_WAITING, 0, 0, 0);
    struct agent_rec offering = rec(CC, STATE_OFFERING, 0, 0, 1);
    struct agent_rec busy_chat = rec(CC, STATE_BUSY, 0, 1, 0);
    struct agent_rec busy_call = rec(CC, STATE_BUSY, 1, 0, 0);
    struct agent_rec pp = due(rec(CC, STATE_POST_PROCESSING, 0, 0, 0), NOW - 1);
    struct agent_rec missed = due(rec(CC, STATE_MISSED, 0, 0, 0), NOW - 1);
    struct agent_rec pause = paused(rec(CC, STATE_WAITING, 0, 0, 0), "pc_x", NOW - 1);
    pause.since_ms = EARLIER;
    struct presence_facts f0 = F(.wrap_up_s = 0);
#define ROW(name_, cur_, in_, f_, want_, next_)                                                    \
    rows[k++] = (struct row){(name_), (cur_), (in_), (f_), (want_), (next_)}
    ROW("sign-in from offline: ready", off, IN(EV_SIGN_IN), f0, CC_OK,
        moved(off, AGENT_READY, STATE_NONE));
    ROW("sign-out from any: offline, offers and pending dropped",
        with_pending(offering, PENDING_DND, ""), IN(EV_SIGN_OUT), f0, CC_OK,
        counts(moved(offering, AGENT_OFFLINE, STATE_NONE), 0, 0, 0));
    ROW("choose a status while offline: 409", off, IN(EV_SET_STATUS, .status = "ready"), f0,
        CC_ERR_CONFLICT, off);
    ROW("choose a status while busy: pending", busy_chat, IN(EV_SET_STATUS, .status = "dnd"), f0,
        CC_OK, with_pending(busy_chat, PENDING_DND, ""));
    ROW("choose callcenter: waiting", ready, IN(EV_SET_STATUS, .status = "callcenter"), f0, CC_OK,
        moved(ready, CC, STATE_WAITING));
    ROW("choose dnd while offering: the offer is withdrawn", offering,
        IN(EV_SET_STATUS, .status = "dnd"), f0, CC_OK,
        counts(moved(offering, AGENT_DND, STATE_NONE), 0, 0, 0));
    ROW("choose offline: 409", ready, IN(EV_SET_STATUS, .status = "offline"), f0, CC_ERR_CONFLICT,
        ready);
    ROW("choose callcenter, not an agent: 409", ready, IN(EV_SET_STATUS, .status = "callcenter"),
        F(.is_agent = 0), CC_ERR_CONFLICT, ready);
    ROW("choose waiting from pause", pause, IN(EV_SET_STATE, .state = "waiting"), f0, CC_OK,
        moved(pause, CC, STATE_WAITING));
    ROW("choose waiting from post-processing", pp, IN(EV_SET_STATE, .state = "waiting"), f0, CC_OK,
        moved(pp, CC, STATE_WAITING));
    ROW("choose pause from waiting", waiting, IN(EV_SET_STATE, .state = "pause", .cause = "pc_x"),
        F(.cause_found = 1, .cause_allowed = 1, .cause_left_ms = 60000), CC_OK,
        paused(waiting, "pc_x", NOW + 60000));
    ROW("choose pause while offering: the offer is withdrawn", offering,
        IN(EV_SET_STATE, .state = "pause", .cause = "pc_x"),
        F(.cause_found = 1, .cause_allowed = 1, .cause_left_ms = -1), CC_OK,
        counts(paused(offering, "pc_x", 0), 0, 0, 0));
    ROW("choose pause while busy: pending", busy_call,
        IN(EV_SET_STATE, .state = "pause", .cause = "pc_x"),
        F(.cause_found = 1, .cause_allowed = 1, .cause_left_ms = -1), CC_OK,
        with_pending(busy_call, PENDING_PAUSE, "pc_x"));
    ROW("choose a cause not yours: 403", waiting,
        IN(EV_SET_STATE, .state = "pause", .cause = "pc_x"),
        F(.cause_found = 1, .cause_allowed = 0), CC_ERR_FORBIDDEN, waiting);
    ROW("choose a cause whose limit is used up: 409", waiting,
        IN(EV_SET_STATE, .state = "pause", .cause = "pc_x"),
        F(.cause_found = 1, .cause_allowed = 1, .cause_left_ms = 0), CC_ERR_CONFLICT, waiting);
    ROW("choose busy: 409", waiting, IN(EV_SET_STATE, .state = "busy"), f0, CC_ERR_CONFLICT,
        waiting);
    ROW("offer to waiting: offering", waiting, IN(EV_OFFER, .kind = "chat"), f0, CC_OK,
        counts(moved(waiting, CC, STATE_OFFERING), 0, 0, 1));
    ROW("offer a chat while busy with chats: offers + 1", busy_chat, IN(EV_OFFER, .kind = "chat"),
        f0, CC_OK, counts(busy_chat, 0, 1, 1));
    ROW("offer a chat while on a call: 409", busy_call, IN(EV_OFFER, .kind = "chat"), f0,
        CC_ERR_CONFLICT, busy_call);
    ROW("offer a chat while busy with something pending: 409",
        with_pending(busy_chat, PENDING_DND, ""), IN(EV_OFFER, .kind = "chat"), f0, CC_ERR_CONFLICT,
        with_pending(busy_chat, PENDING_DND, ""));
    ROW("offer in pause: 409", pause, IN(EV_OFFER, .kind = "chat"), f0, CC_ERR_CONFLICT, pause);
    ROW("offer to ready: 409", ready, IN(EV_OFFER, .kind = "call"), f0, CC_ERR_CONFLICT, ready);
    ROW("decline: offering to waiting", offering, IN(EV_DECLINE, .kind = "chat"), f0, CC_OK,
        counts(moved(offering, CC, STATE_WAITING), 0, 0, 0));
    ROW("offer withdrawn while busy: offers - 1", counts(busy_chat, 0, 1, 1),
        IN(EV_OFFER_WITHDRAWN, .kind = "chat"), f0, CC_OK, busy_chat);
    ROW("decline with nothing ringing: 409", waiting, IN(EV_DECLINE, .kind = "chat"), f0,
        CC_ERR_CONFLICT, waiting);
    ROW("accept: busy, chats + 1, misses reset", misses(offering, 2), IN(EV_ACCEPT, .kind = "chat"),
        f0, CC_OK, counts(moved(offering, CC, STATE_BUSY), 0, 1, 0));
    ROW("accept a chat while busy: chats + 1", counts(busy_chat, 0, 1, 1),
        IN(EV_ACCEPT, .kind = "chat"), f0, CC_OK, counts(busy_chat, 0, 2, 0));
    ROW("offer timeout: missed for no_answer_delay_s", offering,
        IN(EV_OFFER_TIMEOUT, .kind = "chat"), F(.no_answer_delay_s = 5), CC_OK,
        misses(due(counts(moved(offering, CC, STATE_MISSED), 0, 0, 0), NOW + 5000), 1));
    ROW("offer timeout with no delay: waiting", offering, IN(EV_OFFER_TIMEOUT, .kind = "chat"), f0,
        CC_OK, misses(counts(moved(offering, CC, STATE_WAITING), 0, 0, 0), 1));
    ROW("offer timeout at max_no_answer: pause no answer", misses(offering, 2),
        IN(EV_OFFER_TIMEOUT, .kind = "call"), F(.max_no_answer = 3, .no_answer_delay_s = 5), CC_OK,
        counts(paused(offering, PRESENCE_NO_ANSWER_CAUSE, 0), 0, 0, 0));
    ROW("end of the last: post-processing for the wrap-up", busy_chat, IN(EV_END, .kind = "chat"),
        F(.wrap_up_s = 30), CC_OK,
        due(counts(moved(busy_chat, CC, STATE_POST_PROCESSING), 0, 0, 0), NOW + 30000));
    ROW("end of the last, no wrap-up: waiting", busy_call, IN(EV_END, .kind = "call"), f0, CC_OK,
        counts(moved(busy_call, CC, STATE_WAITING), 0, 0, 0));
    ROW("end of the last with a pending status", with_pending(busy_chat, PENDING_READY, ""),
        IN(EV_END, .kind = "chat"), F(.wrap_up_s = 30), CC_OK,
        counts(moved(busy_chat, AGENT_READY, STATE_NONE), 0, 0, 0));
    ROW("end of the last with a pending pause", with_pending(busy_chat, PENDING_PAUSE, "pc_x"),
        IN(EV_END, .kind = "chat"), F(.wrap_up_s = 30, .pending_cause_left_ms = 1000), CC_OK,
        counts(paused(busy_chat, "pc_x", NOW + 1000), 0, 0, 0));
    ROW("end with others active: busy", counts(busy_chat, 0, 2, 0), IN(EV_END, .kind = "chat"),
        F(.wrap_up_s = 30), CC_OK, busy_chat);
    ROW("end of nothing active: 409", waiting, IN(EV_END, .kind = "chat"), f0, CC_ERR_CONFLICT,
        waiting);
    ROW("timer in post-processing: waiting", pp, IN(EV_TIMER), f0, CC_OK,
        moved(pp, CC, STATE_WAITING));
    ROW("timer in missed: waiting", missed, IN(EV_TIMER), f0, CC_OK,
        moved(missed, CC, STATE_WAITING));
    ROW("timer in pause with a limit: waiting", pause, IN(EV_TIMER), f0, CC_OK,
        moved(pause, CC, STATE_WAITING));
    ROW("timer not due yet: unchanged", due(pp, NOW + 1000), IN(EV_TIMER), f0, CC_OK,
        due(pp, NOW + 1000));
    ROW("call_start while offline: 409", off, IN(EV_CALL_START, .kind = "call"), f0,
        CC_ERR_CONFLICT, off);
    ROW("call_start in dnd: 409", dnd, IN(EV_CALL_START, .kind = "call"), f0, CC_ERR_CONFLICT, dnd);
    ROW("call_start while waiting: busy", waiting, IN(EV_CALL_START, .kind = "call"), f0, CC_OK,
        counts(moved(waiting, CC, STATE_BUSY), 1, 0, 0));
    ROW("call_start in ready: calls + 1", ready, IN(EV_CALL_START, .kind = "call"), f0, CC_OK,
        counts(ready, 1, 0, 0));
    ROW("call_end of the last: waiting, no wrap-up", busy_call, IN(EV_CALL_END, .kind = "call"),
        F(.wrap_up_s = 30), CC_OK, counts(moved(busy_call, CC, STATE_WAITING), 0, 0, 0));
    ROW("call_end in ready: calls - 1", counts(ready, 1, 0, 0), IN(EV_CALL_END, .kind = "call"), f0,
        CC_OK, ready);
    ROW("call_end of no call: 409", ready, IN(EV_CALL_END, .kind = "call"), f0, CC_ERR_CONFLICT,
        ready);
    ROW("deactivate in callcenter, not busy: ready, offers withdrawn", offering, IN(EV_DEACTIVATE),
        f0, CC_OK, counts(moved(offering, AGENT_READY, STATE_NONE), 0, 0, 0));
    ROW("deactivate while busy: pending ready, offers withdrawn", counts(busy_chat, 0, 1, 1),
        IN(EV_DEACTIVATE), f0, CC_OK, with_pending(busy_chat, PENDING_READY, ""));
    ROW("deactivate in ready: a pending callcenter dropped",
        with_pending(counts(ready, 1, 0, 0), PENDING_CALLCENTER, ""), IN(EV_DEACTIVATE), f0, CC_OK,
        counts(ready, 1, 0, 0));
#undef ROW
    *n = k;
    return rows;
}

static void expect_same(const char *name, const struct agent_rec *got, const struct agent_rec *want)
{
    if (presence_changed(got, want)) {
        print_error("%s: got %s/%s cause=%s pending=%s since=%lld due=%lld calls=%lld chats=%lld "
                    "offers=%lld misses=%lld\n",
                    name, agent_status_name(got->status), agent_state_name(got->state), got->cause,
                    agent_pending_name(got->pending), (long long)got->since_ms,
                    (long long)got->due_ms, (long long)got->calls, (long long)got->chats,
                    (long long)got->offers, (long long)got->misses);
        fail_msg("%s: the record differs from the table", name);
    }
}

static void every_row_decides_as_the_table_says(void **state)
{
    size_t n;
    struct row *rows = table(&n);
    (void)state;
    assert_true(n >= 45);
    for (size_t i = 0; i < n; i++) {
        struct agent_rec next;
        const char *why = NULL;
        enum cc_status st = presence_decide(&rows[i].cur, &rows[i].in, &rows[i].f, &next, &why);
        if (st != rows[i].want)
            fail_msg("%s: status %s, want %s", rows[i].name, cc_status_str(st),
                     cc_status_str(rows[i].want));
        if (st != CC_OK) {
            assert_non_null(why);
            expect_same(rows[i].name, &next, &rows[i].cur); /* a refusal changes nothing */
        } else {
            expect_same(rows[i].name, &next, &rows[i].next);
        }
    }
}

static void can_take_is_one_rule(void **state)
{
    (void)state;
    Cc__V1__Queue q = CC__V1__QUEUE__INIT;
    char *teams[] = {(char *)"t1"};
    struct agent_rec a = rec(AGENT_CALLCENTER, STATE_WAITING, 0, 0, 0);
    snprintf(a.team, sizeof a.team, "t1");
    q.max_concurrent_chats = 2;
    assert_null(agent_can_take(&a, "chat", &q));
    assert_null(agent_can_take(&a, NULL, NULL));
    a.enabled = 0; /* deactivated or archived: nothing */
    assert_string_equal(agent_can_take(&a, "chat", &q), "not_agent");
    assert_string_equal(agent_can_take(&a, NULL, NULL), "not_agent");
    a.enabled = 1;
    q.n_team_ids = 1, q.team_ids = teams;
    snprintf(a.team, sizeof a.team, "t2");
    assert_string_equal(agent_can_take(&a, "chat", &q), "not_in_team");
    snprintf(a.team, sizeof a.team, "t1");
    a = counts(moved(a, AGENT_CALLCENTER, STATE_BUSY), 0, 1, 0);
    assert_null(agent_can_take(&a, "chat", &q)); /* room for a second chat */
    assert_string_equal(agent_can_take(&a, "call", &q), "call_or_chat");
    a.offers = 1;
    assert_string_equal(agent_can_take(&a, "chat", &q), "busy"); /* 1 chat + 1 offer = 2 */
    a.offers = 0, a.pending = PENDING_READY;
    assert_string_equal(agent_can_take(&a, "chat", &q), "busy");
    a = rec(AGENT_CALLCENTER, STATE_PAUSE, 0, 0, 0);
    assert_string_equal(agent_can_take(&a, NULL, NULL), "paused");
    a = rec(AGENT_READY, STATE_NONE, 0, 0, 0);
    assert_string_equal(agent_can_take(&a, NULL, NULL), "not_callcenter");
    /* the offer transition uses the same rule: refused exactly when it says no */
    struct presence_input in = {.ev = EV_OFFER, .kind = "chat", .queue = &q};
    struct presence_facts f = F(.wrap_up_s = 0);
    struct agent_rec next;
    const char *why;
    a = counts(rec(AGENT_CALLCENTER, STATE_BUSY, 0, 1, 1), 0, 1, 1);
    snprintf(a.team, sizeof a.team, "t1");
    assert_int_equal(presence_decide(&a, &in, &f, &next, &why), CC_ERR_CONFLICT);
    a.offers = 0;
    assert_int_equal(presence_decide(&a, &in, &f, &next, &why), CC_OK);
}

static void names_round_trip(void **state)
{
    (void)state;
    for (int s = AGENT_OFFLINE; s <= AGENT_CALLCENTER; s++)
        assert_int_equal(agent_status_parse(agent_status_name(s)), s);
    for (int s = STATE_NONE; s <= STATE_PAUSE; s++)
        assert_int_equal(agent_state_parse(agent_state_name(s)), s);
    for (int s = PENDING_NONE; s <= PENDING_PAUSE; s++)
        assert_int_equal(agent_pending_parse(agent_pending_name(s)), s);
    assert_int_equal(agent_state_parse("sleeping"), -1);
}

/* Writes `r` as agent `id`'s stored record (every field, its version). */
static void store(struct cc_redis *redis, const char *id, const struct agent_rec *r)
{
    char buf[AGENT_REC_NFIELDS][24], key[128], ver[24];
    const char *argv[2 + 2 * AGENT_REC_NFIELDS + 2];
    redisReply *rep;
    struct cc_redis_conn *c;
    snprintf(key, sizeof key, KEY_AGENT, cc_tag(), id);
    snprintf(ver, sizeof ver, "%lld", (long long)r->version);
    argv[0] = "HSET", argv[1] = key;
    agent_rec_fields(r, buf, argv + 2);
    argv[2 + 2 * AGENT_REC_NFIELDS] = "version", argv[3 + 2 * AGENT_REC_NFIELDS] = ver;
    assert_int_equal(cc_redis_run(redis, &rep, "DEL %s", key), CC_OK);
    freeReplyObject(rep);
    assert_int_equal(cc_redis_acquire(redis, &c), CC_OK);
    assert_int_equal(cc_redis_cmdv(c, &rep, 4 + 2 * AGENT_REC_NFIELDS, argv, NULL), CC_OK);
    freeReplyObject(rep);
    cc_redis_release(redis, c);
}

static void the_script_writes_what_c_decided(void **state)
{
    const char *url = cc_env_str("CC_TEST_REDIS_URL", NULL);
    struct cc_redis *redis;
    size_t n, applied_rows = 0;
    struct row *rows = table(&n);
    (void)state;
    if (!url)
        skip(); /* tests/system/test_presence_table.py runs this part with a Redis */
    assert_int_equal(cc_redis_new(&redis, url, 2), CC_OK);
    for (size_t i = 0; i < n; i++) {
        struct agent_rec next, got, back, stale;
        const char *why;
        char id[32];
        int applied = 0;
        snprintf(id, sizeof id, "row%zu", i);
        if (presence_decide(&rows[i].cur, &rows[i].in, &rows[i].f, &next, &why) != CC_OK ||
            !presence_changed(&rows[i].cur, &next))
            continue;
        store(redis, id, &rows[i].cur);
        /* a decision on an older version is refused and changes nothing */
        stale = rows[i].cur;
        stale.version--;
        assert_int_equal(agent_apply(redis, id, &stale, &next, "", "", &applied, &got), CC_OK);
        assert_int_equal(applied, 0);
        assert_int_equal(agent_read(redis, id, &back), CC_OK);
        expect_same(rows[i].name, &back, &rows[i].cur);
        /* the decision at the version read is written whole */
        assert_int_equal(agent_apply(redis, id, &rows[i].cur, &next, "", "", &applied, &got),
                         CC_OK);
        assert_int_equal(applied, 1);
        expect_same(rows[i].name, &got, &next); /* the record the script returned */
        assert_int_equal(got.version, rows[i].cur.version + 1);
        assert_int_equal(agent_read(redis, id, &back), CC_OK);
        expect_same(rows[i].name, &back, &next); /* and what a reader sees */
        assert_int_equal(back.version, rows[i].cur.version + 1);
        applied_rows++;
    }
    print_message("%zu rows applied through the script, as decided\n", applied_rows);
    assert_true(applied_rows >= 28);
    cc_redis_free(redis);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_row_decides_as_the_table_says),
        cmocka_unit_test(can_take_is_one_rule),
        cmocka_unit_test(names_round_trip),
        cmocka_unit_test(the_script_writes_what_c_decided),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
