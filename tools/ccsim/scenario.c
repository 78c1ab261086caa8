/* scenario.c - reads a scenario JSON file (cJSON) into struct scenario:
 * types and ranges checked field by field, unknown keys refused, defaults
 * filled in, then the cross-field rules and the derived skill list. */
#include "scenario.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE (1 << 20)

/* The reader's error slot: the first failure wins. */
struct rd {
    char *why;
    size_t cap;
    int failed;
};

static int fail(struct rd *r, const char *ctx, const char *key, const char *rule)
{
    if (!r->failed)
        snprintf(r->why, r->cap, "%s%s%s: %s", ctx, ctx[0] ? "." : "", key, rule);
    r->failed = 1;
    return -1;
}

/* Refuses members of `obj` not in `allowed` (NULL-terminated). */
static int known_keys(struct rd *r, const cJSON *obj, const char *ctx, const char *const *allowed)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, obj)
    {
        const char *const *a = allowed;
        while (*a && strcmp(*a, m->string))
            a++;
        if (!*a)
            return fail(r, ctx, m->string, "unknown key");
    }
    return 0;
}

/* A number in [min, max] (an integer when `integral`); `def` when absent,
 * required when `def` is NAN. */
static int num(struct rd *r, const cJSON *obj, const char *ctx, const char *key, double def,
               double min, double max, int integral, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    char rule[96];
    if (!v) {
        if (isnan(def))
            return fail(r, ctx, key, "required");
        *out = def;
        return 0;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < min ||
        v->valuedouble > max || (integral && v->valuedouble != floor(v->valuedouble))) {
        snprintf(rule, sizeof rule, "must be %s in [%g, %g]", integral ? "an integer" : "a number",
                 min, max);
        return fail(r, ctx, key, rule);
    }
    *out = v->valuedouble;
    return 0;
}

static int int64_field(struct rd *r, const cJSON *obj, const char *ctx, const char *key,
                       int64_t def, int64_t min, int64_t max, int64_t *out)
{
    double d;
    /* a default below the range marks the field required */
    if (num(r, obj, ctx, key, def < min ? NAN : (double)def, (double)min, (double)max, 1, &d))
        return -1;
    *out = (int64_t)d;
    return 0;
}

/* Text of 1..cap-1 bytes without control characters; `def` when absent
 * (required when NULL). */
static int text(struct rd *r, const cJSON *obj, const char *ctx, const char *key, const char *def,
                char *out, size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v && def) {
        snprintf(out, cap, "%s", def);
        return 0;
    }
    if (!v)
        return fail(r, ctx, key, "required");
    size_t n = cJSON_IsString(v) ? strlen(v->valuestring) : 0;
    char rule[64];
    if (n == 0 || n >= cap) {
        snprintf(rule, sizeof rule, "must be a string of 1 to %zu bytes", cap - 1);
        return fail(r, ctx, key, rule);
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v->valuestring[i] < 0x20)
            return fail(r, ctx, key, "control characters are not allowed");
    snprintf(out, cap, "%s", v->valuestring);
    return 0;
}

static int one_of(struct rd *r, const char *ctx, const char *key, const char *v,
                  const char *const *allowed)
{
    for (const char *const *a = allowed; *a; a++)
        if (!strcmp(v, *a))
            return 0;
    return fail(r, ctx, key, "unknown value");
}

static int read_queue(struct rd *r, const cJSON *o, const char *ctx, struct sim_queue_cfg *q)
{
    static const char *const keys[] = {"name",
                                       "kind",
                                       "strategy",
                                       "skill",
                                       "min_capacity",
                                       "max_concurrent_chats",
                                       "priority",
                                       "arrivals_per_hour",
                                       "handling_time_s",
                                       "patience_s",
                                       NULL};
    static const char *const kinds[] = {"chat", "call", NULL};
    static const char *const strategies[] = {
        "longest_idle", "most_skilled", "round_robin", "fewest_interactions",
        "random",       "ring_all",     NULL};
    if (!cJSON_IsObject(o))
        return fail(r, ctx, "", "must be an object");
    if (known_keys(r, o, ctx, keys) || text(r, o, ctx, "name", NULL, q->name, 61) ||
        text(r, o, ctx, "kind", NULL, q->kind, sizeof q->kind) ||
        one_of(r, ctx, "kind", q->kind, kinds) ||
        text(r, o, ctx, "strategy", "longest_idle", q->strategy, sizeof q->strategy) ||
        one_of(r, ctx, "strategy", q->strategy, strategies) ||
        text(r, o, ctx, "skill", q->name, q->skill, 61) ||
        int64_field(r, o, ctx, "min_capacity", 1, 1, 100, &q->min_capacity) ||
        int64_field(r, o, ctx, "max_concurrent_chats", 1, 1, 100, &q->max_chats) ||
        int64_field(r, o, ctx, "priority", 0, 0, 100, &q->priority) ||
        num(r, o, ctx, "arrivals_per_hour", NAN, 1e-3, 1e6, 0, &q->arrivals_per_hour) ||
        num(r, o, ctx, "handling_time_s", NAN, 1e-3, 1e6, 0, &q->handling_s) ||
        num(r, o, ctx, "patience_s", 0, 0, 1e6, 0, &q->patience_s))
        return -1;
    if (!strcmp(q->kind, "call") && q->max_chats != 1)
        return fail(r, ctx, "max_concurrent_chats", "call queues take one at a time");
    if (!strcmp(q->strategy, "ring_all") && strcmp(q->kind, "call"))
        return fail(r, ctx, "strategy", "ring_all is for call queues only");
    return 0;
}

