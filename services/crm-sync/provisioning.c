/* provisioning.c - agents and skills from the CRM into agent-registry.
 *
 * The CRM tells us an agent record changed (POST /crm/v1/provisioning from
 * a Creatio business process, or the generic JSON shape of docs/crm.md);
 * polling on ModifiedOn and a full reconcile at start catch what it did not
 * tell. For one CRM user record we read what it wants (agent ticked, team,
 * skills with capacity and active), check all of it first (the team and
 * every skill known here, capacities 1..100) and only then apply it: user
 * created if missing and linked by the CRM id ({cc}:crm:link:user:<crm id>,
 * and the CRM's UsrExternalUserId), agent enabled in the team or disabled
 * (kept), skills mirrored. A refusal is reported with its reason (metric,
 * log, sync status) and nothing is applied. */
#include "provisioning.h"
#include "cc_log.h"
#include "cc_time.h"
#include "odata.h"
#include "registry.h"
#include "cc_keys.h"
#include "cc_subjects.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SKILLS 64
#define LOCK_MS 30000

/* What the CRM wants for one user. */
struct wanted {
    char crm_id[128]; /* the CRM's record id (or the generic shape's external_id) */
    char name[128];
    char email[128];
    char user_id[128]; /* ours, when the CRM knows it */
    int gone;          /* the record was deleted in the CRM */
    int is_agent;
    char team[128]; /* our team id */
    int n;
    struct {
        char skill[128]; /* our skill id */
        int64_t capacity;
        int active;
    } skills[MAX_SKILLS];
};

static void fail(char *why, size_t cap, const char *fmt, const char *a)
{
    snprintf(why, cap, fmt, a);
}

/* The external id of lookup `object`(`id`) into out (our team or skill id). */
static enum cc_status external_of(struct crm_conf *conf, enum crm_name object, enum crm_name field,
                                  const char *id, char *out, size_t outcap, char *why, size_t cap)
{
    char path[256];
    cJSON *row = NULL;
    struct creatio_answer a = {0};
    snprintf(path, sizeof path, "%s(%s)?$select=%s", CRM_NAME(conf, object), id,
             CRM_NAME(conf, field));
    enum cc_status st = creatio_get(conf->creatio, path, &row, &a);
    const char *x = st == CC_OK ? odata_str(row, CRM_NAME(conf, field), outcap - 1) : NULL;
    if (x && x[0])
        snprintf(out, outcap, "%s", x);
    else if (st == CC_OK || st == CC_ERR_NOT_FOUND)
        st = CC_ERR_INVALID, fail(why, cap, "%s has no external id", CRM_NAME(conf, object));
    else
        snprintf(why, cap, "%s: %s", CRM_NAME(conf, object), a.error);
    cJSON_Delete(row);
    creatio_answer_release(&a);
    return st;
}

/* The agent skills of CRM user `w->crm_id`, remembered by their CRM id. */
static enum cc_status read_skills(struct crm *c, struct crm_conf *conf, struct wanted *w, char *why,
                                  size_t cap)
{
    char path[512];
    cJSON *rows = NULL, *row;
    struct creatio_answer a = {0};
    snprintf(path, sizeof path, "%s?$filter=%s%%20eq%%20%s&$select=Id,%s,%s,%s",
             CRM_NAME(conf, N_ASKILL_OBJECT), CRM_NAME(conf, N_ASKILL_USER), w->crm_id,
             CRM_NAME(conf, N_ASKILL_SKILL), CRM_NAME(conf, N_ASKILL_CAPACITY),
             CRM_NAME(conf, N_ASKILL_ACTIVE));
    enum cc_status st = creatio_list(conf->creatio, path, 0, MAX_SKILLS + 1, &rows, &a);
    if (st != CC_OK)
        snprintf(why, cap, "agent skills: %s", a.error);
    cJSON_ArrayForEach(row, rows)
    {
        const char *id = odata_guid(row, "Id"),
                   *skill = odata_guid(row, CRM_NAME(conf, N_ASKILL_SKILL));
        const cJSON *capn =
            cJSON_GetObjectItemCaseSensitive(row, CRM_NAME(conf, N_ASKILL_CAPACITY));
        const cJSON *act = cJSON_GetObjectItemCaseSensitive(row, CRM_NAME(conf, N_ASKILL_ACTIVE));
        if (st != CC_OK)
            break;
        if (!id || !skill || w->n == MAX_SKILLS) {
            st = CC_ERR_INVALID,
            fail(why, cap, "agent skill %s: no skill or too many", id ? id : "?");
            break;
        }
        if (id &&
            cc_redis_do(c->redis, "SET " KEY_CRM_ASKILL " %s", cc_tag(), id, w->crm_id) != CC_OK)
            CC_DEBUG("crm: agent skill %s not remembered", id);
        w->skills[w->n].capacity = cJSON_IsNumber(capn) ? (int64_t)capn->valuedouble : 0;
        w->skills[w->n].active = !act || cJSON_IsTrue(act);
        st = external_of(conf, N_SKILL_OBJECT, N_SKILL_EXTERNAL, skill, w->skills[w->n].skill,
                         sizeof w->skills[0].skill, why, cap);
        w->n++;
    }
    cJSON_Delete(rows);
    creatio_answer_release(&a);
    return st;
}

