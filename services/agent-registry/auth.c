/* auth.c - sign-in, sessions, passwords and the first admin.
 *
 * Passwords are argon2id hashes (libsodium crypto_pwhash_str) in the hash
 * KEY_PW, never in the user record. A session is a random 256-bit token;
 * only the BLAKE2b hash of it is stored, as KEY_SESS <hex> = {user_id, role,
 * idle}, expiring after the user's idle timeout and renewed on each use by
 * api-gateway. Failed sign-ins slow down the (login, client address) they
 * come from, never the account as a whole (see "failed sign-ins" below). */
#include "pbmerge.h"
#include "presence.h"
#include "registry.h"
#include "cc_log.h"
#include "cc_time.h"
#include "cc_keys.h"
#include "cc_subjects.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char revoke_user_lua[];
static struct cc_redis_script revoke_script = CC_REDIS_SCRIPT("revoke_user", revoke_user_lua);

enum cc_status auth_hash_password(struct registry *reg, const char *password, char *out,
                                  size_t cap)
{
    if (cap < crypto_pwhash_STRBYTES)
        return CC_ERR_INTERNAL;
    if (crypto_pwhash_str(out, password, strlen(password), reg->pw_ops, reg->pw_mem) != 0)
        return CC_ERR_NOMEM;
    return CC_OK;
}

enum cc_status auth_store_password(struct registry *reg, const char *user_id, const char *hash)
{
    redisReply *rep;
    enum cc_status st =
        cc_redis_run(reg->redis, &rep, "HSET " KEY_PW " %s %s", cc_tag(), user_id, hash);
    if (rep)
        freeReplyObject(rep);
    return st;
}

static void revoke(struct registry *reg, const char *user_id, const char *keep)
{
    struct cc_redis_conn *c;
    redisReply *rep = NULL;
    char key[128], psess[64];
    snprintf(key, sizeof key, KEY_USESS, cc_tag(), user_id);
    cc_key_prefix(psess, sizeof psess, KEY_SESS);
    const char *argv[] = {key, keep ? keep : "", psess};
    if (cc_redis_acquire(reg->redis, &c) != CC_OK) {
        CC_ERROR("cannot revoke the sessions of %s: Redis unavailable", user_id);
        return;
    }
    if (cc_redis_eval(c, &revoke_script, &rep, 1, 3, argv, NULL) != CC_OK)
        CC_ERROR("cannot revoke the sessions of %s", user_id);
    if (rep)
        freeReplyObject(rep);
    cc_redis_release(reg->redis, c);
    presence_session_ended(reg, user_id);
}

void auth_revoke_user(struct registry *reg, const char *user_id)
{
    revoke(reg, user_id, NULL);
}

/* --- failed sign-ins ------------------------------------------------------------ */

/* Failed sign-ins are counted per (login, client address): someone guessing
 * the admin's password from one address slows down only that address, and
 * the account stays usable from every other. The first CC_LOGIN_MAX_FAILS
 * failures cost nothing; each further one makes that pair wait 1 s, 2 s,
 * 4 s ... up to CC_LOGIN_LOCK_S (a "lockout", logged and counted), and an
 * attempt during the wait is refused with its time left, without checking
 * the password and without lengthening the wait. The count is forgotten
 * CC_LOGIN_FORGET_S after the last failure, or at a successful sign-in
 * from that address. */

/* Writes the key of format `fmt` (KEY_LOGINFAIL or KEY_LOGINWAIT) for
 * <login lower-cased>|<client> into key. */
static void throttle_key(const char *fmt, const char *login, const char *client, char *key,
                         size_t cap)
{
    char prefix[64];
    cc_key_prefix(prefix, sizeof prefix, fmt);
    size_t n = (size_t)snprintf(key, cap, "%s", prefix);
    for (; *login && n + 1 < cap; login++)
        key[n++] = (char)tolower((unsigned char)*login);
    snprintf(key + n, cap - n, "|%s", client && *client ? client : "?");
}

/* Milliseconds the pair must still wait, 0 when it may try. */
static long long wait_left_ms(struct registry *reg, const char *wait_key)
{
    redisReply *rep;
    long long left = 0;
    if (cc_redis_run(reg->redis, &rep, "PTTL %s", wait_key) == CC_OK &&
        rep->type == REDIS_REPLY_INTEGER && rep->integer > 0)
        left = rep->integer;
    if (rep)
        freeReplyObject(rep);
    return left;
}

