/* reports_query.c - cc.reports.queues and cc.reports.agents: the 15-minute
 * counters kept by reports_ingest.c summed into the organisation's
 * intervals (15 minutes, hours, days in its time zone; a day of a change of
 * clocks has 23 or 25 hours) for the queues and agents the caller may see:
 * admins everything; supervisors their queues (unless the switch lets them
 * see all) and the agents who serve those queues. Archived agents stay;
 * deleted ones are "deleted user". */
#include "reports.h"
#include "cc/v1/reports.pb-c.h"
#include "cc_log.h"
#include "cc_time.h"
#include "cc_keys.h"
#include "cc_subjects.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000LL
#define MAX_DAYS 400
#define MAX_QUARTER_DAYS 31
#define MAX_ROWS 200000

/* The counters of one interval. */
struct sums {
    int64_t v[16];
};
enum {
    S_OFFERED,
    S_ANSWERED,
    S_ABANDONED,
    S_TIMED_OUT,
    S_WITHIN,
    S_WAIT,
    S_HANDLE,
    S_MAX_WAIT,
    S_CALLBACKS,
    S_HANDLED,
    S_MISSED,
    S_COUNT
};
static const char *const sum_names[S_COUNT] = {"offered",   "answered", "abandoned", "timed_out",
                                               "within",    "wait_ms",  "handle_ms", "max_wait_ms",
                                               "callbacks", "handled",  "missed"};

/* One interval of the answer: [start, end) and its local label. */
struct slot {
    int64_t start, end;
    char local[48], day[40];
};

struct query {
    struct registry *reg;
    const Cc__V1__ReportRequest *req;
    char tz[72];
    int64_t from, to; /* ms, multiples of 15 minutes */
    struct slot *slots;
    size_t nslots;
    int *slot_of; /* per quarter from `from`: its slot */
    size_t nquarters;
    char why[160];
};

/* --- the range and its intervals ------------------------------------------------------------ */

static int parse_date(const char *s, int *y, int *m, int *d)
{
    char tail;
    return s && strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%c", y, m, d, &tail) == 3 && *m >= 1 &&
           *m <= 12 && *d >= 1 && *d <= 31;
}

/* A bound: a date (the organisation's day; `end`: the day after) or RFC 3339. */
static int bound(struct query *q, const char *s, int end, int64_t *ms)
{
    int y, m, d;
    if (parse_date(s, &y, &m, &d)) {
        *ms = tz_midnight(q->tz, y, m, d + (end ? 1 : 0));
        return 0;
    }
    return cc_time_parse_ms(s, ms);
}