/* What Creatio's user record `crm_id` wants. */
static enum cc_status read_creatio(struct crm *c, struct crm_conf *conf, const char *crm_id,
                                   struct wanted *w, char *why, size_t cap)
{
    char path[512];
    cJSON *row = NULL;
    struct creatio_answer a = {0};
    snprintf(w->crm_id, sizeof w->crm_id, "%s", crm_id);
    snprintf(path, sizeof path, "%s(%s)?$select=Id,%s,%s,%s,%s", CRM_NAME(conf, N_USER_OBJECT),
             crm_id, CRM_NAME(conf, N_USER_NAME), CRM_NAME(conf, N_USER_IS_AGENT),
             CRM_NAME(conf, N_USER_TEAM), CRM_NAME(conf, N_USER_EXTERNAL));
    enum cc_status st = creatio_get(conf->creatio, path, &row, &a);
    if (st == CC_ERR_NOT_FOUND) {
        w->gone = 1, st = CC_OK;
    } else if (st != CC_OK) {
        snprintf(why, cap, "%s: %s", CRM_NAME(conf, N_USER_OBJECT), a.error);
    } else {
        const char *name = odata_str(row, CRM_NAME(conf, N_USER_NAME), 120);
        const char *ext = odata_str(row, CRM_NAME(conf, N_USER_EXTERNAL), 120);
        const char *team = odata_guid(row, CRM_NAME(conf, N_USER_TEAM));
        snprintf(w->name, sizeof w->name, "%s", name ? name : "");
        snprintf(w->user_id, sizeof w->user_id, "%s", ext ? ext : "");
        w->is_agent =
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, CRM_NAME(conf, N_USER_IS_AGENT)));
        if (team)
            st = external_of(conf, N_TEAM_OBJECT, N_TEAM_EXTERNAL, team, w->team, sizeof w->team,
                             why, cap);
        if (st == CC_ERR_INVALID && w->is_agent)
            snprintf(why, cap, "unknown team: %s has no external id", team);
        else if (st == CC_ERR_INVALID)
            st = CC_OK, w->team[0] = 0;
        if (st == CC_OK)
            st = read_skills(c, conf, w, why, cap);
    }
    cJSON_Delete(row);
    creatio_answer_release(&a);
    return st;
}

/* Everything wanted is possible here: nothing is applied otherwise. */
static enum cc_status check(struct crm *c, const struct wanted *w, char *why, size_t cap)
{
    char rwhy[128];
    if (w->gone)
        return CC_OK;
    if (w->is_agent && !w->team[0])
        return fail(why, cap, "agent %s has no team", w->crm_id), CC_ERR_INVALID;
    if (w->team[0] && reg_exists(c, "teams", w->team, rwhy, sizeof rwhy) != CC_OK)
        return fail(why, cap, "unknown team %s", w->team), CC_ERR_INVALID;
    for (int i = 0; i < w->n; i++) {
        if (w->skills[i].capacity < 1 || w->skills[i].capacity > 100)
            return fail(why, cap, "skill %s: capacity out of range 1..100", w->skills[i].skill),
                   CC_ERR_INVALID;
        if (reg_exists(c, "skills", w->skills[i].skill, rwhy, sizeof rwhy) != CC_OK)
            return fail(why, cap, "unknown skill %s", w->skills[i].skill), CC_ERR_INVALID;
    }
    return CC_OK;
}