static int read_group(struct rd *r, const cJSON *o, const char *ctx, struct sim_group_cfg *g)
{
    static const char *const keys[] = {"group", "count", "skills", NULL};
    static const char *const skill_keys[] = {"skill", "capacity", NULL};
    const cJSON *skills = cJSON_GetObjectItemCaseSensitive(o, "skills"), *s;
    int64_t count;
    char sctx[96];
    if (!cJSON_IsObject(o))
        return fail(r, ctx, "", "must be an object");
    if (known_keys(r, o, ctx, keys) || text(r, o, ctx, "group", NULL, g->name, 61) ||
        int64_field(r, o, ctx, "count", INT64_MIN, 1, SIM_MAX_AGENTS, &count))
        return -1;
    g->count = (int)count;
    int n = cJSON_IsArray(skills) ? cJSON_GetArraySize(skills) : 0;
    if (n < 1 || n > SIM_MAX_GROUP_SKILLS)
        return fail(r, ctx, "skills", "must be an array of 1 to 16 skills");
    g->n_skills = 0;
    cJSON_ArrayForEach(s, skills)
    {
        struct sim_group_skill *gs = &g->skills[g->n_skills];
        snprintf(sctx, sizeof sctx, "%s.skills[%zu]", ctx, g->n_skills);
        if (!cJSON_IsObject(s))
            return fail(r, sctx, "", "must be an object");
        if (known_keys(r, s, sctx, skill_keys) || text(r, s, sctx, "skill", NULL, gs->skill, 61) ||
            int64_field(r, s, sctx, "capacity", INT64_MIN, 1, 100, &gs->capacity))
            return -1;
        g->n_skills++;
    }
    return 0;
}

/* count in [1, max] entries of array `key`, each read with `fn` into `base`. */
static int read_array(struct rd *r, const cJSON *root, const char *key, size_t max, void *base,
                      size_t size, size_t *n,
                      int (*fn)(struct rd *, const cJSON *, const char *, void *))
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, key), *e;
    char ctx[64];
    int count = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : 0;
    if (count < 1 || (size_t)count > max)
        return fail(r, "", key, "must be a non-empty array (at most 32 entries)");
    *n = 0;
    cJSON_ArrayForEach(e, arr)
    {
        snprintf(ctx, sizeof ctx, "%s[%zu]", key, *n);
        if (fn(r, e, ctx, (char *)base + *n * size))
            return -1;
        (*n)++;
    }
    return 0;
}

static int queue_fn(struct rd *r, const cJSON *o, const char *ctx, void *out)
{
    return read_queue(r, o, ctx, out);
}

static int group_fn(struct rd *r, const cJSON *o, const char *ctx, void *out)
{
    return read_group(r, o, ctx, out);
}

static int read_root(struct rd *r, const cJSON *root, struct scenario *sc)
{
    static const char *const keys[] = {"name",    "time_scale",      "duration_s", "warmup_s",
                                       "drain_s", "service_level_s", "wrap_up_s",  "seed",
                                       "queues",  "agents",          NULL};
    double seed;
    if (!cJSON_IsObject(root))
        return fail(r, "", "scenario", "must be a JSON object");
    if (known_keys(r, root, "", keys) ||
        text(r, root, "", "name", "scenario", sc->name, sizeof sc->name) ||
        num(r, root, "", "time_scale", 60, 1e-3, 1e5, 0, &sc->scale) ||
        num(r, root, "", "duration_s", NAN, 1, 1e8, 0, &sc->duration_s) ||
        num(r, root, "", "warmup_s", 0, 0, 1e8, 0, &sc->warmup_s) ||
        num(r, root, "", "drain_s", 3600, 0, 1e8, 0, &sc->drain_s) ||
        num(r, root, "", "service_level_s", 20, 1e-3, 1e6, 0, &sc->sl_s) ||
        num(r, root, "", "wrap_up_s", 0, 0, 1e6, 0, &sc->wrap_up_s) ||
        num(r, root, "", "seed", 1, 0, 9007199254740991.0, 1, &seed))
        return -1;
    sc->seed = (uint64_t)seed;
    if (read_array(r, root, "queues", SIM_MAX_QUEUES, sc->queues, sizeof sc->queues[0],
                   &sc->n_queues, queue_fn) ||
        read_array(r, root, "agents", SIM_MAX_GROUPS, sc->groups, sizeof sc->groups[0],
                   &sc->n_groups, group_fn))
        return -1;
    return 0;
}