/* Counts a failure of the pair; beyond the free ones, starts its wait.
 * Returns the wait in seconds (0: none). */
static long long count_failure(struct registry *reg, const char *fail_key, const char *wait_key)
{
    redisReply *rep;
    long long fails = 0, delay = 0;
    if (cc_redis_run(reg->redis, &rep, "INCR %s", fail_key) == CC_OK &&
        rep->type == REDIS_REPLY_INTEGER)
        fails = rep->integer;
    if (rep)
        freeReplyObject(rep);
    if (cc_redis_run(reg->redis, &rep, "EXPIRE %s %d", fail_key, reg->login_forget_s) == CC_OK ||
        rep)
        freeReplyObject(rep);
    if (fails < reg->login_max_fails)
        return 0;
    long long step = fails - reg->login_max_fails; /* 0 for the first delayed failure */
    delay = step >= 30 ? reg->login_lock_s : 1LL << step;
    if (delay > reg->login_lock_s)
        delay = reg->login_lock_s;
    if (cc_redis_run(reg->redis, &rep, "SET %s 1 EX %lld", wait_key, delay) == CC_OK || rep)
        freeReplyObject(rep);
    return delay;
}

static void forget_failures(struct registry *reg, const char *fail_key, const char *wait_key)
{
    redisReply *rep;
    if (cc_redis_run(reg->redis, &rep, "DEL %s %s", fail_key, wait_key) == CC_OK || rep)
        freeReplyObject(rep);
}

/* Answers a throttled sign-in: LoginReply {retry_after_s} (api-gateway
 * answers 429 with Retry-After). */
static void reply_throttled(struct registry *reg, const struct cc_nats_msg *m, long long secs)
{
    Cc__V1__LoginReply rep = CC__V1__LOGIN_REPLY__INIT;
    rep.has_retry_after_s = 1, rep.retry_after_s = secs > 0 ? secs : 1;
    cc_nats_respond(reg->nats, m, &rep.base);
}

/* --- sessions ------------------------------------------------------------------- */

/* Creates a session for `u`: the token goes to `token` (base64url, 44 bytes)
 * and the session id (hex of its hash) to `hex` (65 bytes). */
