/* users.c - the users kind: roles and what managers may do, user fields,
 * passwords (hashed on the way in, never stored with the user) and the
 * archive / unarchive / delete rules of SPEC section 3. */
#include "pbmerge.h"
#include "presence.h"
#include "registry.h"
#include "routing_index.h"
#include "validate.h"

#include <sodium.h>

#include <ctype.h>
#include <string.h>

static const char *const roles[] = {"admin", "manager", "supervisor", "agent", "user", NULL};

static int managed_role(const char *role)
{
    return role && (strcmp(role, "agent") == 0 || strcmp(role, "user") == 0);
}

static int is_self(const struct op *op, const ProtobufCMessage *obj)
{
    const char *id = obj ? store_field_str(obj, "id") : NULL;
    return id && op->caller->user_id && strcmp(id, op->caller->user_id) == 0;
}

static enum cc_status user_authorize(struct op *op, const ProtobufCMessage *obj)
{
    const Cc__V1__User *u = (const Cc__V1__User *)obj;
    if (caller_is(op, "admin"))
        return CC_OK;
    if (op->verb == VERB_GET && is_self(op, obj))
        return CC_OK; /* GET /me */
    if (!caller_is(op, "manager") || op->verb == VERB_DELETE ||
        (op->verb == VERB_LIST && op->include_archived))
        return op_fail(op, CC_ERR_FORBIDDEN, "not allowed for your role");
    if (u && u->role && !managed_role(u->role))
        return op_fail(op, CC_ERR_FORBIDDEN, "managers manage agents and users only");
    return CC_OK;
}

static int user_visible(struct op *op, const ProtobufCMessage *obj)
{
    const Cc__V1__User *u = (const Cc__V1__User *)obj;
    if (op->verb == VERB_GET && is_self(op, obj))
        return 1; /* GET /me: everyone sees themselves */
    if (caller_is(op, "manager"))
        return managed_role(u->role) && !u->archived;
    if (op->verb == VERB_LIST)
        return op->include_archived || !u->archived;
    return 1;
}

static enum cc_status check_login(struct op *op, const char *login)
{
    enum cc_status st = check_text(op, "login", login, 1, 64);
    for (const char *p = login; st == CC_OK && *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("._@-", *p))
            return op_fail(op, CC_ERR_INVALID, "login: letters, digits and . _ @ - only");
    return st;
}

static enum cc_status check_agent_number(struct op *op, const char *n)
{
    enum cc_status st = check_text(op, "agent_number", n, 0, 32);
    for (const char *p = n; st == CC_OK && p && *p; p++)
        if (!isalnum((unsigned char)*p))
            return op_fail(op, CC_ERR_INVALID, "agent_number: letters and digits only");
    return st;
}

static enum cc_status check_supervisor(struct op *op, const Cc__V1__User *u)
{
    ProtobufCMessage *s;
    if (!u->supervisor_id)
        return CC_OK;
    if (strcmp(u->supervisor_id, u->id) == 0)
        return op_fail(op, CC_ERR_INVALID, "supervisor_id: a user cannot supervise themselves");
    enum cc_status st = store_get(op->reg->redis, &kind_users.store, u->supervisor_id, &s);
    if (st == CC_ERR_NOT_FOUND)
        return op_fail(op, CC_ERR_INVALID, "supervisor_id: no such user");
    if (st != CC_OK)
        return st;
    const char *role = ((Cc__V1__User *)s)->role;
    if (strcmp(role, "supervisor") != 0 && strcmp(role, "manager") != 0 &&
        strcmp(role, "admin") != 0)
        st = op_fail(op, CC_ERR_INVALID, "supervisor_id: that user is not a supervisor");
    protobuf_c_message_free_unpacked(s, NULL);
    return st;
}

static enum cc_status check_forward(struct op *op, const Cc__V1__User *u)
{
    const char *to = u->callbacks_forward_to;
    if (!to)
        return CC_OK;
    if (strcmp(to, u->id) == 0)
        return op_fail(op, CC_ERR_INVALID, "callbacks_forward_to: not to oneself");
    enum cc_status st = check_ref(op, "callbacks_forward_to", &kind_users, to);
    if (st == CC_OK && !agents_share_queue(op->reg, u, to))
        st = op_fail(op, CC_ERR_INVALID,
                     "callbacks_forward_to: the agent shares no queue with this user");
    return st;
}