static void today(struct query *q, int64_t *from, int64_t *to)
{
    struct tm tm;
    tz_local(q->tz, cc_time_now_ms(), &tm);
    *from = tz_midnight(q->tz, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    *to = tz_midnight(q->tz, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday + 1);
}

/* The interval a quarter starting at `ms` belongs to: its start. */
static int64_t slot_start(struct query *q, int64_t ms, char kind, struct tm *tm)
{
    tz_local(q->tz, ms, tm);
    if (kind == 'q')
        return ms;
    if (kind == 'h')
        return ms - (int64_t)tm->tm_min * 60000 - (int64_t)tm->tm_sec * 1000;
    return tz_midnight(q->tz, tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday);
}

static enum cc_status plan_slots(struct query *q, char kind)
{
    const Cc__V1__ReportRequest *r = q->req;
    if (!r->from && !r->to)
        today(q, &q->from, &q->to);
    else if (!r->from || !r->to || bound(q, r->from, 0, &q->from) || bound(q, r->to, 1, &q->to))
        return snprintf(q->why, sizeof q->why,
                        "from and to: dates (YYYY-MM-DD) or RFC 3339 "
                        "times, both or neither"),
               CC_ERR_INVALID;
    q->from -= q->from % REPORT_QUARTER_MS;
    q->to += (REPORT_QUARTER_MS - q->to % REPORT_QUARTER_MS) % REPORT_QUARTER_MS;
    int64_t max = (kind == 'q' ? MAX_QUARTER_DAYS : MAX_DAYS) * DAY_MS;
    if (q->to <= q->from || q->to - q->from > max)
        return snprintf(q->why, sizeof q->why, "to must come after from, at most %d days later",
                        kind == 'q' ? MAX_QUARTER_DAYS : MAX_DAYS),
               CC_ERR_INVALID;
    q->nquarters = (size_t)((q->to - q->from) / REPORT_QUARTER_MS);
    q->slot_of = calloc(q->nquarters, sizeof *q->slot_of);
    q->slots = calloc(q->nquarters, sizeof *q->slots);
    if (!q->slot_of || !q->slots)
        return CC_ERR_NOMEM;
    for (size_t i = 0; i < q->nquarters; i++) {
        struct tm tm;
        int64_t ms = q->from + (int64_t)i * REPORT_QUARTER_MS;
        int64_t start = slot_start(q, ms, kind, &tm);
        if (q->nslots == 0 || q->slots[q->nslots - 1].start != start) {
            struct slot *s = &q->slots[q->nslots++];
            s->start = start > q->from ? start : q->from;
            tz_format(q->tz, s->start, s->local, sizeof s->local);
            snprintf(s->day, sizeof s->day, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday);
        }
        q->slots[q->nslots - 1].end = ms + REPORT_QUARTER_MS;
        q->slot_of[i] = (int)q->nslots - 1;
    }
    return CC_OK;
}

static int interval_kind(const char *s, char *kind)
{
    *kind = !s || !strcmp(s, "hour") ? 'h' : !strcmp(s, "15m") ? 'q' : !strcmp(s, "day") ? 'd' : 0;
    return *kind != 0;
}

/* --- reading the counters -------------------------------------------------------------------- */

/* Calls fn(arg, slot, field, value) for every counter of `who` (q or a)
 * `id` in the range; `field` is the part after "<quarter>|". */
typedef void (*counter_fn)(void *arg, int slot, const char *field, int64_t value);

static enum cc_status each_counter(struct query *q, char who, const char *id, counter_fn fn,
                                   void *arg)
{
    int64_t first = q->from / DAY_MS, last = (q->to - 1) / DAY_MS;
    for (int64_t day = first; day <= last; day++) {
        redisReply *rep;
        enum cc_status st = who == 'q' ? cc_redis_run(q->reg->redis, &rep, "HGETALL " KEY_REP_QUEUE,
                                                      cc_tag(), id, (long long)day)
                                       : cc_redis_run(q->reg->redis, &rep, "HGETALL " KEY_REP_AGENT,
                                                      cc_tag(), id, (long long)day);
        for (size_t i = 0; st == CC_OK && i + 1 < rep->elements; i += 2) {
            const char *f = rep->element[i]->str, *bar = strchr(f, '|');
            int64_t qi =
                day * REPORT_DAY_QUARTERS + strtoll(f, NULL, 10) - q->from / REPORT_QUARTER_MS;
            if (bar && qi >= 0 && (size_t)qi < q->nquarters)
                fn(arg, q->slot_of[qi], bar + 1, strtoll(rep->element[i + 1]->str, NULL, 10));
        }
        if (rep)
            freeReplyObject(rep);
        if (st != CC_OK)
            return st;
    }
    return CC_OK;
}

/* Sums the named counters into sums[slot]. */
static void add_sum(void *arg, int slot, const char *field, int64_t v)
{
    struct sums *sums = arg;
    for (int s = 0; s < S_COUNT; s++)
        if (!strcmp(field, sum_names[s])) {
            int64_t *cell = &sums[slot].v[s];
            *cell = s == S_MAX_WAIT ? (v > *cell ? v : *cell) : *cell + v;
        }
}

/* --- scope ------------------------------------------------------------------------------------ */

static int is(const Cc__V1__Caller *c, const char *role)
{
    return c && c->role && !strcmp(c->role, role);
}

struct scope {
    struct query *q;
    Cc__V1__Queue **queues;
    size_t n, cap;
    int all; /* the caller sees every queue */
};

static int wanted(const Cc__V1__ReportRequest *r, const char *queue_id)
{
    if (r->n_queue_ids == 0)
        return 1;
    return ids_contain(r->queue_ids, r->n_queue_ids, queue_id);
}

static int keep_queue(void *arg, const ProtobufCMessage *obj)
{
    struct scope *s = arg;
    const Cc__V1__Queue *qu = (const Cc__V1__Queue *)obj;
    const Cc__V1__Caller *c = s->q->req->caller;
    if (!wanted(s->q->req, qu->id) || (!s->all && !queue_assigned(s->q->reg, qu, c->user_id)))
        return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        Cc__V1__Queue **grown = realloc(s->queues, cap * sizeof *grown);
        if (!grown)
            return 0;
        s->queues = grown, s->cap = cap;
    }
    size_t len = protobuf_c_message_get_packed_size(obj);
    uint8_t *buf = malloc(len ? len : 1);
    if (buf) {
        protobuf_c_message_pack(obj, buf);
        s->queues[s->n] = cc__v1__queue__unpack(NULL, len, buf);
        s->n += s->queues[s->n] != NULL;
    }
    free(buf);
    return 0;
}