/* Our user linked to the CRM record into w->user_id ("" when none). */
static void find_user(struct crm *c, struct wanted *w)
{
    redisReply *r = NULL;
    char why[128];
    if (cc_redis_run(c->redis, &r, "GET " KEY_CRM_LINK_USER, cc_tag(), w->crm_id) == CC_OK &&
        r->type == REDIS_REPLY_STRING)
        snprintf(w->user_id, sizeof w->user_id, "%s", r->str);
    if (r)
        freeReplyObject(r);
    if (w->user_id[0] && reg_exists(c, "users", w->user_id, why, sizeof why) != CC_OK)
        w->user_id[0] = 0;
}

/* Creates our user for the CRM record and links it. */
static enum cc_status create_user(struct crm *c, struct wanted *w, char *why, size_t cap)
{
    Cc__V1__User u = CC__V1__USER__INIT;
    Cc__V1__AgentSettings ag = CC__V1__AGENT_SETTINGS__INIT;
    Cc__V1__ObjectReply *rep = NULL;
    unsigned char raw[18];
    char login[64], password[40];
    size_t j = 0;
    snprintf(login, sizeof login, "crm-");
    for (const char *p = w->crm_id; *p && j < 16; p++)
        if (*p != '-')
            login[4 + j++] = *p;
    login[4 + j] = 0;
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(password, sizeof password, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE);
    u.login = login, u.password = password, u.role = CC_PB_STR("agent");
    u.first_name = w->name[0] ? w->name : login, u.agent = &ag;
    ag.has_enabled = 1, ag.enabled = 0;
    enum cc_status st =
        reg_call(c, SUBJ_REGISTRY_USERS_CREATE, NULL, NULL, &u.base, NULL, 0, &rep, why, cap);
    Cc__V1__User *made = st == CC_OK && rep->has_body
                             ? cc__v1__user__unpack(NULL, rep->body.len, rep->body.data)
                             : NULL;
    if (made && made->id) {
        snprintf(w->user_id, sizeof w->user_id, "%s", made->id);
        if (cc_redis_do(c->redis, "SET " KEY_CRM_LINK_USER " %s", cc_tag(), w->crm_id, made->id) !=
            CC_OK)
            CC_WARN("crm: link of %s not stored", w->crm_id);
        CC_INFO("crm: user %s created for CRM record %s", made->id, w->crm_id);
    } else if (st == CC_OK) {
        st = CC_ERR_INTERNAL, snprintf(why, cap, "agent-registry answered no user");
    }
    if (made)
        cc__v1__user__free_unpacked(made, NULL);
    if (rep)
        cc__v1__object_reply__free_unpacked(rep, NULL);
    return st;
}

/* Tells the CRM our user id (UsrExternalUserId), best effort. */
static void link_back(struct crm_conf *conf, const struct wanted *w)
{
    char path[256];
    cJSON *body = cJSON_CreateObject(), *ans = NULL;
    struct creatio_answer a = {0};
    snprintf(path, sizeof path, "%s(%s)", CRM_NAME(conf, N_USER_OBJECT), w->crm_id);
    if (conf->creatio && body &&
        cJSON_AddStringToObject(body, CRM_NAME(conf, N_USER_EXTERNAL), w->user_id) &&
        creatio_send(conf->creatio, "PATCH", path, body, &ans, &a) != CC_OK)
        CC_WARN("crm: %s not told our user id: %s", w->crm_id, a.error);
    cJSON_Delete(ans);
    cJSON_Delete(body);
    creatio_answer_release(&a);
}

static enum cc_status set_agent(struct crm *c, const struct wanted *w, char *why, size_t cap)
{
    static const char *const fields[] = {"agent"};
    Cc__V1__User u = CC__V1__USER__INIT;
    Cc__V1__AgentSettings ag = CC__V1__AGENT_SETTINGS__INIT;
    ag.has_enabled = 1, ag.enabled = w->is_agent && !w->gone;
    ag.team_id = w->team[0] ? CC_PB_STR(w->team) : NULL;
    u.agent = &ag;
    return reg_call(c, SUBJ_REGISTRY_USERS_UPDATE, w->user_id, NULL, &u.base, fields, 1, NULL, why,
                    cap);
}