static char *read_file(const char *path, char *why, size_t whycap)
{
    FILE *f = fopen(path, "rb");
    char *buf = f ? malloc(MAX_FILE + 1) : NULL;
    size_t n = buf ? fread(buf, 1, MAX_FILE + 1, f) : 0;
    if (f)
        fclose(f);
    if (!buf || n > MAX_FILE) {
        snprintf(why, whycap, "%s: %s", path, !f ? "cannot be read" : "larger than 1 MiB");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

enum cc_status scenario_load(struct scenario *sc, const char *path, char *why, size_t whycap)
{
    struct rd r = {why, whycap, 0};
    char *buf = read_file(path, why, whycap);
    if (!buf)
        return CC_ERR_IO;
    memset(sc, 0, sizeof *sc);
    cJSON *root = cJSON_Parse(buf);
    free(buf);
    if (!root) {
        snprintf(why, whycap, "%s: not valid JSON", path);
        return CC_ERR_INVALID;
    }
    int bad = read_root(&r, root, sc);
    cJSON_Delete(root);
    return bad ? CC_ERR_INVALID : scenario_check(sc, why, whycap);
}

int scenario_skill(const struct scenario *sc, const char *name)
{
    for (size_t i = 0; i < sc->n_skills; i++)
        if (!strcmp(sc->skills[i], name))
            return (int)i;
    return -1;
}

size_t scenario_agents(const struct scenario *sc)
{
    size_t n = 0;
    for (size_t g = 0; g < sc->n_groups; g++)
        n += (size_t)sc->groups[g].count;
    return n;
}

/* Names must be unique: they become unique names in agent-registry. */
static int names_unique(struct rd *r, const struct scenario *sc)
{
    for (size_t i = 0; i < sc->n_queues; i++)
        for (size_t j = 0; j < i; j++)
            if (!strcmp(sc->queues[i].name, sc->queues[j].name))
                return fail(r, "queues", sc->queues[i].name, "queue name used twice");
    for (size_t i = 0; i < sc->n_groups; i++)
        for (size_t j = 0; j < i; j++)
            if (!strcmp(sc->groups[i].name, sc->groups[j].name))
                return fail(r, "agents", sc->groups[i].name, "group name used twice");
    return 0;
}

/* The distinct queue skills; a group skill no queue asks for is a typo. */
static int derive_skills(struct rd *r, struct scenario *sc)
{
    sc->n_skills = 0;
    for (size_t i = 0; i < sc->n_queues; i++)
        if (scenario_skill(sc, sc->queues[i].skill) < 0)
            snprintf(sc->skills[sc->n_skills++], SIM_NAME_MAX, "%s", sc->queues[i].skill);
    for (size_t g = 0; g < sc->n_groups; g++)
        for (size_t k = 0; k < sc->groups[g].n_skills; k++) {
            if (scenario_skill(sc, sc->groups[g].skills[k].skill) < 0)
                return fail(r, sc->groups[g].name, sc->groups[g].skills[k].skill,
                            "no queue asks for this skill");
            for (size_t j = 0; j < k; j++)
                if (!strcmp(sc->groups[g].skills[j].skill, sc->groups[g].skills[k].skill))
                    return fail(r, sc->groups[g].name, sc->groups[g].skills[k].skill,
                                "skill listed twice");
        }
    return 0;
}

enum cc_status scenario_check(struct scenario *sc, char *why, size_t whycap)
{
    struct rd r = {why, whycap, 0};
    if (sc->warmup_s >= sc->duration_s)
        fail(&r, "", "warmup_s", "must be shorter than duration_s");
    else if (scenario_agents(sc) > SIM_MAX_AGENTS)
        fail(&r, "", "agents", "at most 5000 agents in all");
    else if (sc->scale <= 0 || !isfinite(sc->scale))
        fail(&r, "", "time_scale", "must be > 0");
    else
        (void)(names_unique(&r, sc) || derive_skills(&r, sc));
    return r.failed ? CC_ERR_INVALID : CC_OK;
}
