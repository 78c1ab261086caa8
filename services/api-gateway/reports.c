/* reports.c - historical reports over HTTP: the query becomes a
 * cc.v1.ReportRequest for agent-registry, which checks the range and the
 * caller's scope; the answer is the report as JSON, or one CSV line per row
 * (Accept: text/csv) with the same columns as the JSON members. */
#include "reports.h"
#include "auth.h"
#include "cc/v1/reports.pb-c.h"
#include "cc_buf.h"
#include "forward.h"
#include "gateway.h"
#include "cc_log.h"
#include "cc_subjects.h"

#include <stdio.h>
#include <string.h>

#define MAX_IDS 64

/* The repeated ?<name>= values (comma-separated) into ids[], at most MAX_IDS. */
static size_t ids_of(struct cc_http_req *req, const char *name, char **ids)
{
    const char *v = cc_http_query(req, name);
    size_t n = 0;
    char *copy = v ? cc_pool_strdup(req->pool, v) : NULL, *save = NULL;
    for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t && n < MAX_IDS;
         t = strtok_r(NULL, ",", &save))
        ids[n++] = t;
    return n;
}

static int wants_csv(struct cc_http_req *req)
{
    const char *a = cc_http_header(req, "Accept");
    const char *f = cc_http_query(req, "format");
    return (a && strstr(a, "text/csv")) || (f && !strcmp(f, "csv"));
}

/* A CSV field: quoted when it holds a comma, quote or line break. */
static void csv_str(struct cc_buf *b, const char *s, int last)
{
    s = s ? s : "";
    if (strpbrk(s, ",\"\r\n")) {
        (void)cc_buf_add(b, "\"", 1);
        for (; *s; s++) { /* a quote inside is doubled */
            (void)cc_buf_add(b, s, 1);
            if (*s == '"')
                (void)cc_buf_add(b, "\"", 1);
        }
        (void)cc_buf_add(b, "\"", 1);
    } else {
        (void)cc_buf_add(b, s, strlen(s));
    }
    (void)cc_buf_add(b, last ? "\r\n" : ",", last ? 2 : 1);
}

static void csv_num(struct cc_buf *b, double v, int last)
{
    char n[48];
    snprintf(n, sizeof n, "%.10g", v);
    csv_str(b, n, last);
}

static void queues_csv(const Cc__V1__QueueReport *r, struct cc_buf *b)
{
    static const char head[] = "queue_id,queue_name,start,end,local_start,offered,answered,"
                               "abandoned,timed_out,answered_within,service_level_s,"
                               "service_level,asa_s,aht_s,longest_wait_s,transfers,callbacks\r\n";
    (void)cc_buf_add(b, head, sizeof head - 1);
    for (size_t i = 0; i < r->n_items; i++) {
        const Cc__V1__QueueReportRow *w = r->items[i];
        csv_str(b, w->queue_id, 0), csv_str(b, w->queue_name, 0), csv_str(b, w->start, 0);
        csv_str(b, w->end, 0), csv_str(b, w->local_start, 0);
        csv_num(b, (double)w->offered, 0), csv_num(b, (double)w->answered, 0);
        csv_num(b, (double)w->abandoned, 0), csv_num(b, (double)w->timed_out, 0);
        csv_num(b, (double)w->answered_within, 0), csv_num(b, (double)w->service_level_s, 0);
        csv_num(b, w->service_level, 0), csv_num(b, w->asa_s, 0), csv_num(b, w->aht_s, 0);
        csv_num(b, w->longest_wait_s, 0), csv_num(b, (double)w->transfers, 0);
        csv_num(b, (double)w->callbacks, 1);
    }
}

/* Agents: one column per state (time_in), then pause seconds per cause. */
static void agents_csv(const Cc__V1__AgentReport *r, struct cc_buf *b)
{
    static const char head[] = "agent_id,name,archived,deleted,day,handled,aht_s,missed";
    char col[160];
    (void)cc_buf_add(b, head, sizeof head - 1);
    const Cc__V1__AgentReportRow *first = r->n_items ? r->items[0] : NULL;
    for (size_t k = 0; first && k < first->n_time_in; k++) {
        snprintf(col, sizeof col, ",%s_s", first->time_in[k]->name);
        (void)cc_buf_add(b, col, strlen(col));
    }
    (void)cc_buf_add(b, ",pauses\r\n", 9);
    for (size_t i = 0; i < r->n_items; i++) {
        const Cc__V1__AgentReportRow *w = r->items[i];
        struct cc_buf p = CC_BUF_INIT;
        csv_str(b, w->agent_id, 0), csv_str(b, w->name, 0);
        csv_str(b, w->archived ? "true" : "false", 0), csv_str(b, w->deleted ? "true" : "false", 0);
        csv_str(b, w->day, 0), csv_num(b, (double)w->handled, 0), csv_num(b, w->aht_s, 0);
        csv_num(b, (double)w->missed, 0);
        for (size_t k = 0; k < w->n_time_in; k++)
            csv_num(b, w->time_in[k]->seconds, 0);
        for (size_t k = 0; k < w->n_pauses; k++) { /* "cause=seconds/limit;..." */
            snprintf(col, sizeof col, "%s%s=%.0f/%.0f", k ? ";" : "",
                     w->pauses[k]->name ? w->pauses[k]->name : w->pauses[k]->pause_cause_id,
                     w->pauses[k]->seconds, w->pauses[k]->limit_s);
            (void)cc_buf_add(&p, col, strlen(col));
        }
        (void)cc_buf_add(&p, "", 1);
        csv_str(b, p.data, 1);
        cc_buf_release(&p);
    }
}