/* Makes our agent skills those of the CRM: put each, delete the others. */
static enum cc_status mirror_skills(struct crm *c, const struct wanted *w, char *why, size_t cap)
{
    Cc__V1__ObjectReply *rep = NULL;
    enum cc_status st =
        reg_call(c, SUBJ_AGENT_SKILLS_LIST, NULL, w->user_id, NULL, NULL, 0, &rep, why, cap);
    for (int i = 0; st == CC_OK && i < w->n; i++) {
        Cc__V1__AgentSkill s = CC__V1__AGENT_SKILL__INIT;
        s.has_capacity = 1, s.capacity = w->skills[i].capacity;
        s.has_active = 1, s.active = w->skills[i].active;
        st = reg_call(c, SUBJ_AGENT_SKILLS_PUT, w->skills[i].skill, w->user_id, &s.base, NULL, 0,
                      NULL, why, cap);
    }
    for (size_t k = 0; st == CC_OK && k < rep->n_items; k++) {
        Cc__V1__AgentSkill *have =
            cc__v1__agent_skill__unpack(NULL, rep->items[k].len, rep->items[k].data);
        int keep = 0;
        for (int i = 0; have && have->skill_id && i < w->n && !keep; i++)
            keep = !strcmp(have->skill_id, w->skills[i].skill);
        if (have && have->skill_id && !keep)
            st = reg_call(c, SUBJ_AGENT_SKILLS_DELETE, have->skill_id, w->user_id, NULL, NULL, 0,
                          NULL, why, cap);
        if (have)
            cc__v1__agent_skill__free_unpacked(have, NULL);
    }
    if (rep)
        cc__v1__object_reply__free_unpacked(rep, NULL);
    return st;
}

static enum cc_status apply(struct crm *c, struct crm_conf *conf, struct wanted *w, char *why,
                            size_t cap)
{
    enum cc_status st = CC_OK;
    int linked;
    if (w->user_id[0] && reg_exists(c, "users", w->user_id, why, cap) != CC_OK)
        w->user_id[0] = 0;
    linked = w->user_id[0] != 0;
    if (!linked)
        find_user(c, w);
    if (!w->user_id[0] && w->gone)
        return CC_OK; /* deleted in the CRM and never here: nothing to do */
    if (!w->user_id[0] && (st = create_user(c, w, why, cap)) != CC_OK)
        return st;
    if (!linked && cc_redis_do(c->redis, "SET " KEY_CRM_LINK_USER " %s", cc_tag(), w->crm_id,
                               w->user_id) != CC_OK)
        CC_WARN("crm: link of %s not stored", w->crm_id);
    if (!linked && !w->gone && odata_guid_valid(w->crm_id))
        link_back(conf, w);
    if ((st = set_agent(c, w, why, cap)) == CC_OK && !w->gone)
        st = mirror_skills(c, w, why, cap);
    return st;
}

/* Holds the provisioning lock of one CRM record (replicas, hook and poll). */
static int lock(struct crm *c, const char *crm_id)
{
    for (int i = 0; i < 100; i++) {
        redisReply *r = NULL;
        int got = cc_redis_run(c->redis, &r, "SET " KEY_CRM_LOCK_AGENT " 1 NX PX %d", cc_tag(),
                               crm_id, LOCK_MS) == CC_OK &&
                  r->type == REDIS_REPLY_STATUS;
        if (r)
            freeReplyObject(r);
        if (got)
            return 1;
        usleep(50000);
    }
    return 0;
}

static enum cc_status finish(struct crm *c, const char *crm_id, enum cc_status st, const char *why)
{
    if (st == CC_OK) {
        status_failure(c, "agent", crm_id, NULL, NULL, 0);
        status_agent_applied(c);
        cc_metric_add(c->m_provisioning, "result=\"applied\"", 1);
    } else {
        status_failure(c, "agent", crm_id, why[0] ? why : cc_status_str(st), NULL, 0);
        cc_metric_add(c->m_provisioning, "result=\"failed\"", 1);
    }
    return st;
}

static enum cc_status check_and_apply(struct crm *c, struct crm_conf *conf, struct wanted *w,
                                      char *why, size_t cap)
{
    enum cc_status st = check(c, w, why, cap);
    if (st == CC_OK)
        st = apply(c, conf, w, why, cap);
    return st;
}