/* The queues the caller may report on. */
static enum cc_status scope_load(struct query *q, struct scope *s)
{
    Cc__V1__Permissions *p;
    enum cc_status st;
    memset(s, 0, sizeof *s);
    s->q = q;
    if (is(q->req->caller, "admin")) {
        s->all = 1;
    } else if (is(q->req->caller, "supervisor")) {
        if ((st = permissions_get(q->reg, &p)) != CC_OK)
            return st;
        s->all = !p->supervisor->limit_to_assigned_queues;
        cc__v1__permissions__free_unpacked(p, NULL);
    } else {
        snprintf(q->why, sizeof q->why, "reports are for supervisors and administrators");
        return CC_ERR_FORBIDDEN;
    }
    store_each(q->reg->redis, &kind_queues.store, keep_queue, s, &st);
    return st;
}

static void scope_release(struct scope *s)
{
    for (size_t i = 0; i < s->n; i++)
        cc__v1__queue__free_unpacked(s->queues[i], NULL);
    free(s->queues);
}

/* --- queues ----------------------------------------------------------------------------------- */

static double avg(int64_t total_ms, int64_t n)
{
    return n > 0 ? (double)total_ms / 1000.0 / (double)n : 0;
}

static void fill_queue_row(Cc__V1__QueueReportRow *row, const Cc__V1__Queue *qu,
                           const struct slot *sl, const struct sums *s, char *start, char *end)
{
    const int64_t *v = s->v;
    cc__v1__queue_report_row__init(row);
    cc_time_format_ms(sl->start, start, 32);
    cc_time_format_ms(sl->end, end, 32);
    row->queue_id = qu->id, row->queue_name = qu->name;
    row->start = start, row->end = end, row->local_start = (char *)sl->local;
    row->has_offered = row->has_answered = row->has_abandoned = row->has_timed_out = 1;
    row->offered = v[S_OFFERED], row->answered = v[S_ANSWERED];
    row->abandoned = v[S_ABANDONED], row->timed_out = v[S_TIMED_OUT];
    row->has_answered_within = row->has_service_level_s = row->has_service_level = 1;
    row->answered_within = v[S_WITHIN];
    row->service_level_s = qu->has_service_level_s ? qu->service_level_s : 20;
    row->service_level = v[S_OFFERED] ? (double)v[S_WITHIN] / (double)v[S_OFFERED] : 0;
    row->has_asa_s = row->has_aht_s = row->has_longest_wait_s = 1;
    row->asa_s = avg(v[S_WAIT], v[S_ANSWERED]);
    row->aht_s = avg(v[S_HANDLE], v[S_ANSWERED]);
    row->longest_wait_s = (double)v[S_MAX_WAIT] / 1000.0;
    row->has_transfers = row->has_callbacks = 1;
    row->transfers = 0, row->callbacks = v[S_CALLBACKS];
}

static enum cc_status queues_report(struct query *q, const struct scope *sc,
                                    const struct cc_nats_msg *m)
{
    Cc__V1__QueueReport rep = CC__V1__QUEUE_REPORT__INIT;
    size_t n = sc->n * q->nslots;
    enum cc_status st = n > MAX_ROWS ? CC_ERR_INVALID : CC_OK;
    Cc__V1__QueueReportRow *rows = calloc(n + 1, sizeof *rows);
    Cc__V1__QueueReportRow **items = calloc(n + 1, sizeof *items);
    char(*times)[2][32] = calloc(n + 1, sizeof *times);
    struct sums *sums = calloc(q->nslots, sizeof *sums);
    if (st == CC_OK && (!rows || !items || !times || !sums))
        st = CC_ERR_NOMEM;
    for (size_t i = 0; st == CC_OK && i < sc->n; i++) {
        memset(sums, 0, q->nslots * sizeof *sums);
        st = each_counter(q, 'q', sc->queues[i]->id, add_sum, sums);
        for (size_t k = 0; st == CC_OK && k < q->nslots; k++) {
            size_t at = rep.n_items++;
            fill_queue_row(&rows[at], sc->queues[i], &q->slots[k], &sums[k], times[at][0],
                           times[at][1]);
            items[at] = &rows[at];
        }
    }
    rep.items = items, rep.time_zone = q->tz;
    if (st == CC_OK)
        cc_nats_respond(q->reg->nats, m, &rep.base);
    free(rows), free(items), free(times), free(sums);
    return st;
}