/* Hashes a new password into the password store; clears it from the user. */
static enum cc_status take_password(struct op *op, Cc__V1__User *u, int required)
{
    char hash[crypto_pwhash_STRBYTES];
    enum cc_status st = check_length(op, "password", u->password, required ? 8 : 0, 256);
    if (st != CC_OK || !u->password)
        return st;
    if (strlen(u->password) < 8)
        return op_fail(op, CC_ERR_INVALID, "password: at least 8 characters");
    st = auth_hash_password(op->reg, u->password, hash, sizeof hash);
    if (st == CC_OK)
        st = auth_store_password(op->reg, u->id, hash);
    sodium_memzero(u->password, strlen(u->password));
    store_set_str(&u->base, "password", NULL);
    if (st == CC_OK)
        auth_revoke_user(op->reg, u->id); /* a new password signs every session out */
    return st;
}

static enum cc_status user_defaults(Cc__V1__User *u)
{
    static Cc__V1__Rights rights = CC__V1__RIGHTS__INIT;
    DEFAULT_INT(u, idle_timeout_s, 0);
    DEFAULT_BOOL(u, archived, 0);
    if (!u->phone_type)
        store_set_str(&u->base, "phone_type", "none");
    if (!u->listen_mode)
        store_set_str(&u->base, "listen_mode", "none");
    if (!u->rights && !(u->rights = (Cc__V1__Rights *)pb_copy(&rights.base)))
        return CC_ERR_NOMEM;
    DEFAULT_BOOL(u->rights, contact_history, 0);
    DEFAULT_BOOL(u->rights, contact_notes, 0);
    DEFAULT_BOOL(u->rights, print, 0);
    DEFAULT_BOOL(u->rights, save, 0);
    DEFAULT_BOOL(u->rights, context_menu, 0);
    DEFAULT_BOOL(u->rights, screenshot, 0);
    return CC_OK;
}

static enum cc_status check_fields(struct op *op, Cc__V1__User *u)
{
    static const char *const phone_types[] = {"none", "desk_phone", "browser_softphone",
                                              "external_softphone", NULL};
    static const char *const listen_modes[] = {"none", "external_app", "desk_phone", "tel_uri",
                                               NULL};
    enum cc_status st;
    if ((st = check_login(op, u->login)) || (st = check_one_of(op, "role", u->role, 1, roles)) ||
        (st = check_text(op, "first_name", u->first_name, 0, 100)) ||
        (st = check_text(op, "last_name", u->last_name, 0, 100)) ||
        (st = check_text(op, "email", u->email, 0, 254)) ||
        (st = check_text(op, "phone", u->phone, 0, 32)) ||
        (st = check_text(op, "description", u->description, 0, 1000)) ||
        (st = check_text(op, "position", u->position, 0, 100)) ||
        (st = check_text(op, "sip_account", u->sip_account, 0, 256)) ||
        (st = check_text(op, "clip_number", u->clip_number, 0, 32)) ||
        (st = check_agent_number(op, u->agent_number)) ||
        (st = check_int(op, "idle_timeout_s", 1, u->idle_timeout_s, 0, 7 * 86400)) ||
        (st = check_one_of(op, "phone_type", u->phone_type, 1, phone_types)) ||
        (st = check_one_of(op, "listen_mode", u->listen_mode, 1, listen_modes)))
        return st;
    if (u->email && !strchr(u->email, '@'))
        return op_fail(op, CC_ERR_INVALID, "email: not an e-mail address");
    if (strcmp(u->role, "admin") != 0 && strcmp(u->listen_mode, "none") != 0)
        return op_fail(op, CC_ERR_INVALID, "listen_mode: for administrators only");
    return CC_OK;
}

static enum cc_status user_prepare(struct op *op, ProtobufCMessage *obj,
                                   const ProtobufCMessage *old)
{
    Cc__V1__User *u = (Cc__V1__User *)obj;
    const Cc__V1__User *o = (const Cc__V1__User *)old;
    enum cc_status st = user_defaults(u);
    if (st != CC_OK)
        return st;
    if (!u->agent) {
        static Cc__V1__AgentSettings none = CC__V1__AGENT_SETTINGS__INIT;
        u->agent = (Cc__V1__AgentSettings *)pb_copy(&none.base);
        if (!u->agent)
            return CC_ERR_NOMEM;
        u->agent->has_enabled = 1;
        u->agent->enabled = strcmp(u->role ? u->role : "", "agent") == 0;
    }
    if ((st = check_fields(op, u)) || (st = check_supervisor(op, u)) ||
        (st = check_ref(op, "agent.team_id", &kind_teams, u->agent->team_id)) ||
        (st = check_forward(op, u)))
        return st;
    if (old && strcmp(o->role, u->role) != 0)
        auth_revoke_user(op->reg, u->id); /* sessions carry the role */
    return take_password(op, u, old == NULL);
}