enum cc_status provisioning_user(struct crm *c, struct crm_conf *conf, const char *crm_id,
                                 char *why, size_t cap)
{
    struct wanted *w = calloc(1, sizeof *w);
    enum cc_status st = CC_ERR_NOMEM;
    why[0] = 0;
    if (!w)
        return CC_ERR_NOMEM;
    if (!odata_guid_valid(crm_id) || conf->type != CRM_CREATIO || !lock(c, crm_id)) {
        st = !odata_guid_valid(crm_id) ? CC_ERR_INVALID : CC_ERR_UNAVAILABLE;
        snprintf(why, cap, "%s",
                 !odata_guid_valid(crm_id)   ? "not a CRM id"
                 : conf->type != CRM_CREATIO ? "no Creatio configured"
                                             : "busy");
        free(w);
        return st;
    }
    st = read_creatio(c, conf, crm_id, w, why, cap);
    if (st == CC_OK)
        st = check_and_apply(c, conf, w, why, cap);
    (void)cc_redis_do(c->redis, "DEL " KEY_CRM_LOCK_AGENT, cc_tag(), crm_id);
    if (st == CC_OK || st == CC_ERR_INVALID || st == CC_ERR_NOT_FOUND || st == CC_ERR_CONFLICT)
        finish(c, crm_id, st, why);
    else
        status_error(c, why[0] ? why : cc_status_str(st));
    free(w);
    return st;
}

/* --- the generic JSON shape ---------------------------------------------------------- */

static int copy_str(const cJSON *o, const char *name, char *out, size_t cap, int required)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!v || cJSON_IsNull(v))
        return required ? -1 : 0;
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= cap)
        return -1;
    snprintf(out, cap, "%s", v->valuestring);
    return 0;
}

/* {"user":{"external_id","name","is_agent","team_id","skills":[{"skill_id","capacity","active"}]}}
 */