static enum cc_status session_new(struct registry *reg, const Cc__V1__User *u, char *token,
                                  size_t cap, char *hex)
{
    unsigned char raw[32], hash[32];
    char sess[160], usess[128], idle[24];
    struct cc_redis_conn *c;
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(token, cap, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    crypto_generichash(hash, sizeof hash, (const unsigned char *)token, strlen(token), NULL, 0);
    sodium_bin2hex(hex, 65, hash, sizeof hash);
    snprintf(sess, sizeof sess, KEY_SESS, cc_tag(), hex);
    snprintf(usess, sizeof usess, KEY_USESS, cc_tag(), u->id);
    snprintf(idle, sizeof idle, "%lld", (long long)u->idle_timeout_s);
    enum cc_status st = cc_redis_acquire(reg->redis, &c);
    if (st != CC_OK)
        return st;
    const char *multi[] = {"MULTI"}, *exec[] = {"EXEC"};
    const char *hset[] = {"HSET", sess, "user_id", u->id, "role", u->role, "idle", idle};
    const char *sadd[] = {"SADD", usess, hex};
    const char *expire[] = {"EXPIRE", sess, idle};
    int n = 4;
    cc_redis_append(c, 1, multi, NULL);
    cc_redis_append(c, 8, hset, NULL);
    cc_redis_append(c, 3, sadd, NULL);
    if (u->idle_timeout_s > 0)
        n += cc_redis_append(c, 3, expire, NULL) == CC_OK;
    cc_redis_append(c, 1, exec, NULL);
    for (int i = 0; i < n; i++) {
        redisReply *rep;
        enum cc_status r = cc_redis_reply(c, &rep);
        if (rep)
            freeReplyObject(rep);
        if (st == CC_OK)
            st = r;
    }
    cc_redis_release(reg->redis, c);
    return st;
}

/* --- handlers ---------------------------------------------------------------------- */

static enum cc_status check_password(struct registry *reg, const char *user_id, const char *pw)
{
    redisReply *rep;
    enum cc_status st = cc_redis_run(reg->redis, &rep, "HGET " KEY_PW " %s", cc_tag(), user_id);
    if (st == CC_OK)
        st = rep->type == REDIS_REPLY_STRING &&
                     crypto_pwhash_str_verify(rep->str, pw, strlen(pw)) == 0
                 ? CC_OK
                 : CC_ERR_UNAUTHORIZED;
    if (rep)
        freeReplyObject(rep);
    return st;
}

/* Finds the user signing in; CC_ERR_UNAUTHORIZED when the login is unknown,
 * archived or the password wrong. */
static enum cc_status sign_in(struct registry *reg, const Cc__V1__LoginRequest *req,
                              ProtobufCMessage **user)
{
    char id[64];
    enum cc_status st = store_find_unique(reg->redis, &kind_users.store, "login", req->login, id,
                                          sizeof id);
    *user = NULL;
    if (st == CC_ERR_NOT_FOUND) {
        /* spend the same time as a real check so logins cannot be probed */
        char dummy[crypto_pwhash_STRBYTES];
        auth_hash_password(reg, req->password, dummy, sizeof dummy);
        return CC_ERR_UNAUTHORIZED;
    }
    if (st == CC_OK)
        st = check_password(reg, id, req->password);
    if (st == CC_OK)
        st = store_get(reg->redis, &kind_users.store, id, user);
    if (st == CC_OK && ((Cc__V1__User *)*user)->archived)
        st = CC_ERR_UNAUTHORIZED;
    return st;
}

static void reply_login(struct registry *reg, const struct cc_nats_msg *m, Cc__V1__User *u)
{
    Cc__V1__LoginReply rep = CC__V1__LOGIN_REPLY__INIT;
    char token[64], sid[65];
    enum cc_status st = session_new(reg, u, token, sizeof token, sid);
    if (st != CC_OK) {
        cc_nats_respond_error(reg->nats, m, st, NULL);
        return;
    }
    presence_signed_in(reg, u->id, sid, u->idle_timeout_s);
    store_set_str(&u->base, "password", NULL);
    rep.token = token;
    rep.user = u;
    rep.has_idle_timeout_s = 1, rep.idle_timeout_s = u->idle_timeout_s;
    cc_nats_respond(reg->nats, m, &rep.base);
    sodium_memzero(token, sizeof token);
}

static void on_login(struct registry *reg, const struct cc_nats_msg *m)
{
    char fail_key[512], wait_key[512];
    ProtobufCMessage *user = NULL;
    Cc__V1__LoginRequest *req = cc__v1__login_request__unpack(NULL, m->len, m->data);
    if (!req || !req->login || !req->password || !*req->login) {
        cc_nats_respond_error(reg->nats, m, CC_ERR_INVALID, "login and password required");
        goto out;
    }
    const char *client = req->client && *req->client ? req->client : "?";
    throttle_key(KEY_LOGINFAIL, req->login, client, fail_key, sizeof fail_key);
    throttle_key(KEY_LOGINWAIT, req->login, client, wait_key, sizeof wait_key);
    long long left = wait_left_ms(reg, wait_key);
    if (left > 0) {
        cc_metric_add(reg->m_login_throttled, NULL, 1);
        reply_throttled(reg, m, (left + 999) / 1000);
        goto out;
    }
    enum cc_status st = sign_in(reg, req, &user);
    if (st == CC_ERR_UNAUTHORIZED) {
        long long delay = count_failure(reg, fail_key, wait_key);
        if (delay > 0) {
            cc_metric_add(reg->m_login_lockouts, NULL, 1);
            CC_WARN("sign-in throttled: repeated failures for a login from %s; that address "
                    "waits %lld s",
                    client, delay);
        } else {
            CC_INFO("sign-in refused for a login from %s", client);
        }
        cc_nats_respond_error(reg->nats, m, st, "wrong login or password");
    } else if (st != CC_OK) {
        cc_nats_respond_error(reg->nats, m, st, NULL);
    } else {
        forget_failures(reg, fail_key, wait_key);
        reply_login(reg, m, (Cc__V1__User *)user);
    }
out:
    if (user)
        protobuf_c_message_free_unpacked(user, NULL);
    if (req) {
        if (req->password)
            sodium_memzero(req->password, strlen(req->password));
        cc__v1__login_request__free_unpacked(req, NULL);
    }
}

static void on_logout(struct registry *reg, const struct cc_nats_msg *m)
{
    Cc__V1__ObjectRequest *req = cc__v1__object_request__unpack(NULL, m->len, m->data);
    redisReply *rep;
    if (!req || !req->caller || !req->caller->session_id || !req->caller->user_id) {
        cc_nats_respond_error(reg->nats, m, CC_ERR_UNAUTHORIZED, NULL);
    } else {
        const Cc__V1__Caller *c = req->caller;
        enum cc_status st =
            cc_redis_run(reg->redis, &rep, "DEL " KEY_SESS, cc_tag(), c->session_id);
        if (rep)
            freeReplyObject(rep);
        if (st == CC_OK && (st = cc_redis_run(reg->redis, &rep, "SREM " KEY_USESS " %s", cc_tag(),
                                              c->user_id, c->session_id)) == CC_OK)
            freeReplyObject(rep);
        if (st == CC_OK)
            presence_session_ended(reg, c->user_id);
        if (st == CC_OK)
            cc_nats_respond(reg->nats, m, NULL);
        else
            cc_nats_respond_error(reg->nats, m, st, NULL);
    }
    if (req)
        cc__v1__object_request__free_unpacked(req, NULL);
}

static enum cc_status change_password(struct registry *reg, const Cc__V1__PasswordChange *req,
                                      char *why, size_t whycap)
{
    char hash[crypto_pwhash_STRBYTES];
    if (!req->caller || !req->caller->user_id)
        return CC_ERR_UNAUTHORIZED;
    if (!req->old_password || !req->new_password) {
        snprintf(why, whycap, "old_password and new_password required");
        return CC_ERR_INVALID;
    }
    size_t n = strlen(req->new_password);
    if (n < 8 || n > 256) {
        snprintf(why, whycap, "new_password: 8 to 256 characters");
        return CC_ERR_INVALID;
    }
    enum cc_status st = check_password(reg, req->caller->user_id, req->old_password);
    if (st == CC_ERR_UNAUTHORIZED) {
        snprintf(why, whycap, "old_password is wrong");
        return CC_ERR_FORBIDDEN;
    }
    if (st == CC_OK)
        st = auth_hash_password(reg, req->new_password, hash, sizeof hash);
    if (st == CC_OK)
        st = auth_store_password(reg, req->caller->user_id, hash);
    if (st == CC_OK) /* other sessions end; the one asking stays */
        revoke(reg, req->caller->user_id, req->caller->session_id);
    return st;
}

static void on_password(struct registry *reg, const struct cc_nats_msg *m)
{
    char why[128] = "";
    Cc__V1__PasswordChange *req = cc__v1__password_change__unpack(NULL, m->len, m->data);
    enum cc_status st = req ? change_password(reg, req, why, sizeof why) : CC_ERR_INVALID;
    if (st == CC_OK)
        cc_nats_respond(reg->nats, m, NULL);
    else
        cc_nats_respond_error(reg->nats, m, st, why[0] ? why : NULL);
    if (req) {
        if (req->old_password)
            sodium_memzero(req->old_password, strlen(req->old_password));
        if (req->new_password)
            sodium_memzero(req->new_password, strlen(req->new_password));
        cc__v1__password_change__free_unpacked(req, NULL);
    }
}

/* cc.registry.auth.login / logout / password */
static void on_auth(void *arg, const struct cc_nats_msg *m)
{
    struct registry *reg = arg;
    const char *verb = m->subject + strlen(SUBJ_AUTH_PREFIX);
    if (strcmp(verb, "login") == 0)
        on_login(reg, m);
    else if (strcmp(verb, "logout") == 0)
        on_logout(reg, m);
    else if (strcmp(verb, "password") == 0)
        on_password(reg, m);
    else
        cc_nats_respond_error(reg->nats, m, CC_ERR_NOT_FOUND, "no such verb");
}

enum cc_status auth_start(struct registry *reg)
{
    enum cc_status st = CC_OK;
    reg->m_login_lockouts = cc_metrics_counter(
        reg->svc->metrics, "cc_registry_login_lockouts_total",
        "sign-in delays imposed on a (login, client address) after repeated failures");
    reg->m_login_throttled = cc_metrics_counter(
        reg->svc->metrics, "cc_registry_login_throttled_total",
        "sign-ins refused (429) because their (login, client address) must still wait");
    cc_metric_add(reg->m_login_lockouts, NULL, 0); /* listed in /metrics from the start */
    cc_metric_add(reg->m_login_throttled, NULL, 0);
    for (int i = 0; i < reg->workers && st == CC_OK; i++)
        st = cc_nats_subscribe(reg->nats, SUBJ_AUTH_ALL, "registry", on_auth, reg);
    return st;
}

/* --- first start -------------------------------------------------------------------- */

static enum cc_status ensure_no_answer_cause(struct registry *reg)
{
    Cc__V1__PauseCause pc = CC__V1__PAUSE_CAUSE__INIT;
    char now[32];
    enum cc_status found = store_exists(reg->redis, &kind_pause_causes.store, "pc_no_answer");
    if (found != CC_ERR_NOT_FOUND)
        return found;
    pc.id = CC_PB_STR("pc_no_answer");
    pc.name = CC_PB_STR("no answer");
    pc.has_system = pc.system = 1;
    pc.has_limit_minutes_per_day = 1;
    pc.has_allow_agent = 1, pc.allow_agent = 0;
    pc.has_allow_supervisor = 1, pc.allow_supervisor = 1;
    cc_time_format_ms(cc_time_now_ms(), now, sizeof now);
    pc.created_at = pc.updated_at = now;
    return store_put(reg->redis, &kind_pause_causes.store, &pc.base, NULL);
}

static enum cc_status create_first_admin(struct registry *reg)
{
    Cc__V1__User u = CC__V1__USER__INIT;
    Cc__V1__AgentSettings agent = CC__V1__AGENT_SETTINGS__INIT;
    char id[64], now[32], hash[crypto_pwhash_STRBYTES];
    const char *login = cc_env_str("CC_BOOTSTRAP_ADMIN_LOGIN", "admin");
    const char *password = cc_env_str("CC_BOOTSTRAP_ADMIN_PASSWORD", NULL);
    if (!password || strlen(password) < 8) {
        CC_WARN("no users yet and CC_BOOTSTRAP_ADMIN_PASSWORD unset or shorter than 8: "
                "no first admin created");
        return CC_OK;
    }
    store_new_id(&kind_users.store, id, sizeof id);
    u.id = id, u.login = CC_PB_STR(login), u.role = CC_PB_STR("admin");
    u.first_name = CC_PB_STR("Administrator");
    u.phone_type = CC_PB_STR("none"), u.listen_mode = CC_PB_STR("none");
    u.has_idle_timeout_s = u.has_archived = 1;
    cc_time_format_ms(cc_time_now_ms(), now, sizeof now);
    u.created_at = u.updated_at = now;
    agent.has_enabled = 1;
    u.agent = &agent;
    enum cc_status st = auth_hash_password(reg, password, hash, sizeof hash);
    if (st == CC_OK)
        st = auth_store_password(reg, id, hash);
    if (st == CC_OK)
        st = store_put(reg->redis, &kind_users.store, &u.base, NULL);
    if (st == CC_OK)
        CC_INFO("created the first admin, login %s", login);
    return st;
}

enum cc_status auth_bootstrap(struct registry *reg)
{
    struct store_lock lk;
    redisReply *rep;
    enum cc_status st = store_lock(reg->redis, &lk);
    if (st != CC_OK)
        return st;
    st = ensure_no_answer_cause(reg);
    if (st == CC_OK &&
        (st = cc_redis_run(reg->redis, &rep, "HLEN " KEY_OBJ, cc_tag(), "users")) == CC_OK &&
        rep->integer == 0)
        st = create_first_admin(reg);
    if (rep)
        freeReplyObject(rep);
    store_unlock(reg->redis, &lk);
    return st;
}