struct user_ref {
    const char *id;
    int found;
};

static int names_user(void *arg, const ProtobufCMessage *obj)
{
    struct user_ref *r = arg;
    const Cc__V1__User *u = (const Cc__V1__User *)obj;
    return r->found = (u->supervisor_id && strcmp(u->supervisor_id, r->id) == 0) ||
                      (u->callbacks_forward_to && strcmp(u->callbacks_forward_to, r->id) == 0);
}

static int team_names_user(void *arg, const ProtobufCMessage *obj)
{
    struct user_ref *r = arg;
    const Cc__V1__Team *t = (const Cc__V1__Team *)obj;
    return r->found = (t->admin_id && strcmp(t->admin_id, r->id) == 0) ||
                      ids_contain(t->supervisor_ids, t->n_supervisor_ids, r->id);
}

static int queue_names_user(void *arg, const ProtobufCMessage *obj)
{
    struct user_ref *r = arg;
    const Cc__V1__Queue *q = (const Cc__V1__Queue *)obj;
    return r->found = ids_contain(q->supervisor_ids, q->n_supervisor_ids, r->id);
}

static enum cc_status user_before_delete(struct op *op, const ProtobufCMessage *obj)
{
    struct user_ref r = {store_field_str(obj, "id"), 0};
    enum cc_status st = CC_OK;
    if (is_self(op, obj))
        return op_fail(op, CC_ERR_CONFLICT, "you cannot delete yourself");
    store_each(op->reg->redis, &kind_users.store, names_user, &r, &st);
    if (st == CC_OK && !r.found)
        store_each(op->reg->redis, &kind_teams.store, team_names_user, &r, &st);
    if (st == CC_OK && !r.found)
        store_each(op->reg->redis, &kind_queues.store, queue_names_user, &r, &st);
    if (st == CC_OK && r.found)
        return op_fail(op, CC_ERR_CONFLICT,
                       "still named as supervisor, forward target, team or queue supervisor");
    if (st == CC_OK)
        st = agent_skills_drop_user(op->reg, r.id);
    if (st == CC_OK) {
        auth_revoke_user(op->reg, r.id);
        presence_forget(op->reg, r.id);
    }
    return st;
}

static void user_redact(const struct op *op, ProtobufCMessage *obj)
{
    (void)op;
    store_set_str(obj, "password", NULL);
}

enum cc_status users_set_archived(struct op *op, const char *id, int archived,
                                  ProtobufCMessage **out)
{
    struct store_lock lk;
    ProtobufCMessage *old = NULL;
    enum cc_status st = store_lock(op->reg->redis, &lk);
    if (st != CC_OK)
        return st;
    st = store_get(op->reg->redis, &kind_users.store, id ? id : "", &old);
    if (st == CC_OK && !user_visible(op, old))
        st = CC_ERR_NOT_FOUND;
    if (st == CC_ERR_NOT_FOUND)
        op_fail(op, st, "no such user");
    if (st == CC_OK && (st = user_authorize(op, old)) == CC_OK && is_self(op, old) && archived)
        st = op_fail(op, CC_ERR_CONFLICT, "you cannot archive yourself");
    if (st == CC_OK && !(*out = pb_copy(old)))
        st = CC_ERR_NOMEM;
    if (st == CC_OK) {
        Cc__V1__User *u = (Cc__V1__User *)*out;
        u->has_archived = 1, u->archived = archived;
        if ((st = store_put(op->reg->redis, &kind_users.store, *out, old)) == CC_OK)
            routing_index_user(op->reg, u); /* archived users leave routing */
    }
    store_unlock(op->reg->redis, &lk);
    if (st == CC_OK && archived)
        auth_revoke_user(op->reg, id); /* an archived user cannot sign in */
    if (old)
        protobuf_c_message_free_unpacked(old, NULL);
    return st;
}

const struct kind kind_users = {
    {"users", "usr", &cc__v1__user__descriptor, {"login", "agent_number"}, "user"},
    user_authorize, user_visible, user_prepare, user_before_delete, user_redact,
};