static enum cc_status read_generic(const cJSON *u, struct wanted *w, char *why, size_t cap)
{
    const cJSON *agent = cJSON_GetObjectItemCaseSensitive(u, "is_agent"),
                *skills = cJSON_GetObjectItemCaseSensitive(u, "skills"), *s;
    if (!cJSON_IsObject(u) || copy_str(u, "external_id", w->crm_id, sizeof w->crm_id, 1) ||
        strspn(w->crm_id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") !=
            strlen(w->crm_id) ||
        !w->crm_id[0] || copy_str(u, "name", w->name, sizeof w->name, 0) ||
        copy_str(u, "team_id", w->team, sizeof w->team, 0) || (agent && !cJSON_IsBool(agent)) ||
        (skills && !cJSON_IsArray(skills)) || cJSON_GetArraySize(skills) > MAX_SKILLS)
        return snprintf(why, cap,
                        "user: external_id ([A-Za-z0-9_.-]), name, is_agent, team_id, "
                        "skills expected"),
               CC_ERR_INVALID;
    w->is_agent = cJSON_IsTrue(agent);
    cJSON_ArrayForEach(s, skills)
    {
        const cJSON *capn = cJSON_GetObjectItemCaseSensitive(s, "capacity"),
                    *act = cJSON_GetObjectItemCaseSensitive(s, "active");
        if (!cJSON_IsObject(s) ||
            copy_str(s, "skill_id", w->skills[w->n].skill, sizeof w->skills[0].skill, 1) ||
            !cJSON_IsNumber(capn) || (act && !cJSON_IsBool(act)))
            return snprintf(why, cap, "skills[%d]: skill_id, capacity, active expected", w->n),
                   CC_ERR_INVALID;
        w->skills[w->n].capacity = (int64_t)capn->valuedouble;
        w->skills[w->n++].active = !act || cJSON_IsTrue(act);
    }
    return CC_OK;
}

static enum cc_status generic(struct crm *c, struct crm_conf *conf, const cJSON *u, char *out_user,
                              size_t ucap, char *why, size_t cap)
{
    struct wanted *w = calloc(1, sizeof *w);
    if (!w)
        return CC_ERR_NOMEM;
    enum cc_status st = read_generic(u, w, why, cap);
    if (st == CC_OK && !lock(c, w->crm_id))
        st = CC_ERR_UNAVAILABLE, snprintf(why, cap, "busy");
    else if (st == CC_OK) {
        st = check_and_apply(c, conf, w, why, cap);
        (void)cc_redis_do(c->redis, "DEL " KEY_CRM_LOCK_AGENT, cc_tag(), w->crm_id);
        if (st == CC_OK || st == CC_ERR_INVALID)
            finish(c, w->crm_id, st, why);
    }
    snprintf(out_user, ucap, "%s", w->user_id);
    free(w);
    return st;
}

/* --- POST /crm/v1/provisioning -------------------------------------------------------- */

/* 1 when the request carries the provisioning secret (Bearer, or Basic
 * with it as the password), compared in constant time. */
static int authorized(const struct crm_conf *conf, struct cc_http_req *req)
{
    const char *token = conf->s->provisioning_token, *h = cc_http_header(req, "Authorization");
    unsigned char a[32], b[32], raw[512];
    size_t len = 0;
    const char *given = NULL;
    if (!token || !token[0] || !h)
        return 0;
    if (!strncmp(h, "Bearer ", 7)) {
        given = h + 7, len = strlen(given);
    } else if (!strncmp(h, "Basic ", 6) &&
               sodium_base642bin(raw, sizeof raw - 1, h + 6, strlen(h + 6), NULL, &len, NULL,
                                 sodium_base64_VARIANT_ORIGINAL) == 0) {
        raw[len] = 0;
        char *colon = memchr(raw, ':', len);
        if (!colon)
            return 0;
        given = colon + 1, len -= (size_t)(colon + 1 - (char *)raw);
    }
    if (!given)
        return 0;
    crypto_generichash(a, sizeof a, (const unsigned char *)given, len, NULL, 0);
    crypto_generichash(b, sizeof b, (const unsigned char *)token, strlen(token), NULL, 0);
    return sodium_memcmp(a, b, sizeof a) == 0;
}

/* The CRM user of a Creatio notification into out ("" when unknown). */
static enum cc_status notified_user(struct crm *c, struct crm_conf *conf, const cJSON *j, char *out,
                                    size_t cap, char *why, size_t wcap)
{
    const char *entity = odata_str(j, "EntityName", 64), *action = odata_str(j, "Action", 32),
               *id = odata_guid(j, "Id");
    out[0] = 0;
    if (!entity || !id)
        return snprintf(why, wcap, "EntityName and Id (a GUID) expected"), CC_ERR_INVALID;
    if (!strcmp(entity, CRM_NAME(conf, N_USER_OBJECT)))
        return snprintf(out, cap, "%s", id), CC_OK;
    if (strcmp(entity, CRM_NAME(conf, N_ASKILL_OBJECT)))
        return snprintf(why, wcap, "EntityName: %s or %s", CRM_NAME(conf, N_USER_OBJECT),
                        CRM_NAME(conf, N_ASKILL_OBJECT)),
               CC_ERR_INVALID;
    char path[256];
    cJSON *row = NULL;
    struct creatio_answer a = {0};
    snprintf(path, sizeof path, "%s(%s)?$select=%s", CRM_NAME(conf, N_ASKILL_OBJECT), id,
             CRM_NAME(conf, N_ASKILL_USER));
    enum cc_status st = action && !strcmp(action, "Deleted")
                            ? CC_ERR_NOT_FOUND
                            : creatio_get(conf->creatio, path, &row, &a);
    const char *user = st == CC_OK ? odata_guid(row, CRM_NAME(conf, N_ASKILL_USER)) : NULL;
    if (user)
        snprintf(out, cap, "%s", user);
    else if (st == CC_OK || st == CC_ERR_NOT_FOUND) { /* gone: whose it was, we remember */
        redisReply *r = NULL;
        if (cc_redis_run(c->redis, &r, "GET " KEY_CRM_ASKILL, cc_tag(), id) == CC_OK &&
            r->type == REDIS_REPLY_STRING)
            snprintf(out, cap, "%s", r->str);
        if (r)
            freeReplyObject(r);
        st = out[0] ? CC_OK : CC_ERR_NOT_FOUND;
        if (!out[0])
            snprintf(why, wcap, "agent skill %s of no known user", id);
    } else {
        snprintf(why, wcap, "%s", a.error);
    }
    cJSON_Delete(row);
    creatio_answer_release(&a);
    return st;
}

void provisioning_post(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    struct crm *c = arg;
    struct crm_conf *conf = settings_get(c);
    char why[256] = "", crm_user[64] = "", user_id[128] = "";
    enum cc_status st = CC_OK;
    const cJSON *generic_user = cJSON_GetObjectItemCaseSensitive(req->json, "user");
    if (!authorized(conf, req)) {
        cc_http_error(resp, CC_ERR_UNAUTHORIZED, NULL);
        goto out;
    }
    if (!cJSON_IsObject(req->json))
        st = CC_ERR_INVALID, snprintf(why, sizeof why, "a JSON object expected");
    else if (generic_user)
        st = generic(c, conf, generic_user, user_id, sizeof user_id, why, sizeof why);
    else if (conf->type != CRM_CREATIO)
        st = CC_ERR_INVALID,
        snprintf(why, sizeof why, "no Creatio configured: use the generic shape");
    else if ((st = notified_user(c, conf, req->json, crm_user, sizeof crm_user, why, sizeof why)) ==
             CC_OK)
        st = provisioning_user(c, conf, crm_user, why, sizeof why);
    if (st == CC_OK) {
        cJSON *j = cJSON_CreateObject();
        if (j && cJSON_AddStringToObject(j, "result", "applied"))
            cc_http_json(resp, 200, j);
        else
            cJSON_Delete(j), cc_http_error(resp, CC_ERR_NOMEM, NULL);
    } else {
        CC_WARN("crm: provisioning refused: %s", why[0] ? why : cc_status_str(st));
        cc_http_error(resp, st == CC_ERR_NOT_FOUND ? CC_ERR_INVALID : st, why[0] ? why : NULL);
    }
out:
    settings_put(conf);
}

/* --- polling on ModifiedOn, reconcile at start ---------------------------------------- */

/* Provisions every user whose `object` rows changed after the stored mark
 * (all of them when `all`), and moves the mark. */
static void poll_object(struct crm *c, struct crm_conf *conf, enum crm_name object,
                        enum crm_name user_field, enum crm_name modified, int all)
{
    char path[512], mark[48] = "", why[256];
    redisReply *r = NULL;
    cJSON *rows = NULL, *row;
    struct creatio_answer a = {0};
    if (cc_redis_run(c->redis, &r, "HGET " KEY_CRM_POLL " %s", cc_tag(), CRM_NAME(conf, object)) ==
            CC_OK &&
        r->type == REDIS_REPLY_STRING && r->len < sizeof mark)
        snprintf(mark, sizeof mark, "%s", r->str);
    if (r)
        freeReplyObject(r);
    int64_t ms;
    int since = !all && mark[0] && cc_time_parse_ms(mark, &ms) == 0;
    snprintf(path, sizeof path, "%s?$select=Id,%s,%s&$orderby=%s%s%s%s", CRM_NAME(conf, object),
             user_field == N_COUNT ? "Id" : CRM_NAME(conf, user_field), CRM_NAME(conf, modified),
             CRM_NAME(conf, modified), since ? "&$filter=" : "",
             since ? CRM_NAME(conf, modified) : "", since ? "%20gt%20" : "");
    if (since && strlen(path) + strlen(mark) < sizeof path)
        strcat(path, mark);
    if (creatio_list(conf->creatio, path, 500, 100000, &rows, &a) != CC_OK) {
        CC_WARN("crm: poll of %s: %s", CRM_NAME(conf, object), a.error);
        goto out;
    }
    cJSON_ArrayForEach(row, rows)
    {
        const char *user =
            odata_guid(row, user_field == N_COUNT ? "Id" : CRM_NAME(conf, user_field));
        const char *mod = odata_str(row, CRM_NAME(conf, modified), 40);
        if (user && provisioning_user(c, conf, user, why, sizeof why) == CC_ERR_UNAVAILABLE)
            break; /* try again next time from the same mark */
        if (mod && cc_time_parse_ms(mod, &ms) == 0 &&
            cc_redis_do(c->redis, "HSET " KEY_CRM_POLL " %s %s", cc_tag(), CRM_NAME(conf, object),
                        mod) != CC_OK)
            break;
    }
out:
    cJSON_Delete(rows);
    creatio_answer_release(&a);
}

void provisioning_poll(struct crm *c, int reconcile)
{
    struct crm_conf *conf = settings_get(c);
    redisReply *r = NULL;
    if (conf->type == CRM_CREATIO &&
        cc_redis_run(c->redis, &r, "SET " KEY_CRM_LOCK_POLL " 1 NX PX 60000", cc_tag()) == CC_OK &&
        r->type == REDIS_REPLY_STATUS) {
        poll_object(c, conf, N_USER_OBJECT, N_COUNT, N_USER_MODIFIED, reconcile);
        poll_object(c, conf, N_ASKILL_OBJECT, N_ASKILL_USER, N_ASKILL_MODIFIED, reconcile);
        if (reconcile)
            status_reconciled(c);
        (void)cc_redis_do(c->redis, "DEL " KEY_CRM_LOCK_POLL, cc_tag());
    }
    if (r)
        freeReplyObject(r);
    settings_put(conf);
}