/* --- agents ----------------------------------------------------------------------------------- */

/* 1 when agent `u` serves one of the scope's queues (a skill of it, or a team of it). */
static int agent_in_scope(struct query *q, const struct scope *sc, const Cc__V1__User *u)
{
    if (sc->all)
        return 1;
    for (size_t i = 0; i < sc->n; i++) {
        const Cc__V1__Queue *qu = sc->queues[i];
        const char *team = u && u->agent ? u->agent->team_id : NULL;
        redisReply *rep;
        if (team && ids_contain(qu->team_ids, qu->n_team_ids, team))
            return 1;
        if (!u || cc_redis_run(q->reg->redis, &rep, "HEXISTS " KEY_ASKILL " %s", cc_tag(), u->id,
                               qu->skill_id) != CC_OK) {
            if (u && rep)
                freeReplyObject(rep);
            continue;
        }
        int has = rep->integer == 1;
        freeReplyObject(rep);
        if (has)
            return 1;
    }
    return 0;
}

/* The agents with figures in the range (each UTC day's set). */
static enum cc_status agents_seen(struct query *q, redisReply **out)
{
    int64_t first = q->from / DAY_MS, last = (q->to - 1) / DAY_MS;
    int n = (int)(last - first + 1) + 1;
    const char **argv = calloc((size_t)n, sizeof *argv);
    char(*keys)[96] = calloc((size_t)n, sizeof *keys);
    struct cc_redis_conn *c;
    enum cc_status st = argv && keys ? cc_redis_acquire(q->reg->redis, &c) : CC_ERR_NOMEM;
    *out = NULL;
    if (st == CC_OK) {
        argv[0] = "SUNION";
        for (int i = 1; i < n; i++) {
            snprintf(keys[i], sizeof keys[i], KEY_REP_AGENTS, cc_tag(), (long long)(first + i - 1));
            argv[i] = keys[i];
        }
        st = cc_redis_cmdv(c, out, n, argv, NULL);
        cc_redis_release(q->reg->redis, c);
    }
    free(argv), free(keys);
    return st;
}

/* One agent's figures per day slot. */
struct agent_day {
    int64_t handled, handle_ms, missed;
    int64_t t[8];       /* ms per state name, by state_names */
    char causes[8][64]; /* pause causes seen */
    int64_t cause_ms[8];
    int ncauses;
};

static const char *const state_names[8] = {
    "ready", "dnd", "waiting", "offering", "busy", "post_processing", "missed", "pause"};

static void add_agent(void *arg, int slot, const char *field, int64_t v)
{
    struct agent_day *d = &((struct agent_day *)arg)[slot];
    if (!strcmp(field, "handled"))
        d->handled += v;
    else if (!strcmp(field, "handle_ms"))
        d->handle_ms += v;
    else if (!strcmp(field, "missed"))
        d->missed += v;
    if (strncmp(field, "t.", 2) != 0)
        return;
    const char *state = field + 2;
    if (!strncmp(state, "pause.", 6)) {
        int i = 0;
        while (i < d->ncauses && strcmp(d->causes[i], state + 6) != 0)
            i++;
        if (i == d->ncauses && d->ncauses < 8)
            snprintf(d->causes[d->ncauses++], sizeof d->causes[0], "%s", state + 6);
        if (i < d->ncauses)
            d->cause_ms[i] += v;
        state = "pause";
    }
    for (int k = 0; k < 8; k++)
        if (!strcmp(state, state_names[k]))
            d->t[k] += v;
}

/* The row of one agent and day; strings point into `u`, `d`, `cause_objs`. */
struct agent_row {
    Cc__V1__AgentReportRow row;
    Cc__V1__TimeIn time_in[8], *time_in_p[8];
    Cc__V1__PauseTime pauses[8], *pauses_p[8];
};