/* A JSON string member, or null when absent. */
static void json_str(struct cc_buf *b, const char *name, const char *v, int first)
{
    char esc[1024];
    if (!v) {
        (void)cc_buf_addf(b, "%s\"%s\":null", first ? "" : ",", name);
        return;
    }
    cc_json_escape(esc, sizeof esc, v);
    (void)cc_buf_addf(b, "%s\"%s\":\"%s\"", first ? "" : ",", name, esc);
}

/* The queues report as JSON, written directly: the same members as the
 * generic protobuf mapping, without its cost on thousands of rows. */
static void queues_json(const Cc__V1__QueueReport *r, struct cc_buf *b)
{
    (void)cc_buf_add(b, "{\"items\":[", 10);
    for (size_t i = 0; i < r->n_items; i++) {
        const Cc__V1__QueueReportRow *w = r->items[i];
        (void)cc_buf_add(b, i ? ",{" : "{", i ? 2 : 1);
        json_str(b, "queue_id", w->queue_id, 1), json_str(b, "queue_name", w->queue_name, 0);
        json_str(b, "start", w->start, 0), json_str(b, "end", w->end, 0);
        json_str(b, "local_start", w->local_start, 0);
        (void)cc_buf_addf(b,
                          ",\"offered\":%lld,\"answered\":%lld,\"abandoned\":%lld,"
                          "\"timed_out\":%lld,\"answered_within\":%lld,\"service_level_s\":%lld,"
                          "\"service_level\":%.17g,\"asa_s\":%.17g,\"aht_s\":%.17g,"
                          "\"longest_wait_s\":%.17g,\"transfers\":%lld,\"callbacks\":%lld}",
                          (long long)w->offered, (long long)w->answered, (long long)w->abandoned,
                          (long long)w->timed_out, (long long)w->answered_within,
                          (long long)w->service_level_s, w->service_level, w->asa_s, w->aht_s,
                          w->longest_wait_s, (long long)w->transfers, (long long)w->callbacks);
    }
    (void)cc_buf_add(b, "]", 1);
    json_str(b, "time_zone", r->time_zone, 0);
    (void)cc_buf_add(b, "}", 1);
}

static void report(void *arg, struct cc_http_req *req, struct cc_http_resp *resp, int agents)
{
    const struct gw_route *rt = arg;
    Cc__V1__Caller caller;
    Cc__V1__ReportRequest r = CC__V1__REPORT_REQUEST__INIT;
    char *queues[MAX_IDS], *ids[MAX_IDS];
    ProtobufCMessage *rep = NULL;
    if (auth_require(rt->gw, req, resp, &caller) != CC_OK)
        return;
    r.caller = &caller;
    r.from = CC_PB_STR(cc_http_query(req, "from")), r.to = CC_PB_STR(cc_http_query(req, "to"));
    r.interval = CC_PB_STR(cc_http_query(req, "interval"));
    r.n_queue_ids = ids_of(req, "queue_id", queues), r.queue_ids = queues;
    r.n_agent_ids = ids_of(req, "agent_id", ids), r.agent_ids = ids;
    const ProtobufCMessageDescriptor *d =
        agents ? &cc__v1__agent_report__descriptor : &cc__v1__queue_report__descriptor;
    if (forward_request(rt->gw, agents ? SUBJ_REPORTS_AGENTS : SUBJ_REPORTS_QUEUES, &r.base, d,
                        &rep, resp) != CC_OK)
        return;
    if (wants_csv(req)) {
        struct cc_buf b = CC_BUF_INIT;
        if (agents)
            agents_csv((const Cc__V1__AgentReport *)rep, &b);
        else
            queues_csv((const Cc__V1__QueueReport *)rep, &b);
        cc_http_text(resp, 200, "text/csv; charset=utf-8", b.data ? b.data : "", b.len);
        cc_http_add_header(req, resp, "Content-Disposition",
                           agents ? "attachment; filename=\"agents-report.csv\""
                                  : "attachment; filename=\"queues-report.csv\"");
        cc_buf_release(&b);
    } else if (!agents) {
        struct cc_buf b = CC_BUF_INIT;
        queues_json((const Cc__V1__QueueReport *)rep, &b);
        if (b.data)
            cc_http_text(resp, 200, "application/json", b.data, b.len);
        else
            cc_http_error(resp, CC_ERR_NOMEM, NULL);
        cc_buf_release(&b);
    } else {
        cJSON *j = forward_json(rep);
        if (j)
            cc_http_json(resp, 200, j);
        else
            cc_http_error(resp, CC_ERR_NOMEM, NULL);
    }
    protobuf_c_message_free_unpacked(rep, NULL);
}

void reports_queues(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    report(arg, req, resp, 0);
}

void reports_agents(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    report(arg, req, resp, 1);
}