static void pause_of(struct query *q, const char *cause, const struct agent_day *d, int i,
                     Cc__V1__PauseTime *p, ProtobufCMessage **obj)
{
    cc__v1__pause_time__init(p);
    p->pause_cause_id = (char *)cause;
    p->has_seconds = p->has_limit_s = p->has_over_limit = 1;
    p->seconds = (double)d->cause_ms[i] / 1000.0;
    *obj = NULL;
    if (store_get(q->reg->redis, &kind_pause_causes.store, cause, obj) == CC_OK) {
        const Cc__V1__PauseCause *pc = (const Cc__V1__PauseCause *)*obj;
        p->name = pc->name;
        p->limit_s = (double)(pc->limit_minutes_per_day * 60);
        p->over_limit = p->limit_s > 0 && p->seconds > p->limit_s;
    }
}

static void fill_agent_row(struct query *q, struct agent_row *ar, const char *id,
                           const Cc__V1__User *u, const struct slot *sl, const struct agent_day *d,
                           char *name, ProtobufCMessage **causes)
{
    Cc__V1__AgentReportRow *row = &ar->row;
    cc__v1__agent_report_row__init(row);
    row->agent_id = (char *)id;
    if (u)
        snprintf(name, 256, "%s%s%s", u->first_name ? u->first_name : "",
                 u->first_name && u->last_name ? " " : "", u->last_name ? u->last_name : "");
    row->name = u ? (name[0] ? name : u->login) : (char *)"deleted user";
    row->has_archived = row->has_deleted = 1;
    row->archived = u && u->archived, row->deleted = !u;
    row->day = (char *)sl->day;
    for (int k = 0; k < 8; k++) {
        cc__v1__time_in__init(&ar->time_in[k]);
        ar->time_in[k].name = (char *)state_names[k];
        ar->time_in[k].has_seconds = 1, ar->time_in[k].seconds = (double)d->t[k] / 1000.0;
        ar->time_in_p[k] = &ar->time_in[k];
    }
    row->time_in = ar->time_in_p, row->n_time_in = 8;
    row->has_handled = row->has_aht_s = row->has_missed = 1;
    row->handled = d->handled, row->aht_s = avg(d->handle_ms, d->handled), row->missed = d->missed;
    for (int i = 0; i < d->ncauses; i++) {
        pause_of(q, d->causes[i], d, i, &ar->pauses[i], &causes[i]);
        ar->pauses_p[i] = &ar->pauses[i];
    }
    row->pauses = ar->pauses_p, row->n_pauses = (size_t)d->ncauses;
}

static int wanted_agent(const Cc__V1__ReportRequest *r, const char *id)
{
    return r->n_agent_ids == 0 || ids_contain(r->agent_ids, r->n_agent_ids, id);
}

/* Everything an agents report holds until it is answered. */
struct agents_out {
    Cc__V1__AgentReport rep;
    struct agent_row *rows;
    Cc__V1__AgentReportRow **items;
    ProtobufCMessage **users, **causes;
    char (*names)[256];
    struct agent_day *days; /* each row's figures: its strings point into them */
    size_t nusers, cap;
};

static void agents_out_release(struct agents_out *o)
{
    for (size_t i = 0; i < o->nusers; i++)
        if (o->users[i])
            protobuf_c_message_free_unpacked(o->users[i], NULL);
    for (size_t i = 0; i < o->rep.n_items * 8; i++)
        if (o->causes[i])
            protobuf_c_message_free_unpacked(o->causes[i], NULL);
    free(o->rows), free(o->items), free(o->users), free(o->causes), free(o->names), free(o->days);
}

/* Adds the day rows of agent `id` (those with any figure). */
static enum cc_status agent_rows(struct query *q, const struct scope *sc, const char *id,
                                 struct agents_out *o)
{
    ProtobufCMessage *u = NULL;
    enum cc_status st = store_get(q->reg->redis, &kind_users.store, id, &u);
    if (st != CC_OK && st != CC_ERR_NOT_FOUND)
        return st;
    o->users[o->nusers++] = u;
    if (!agent_in_scope(q, sc, (const Cc__V1__User *)u))
        return CC_OK;
    struct agent_day *days = calloc(q->nslots, sizeof *days);
    if (!days)
        return CC_ERR_NOMEM;
    st = each_counter(q, 'a', id, add_agent, days);
    for (size_t k = 0; st == CC_OK && k < q->nslots; k++) {
        const struct agent_day *d = &days[k];
        int64_t any = d->handled + d->missed;
        for (int i = 0; i < 8; i++)
            any += d->t[i];
        if (!any || o->rep.n_items == o->cap)
            continue;
        size_t at = o->rep.n_items++;
        o->days[at] = *d;
        fill_agent_row(q, &o->rows[at], id, (const Cc__V1__User *)u, &q->slots[k], &o->days[at],
                       o->names[at], &o->causes[at * 8]);
        o->items[at] = &o->rows[at].row;
    }
    free(days);
    return st;
}

static enum cc_status agents_report(struct query *q, const struct scope *sc,
                                    const struct cc_nats_msg *m)
{
    struct agents_out o = {.rep = CC__V1__AGENT_REPORT__INIT};
    redisReply *seen = NULL;
    enum cc_status st = agents_seen(q, &seen);
    size_t n = st == CC_OK ? seen->elements : 0;
    o.cap = n * q->nslots;
    if (o.cap > MAX_ROWS)
        st = CC_ERR_INVALID, snprintf(q->why, sizeof q->why, "too many rows: a shorter range");
    o.rows = calloc(o.cap + 1, sizeof *o.rows);
    o.items = calloc(o.cap + 1, sizeof *o.items);
    o.causes = calloc(o.cap * 8 + 1, sizeof *o.causes);
    o.names = calloc(o.cap + 1, sizeof *o.names);
    o.users = calloc(n + 1, sizeof *o.users);
    o.days = calloc(o.cap + 1, sizeof *o.days);
    if (st == CC_OK && (!o.rows || !o.items || !o.causes || !o.names || !o.users || !o.days))
        st = CC_ERR_NOMEM;
    for (size_t i = 0; st == CC_OK && i < n; i++)
        if (wanted_agent(q->req, seen->element[i]->str))
            st = agent_rows(q, sc, seen->element[i]->str, &o);
    o.rep.items = o.items, o.rep.time_zone = q->tz;
    if (st == CC_OK)
        cc_nats_respond(q->reg->nats, m, &o.rep.base);
    agents_out_release(&o);
    if (seen)
        freeReplyObject(seen);
    return st;
}

/* --- the subjects ------------------------------------------------------------------------------
 */

static void on_report(void *arg, const struct cc_nats_msg *m)
{
    struct registry *reg = arg;
    Cc__V1__ReportRequest *r = cc__v1__report_request__unpack(NULL, m->len, m->data);
    struct query q = {.reg = reg, .req = r};
    struct scope sc = {0};
    Cc__V1__Permissions *p = NULL;
    int agents = !strcmp(m->subject, SUBJ_REPORTS_AGENTS);
    char kind = 'd';
    enum cc_status st = r && r->caller ? CC_OK : CC_ERR_INVALID;
    if (st == CC_OK && !agents && !interval_kind(r->interval, &kind))
        st = CC_ERR_INVALID, snprintf(q.why, sizeof q.why, "interval: 15m, hour or day");
    if (st == CC_OK && (st = permissions_get(reg, &p)) == CC_OK)
        snprintf(q.tz, sizeof q.tz, "%s",
                 p->organisation->time_zone && *p->organisation->time_zone
                     ? p->organisation->time_zone
                     : "UTC");
    if (st == CC_OK)
        st = scope_load(&q, &sc);
    if (st == CC_OK)
        st = plan_slots(&q, agents ? 'd' : kind);
    if (st == CC_OK)
        st = agents ? agents_report(&q, &sc, m) : queues_report(&q, &sc, m);
    if (st != CC_OK)
        cc_nats_respond_error(reg->nats, m, st, q.why[0] ? q.why : NULL);
    scope_release(&sc);
    free(q.slots), free(q.slot_of);
    if (p)
        cc__v1__permissions__free_unpacked(p, NULL);
    if (r)
        cc__v1__report_request__free_unpacked(r, NULL);
}

enum cc_status reports_query_start(struct registry *reg)
{
    enum cc_status st =
        cc_nats_subscribe(reg->nats, SUBJ_REPORTS_QUEUES, "registry", on_report, reg);
    if (st == CC_OK)
        st = cc_nats_subscribe(reg->nats, SUBJ_REPORTS_AGENTS, "registry", on_report, reg);
    return st;
}

enum cc_status reports_start(struct registry *reg)
{
    enum cc_status st = reports_ingest_start(reg);
    return st == CC_OK ? reports_query_start(reg) : st;
}
