/* recmap.c - chat and call records as the CRM's fields (recmap.h). */
#include "recmap.h"
#include "cc_time.h"
#include "odata.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

static int add_str(cJSON *o, const char *name, const char *v)
{
    return !v || !v[0] || cJSON_AddStringToObject(o, name, v) ? 0 : -1;
}

/* A time as the CRM takes it, only when it parses. */
static int add_time(cJSON *o, const char *name, const char *v)
{
    int64_t ms;
    return !v || cc_time_parse_ms(v, &ms) != 0 ? 0 : add_str(o, name, v);
}

static int add_guid(cJSON *o, const char *name, const char *v)
{
    return odata_guid_valid(v) ? add_str(o, name, v) : 0;
}

static const char *chat_state(const char *s)
{
    if (!s)
        return NULL;
    return !strcmp(s, "new")           ? "New"
           : !strcmp(s, "in_progress") ? "In progress"
           : !strcmp(s, "completed")   ? "Completed"
                                       : s;
}

enum cc_status recmap_chat(const struct crm_names *n, const Cc__V1__Chat *ch, const char *result,
                           cJSON *out)
{
    const Cc__V1__ChatLinks *l = ch->links;
    char name[300], from[300];
    snprintf(name, sizeof name, "%s", ch->name && ch->name[0] ? ch->name : ch->id ? ch->id : "");
    if (ch->source && ch->from)
        snprintf(from, sizeof from, "%s:%s", ch->source, ch->from);
    else
        snprintf(from, sizeof from, "%s", ch->from ? ch->from : "");
    int bad = add_str(out, n->v[N_CHAT_EXTERNAL_ID], ch->id) |
              add_str(out, n->v[N_CHAT_NAME], name) | add_str(out, n->v[N_CHAT_FROM], from) |
              add_str(out, n->v[N_CHAT_TO], ch->to) |
              add_str(out, n->v[N_CHAT_SOURCE], ch->source) |
              add_str(out, n->v[N_CHAT_QUEUE], ch->queue_name ? ch->queue_name : ch->queue_id) |
              add_time(out, n->v[N_CHAT_START], ch->start_time ? ch->start_time : ch->created_at) |
              add_time(out, n->v[N_CHAT_END], ch->end_time) |
              add_str(out, n->v[N_CHAT_STATE], chat_state(ch->state)) |
              add_str(out, n->v[N_CHAT_RESULT], result) |
              add_str(out, n->v[N_CHAT_RESULT_DETAILS], ch->result_details);
    if (l)
        bad |= add_guid(out, n->v[N_CHAT_ACCOUNT], l->account_id) |
               add_guid(out, n->v[N_CHAT_CONTACT], l->contact_id) |
               add_guid(out, n->v[N_CHAT_ACTIVITY], l->activity_id) |
               add_guid(out, n->v[N_CHAT_CASE], l->case_id);
    return bad ? CC_ERR_NOMEM : CC_OK;
}

/* Seconds between two times, or -1 when either is missing. */
static double seconds(const char *from, const char *to)
{
    int64_t a, b;
    if (!from || !to || cc_time_parse_ms(from, &a) || cc_time_parse_ms(to, &b) || b < a)
        return -1;
    return (double)(b - a) / 1000.0;
}

static int add_int(cJSON *o, const char *name, double v)
{
    return v < 0 || cJSON_AddNumberToObject(o, name, floor(v + 0.5)) ? 0 : -1;
}

enum cc_status recmap_call(const struct crm_names *n, const Cc__V1__Call *cl, const char *result,
                           cJSON *out)
{
    char comment[1200];
    int len = snprintf(comment, sizeof comment, "%s%s%s%s", cl->outcome ? "outcome: " : "",
                       cl->outcome ? cl->outcome : "", cl->hangup_by ? "; hang-up: " : "",
                       cl->hangup_by ? cl->hangup_by : "");
    if (result || cl->result_details)
        snprintf(comment + len, sizeof comment - (size_t)len, "%sresult: %s%s%s", len ? "; " : "",
                 result ? result : "", cl->result_details ? " - " : "",
                 cl->result_details ? cl->result_details : "");
    const char *dir = cl->direction && !strcmp(cl->direction, "outbound")
                          ? n->v[N_CALL_DIRECTION_OUT]
                          : n->v[N_CALL_DIRECTION_IN];
    int bad =
        add_str(out, n->v[N_CALL_EXTERNAL_ID], cl->id) |
        add_str(out, n->v[N_CALL_CALLER], cl->from) | add_str(out, n->v[N_CALL_CALLED], cl->to) |
        add_time(out, n->v[N_CALL_START], cl->enqueued_at) |
        add_time(out, n->v[N_CALL_END], cl->ended_at) |
        add_int(out, n->v[N_CALL_DURATION], seconds(cl->enqueued_at, cl->ended_at)) |
        add_int(out, n->v[N_CALL_TALK], cl->has_talk_s ? cl->talk_s : -1) |
        add_str(out, n->v[N_CALL_DIRECTION], dir) | add_str(out, n->v[N_CALL_COMMENT], comment);
    if (cl->links)
        bad |= add_guid(out, n->v[N_CALL_CONTACT], cl->links->contact_id) |
               add_guid(out, n->v[N_CALL_ACCOUNT], cl->links->account_id);
    return bad ? CC_ERR_NOMEM : CC_OK;
}

void recmap_guid(const char *kind, const char *id, char out[37])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char h[16];
    crypto_generichash_state st;
    crypto_generichash_init(&st, (const unsigned char *)"cc-crm-record", 13, sizeof h);
    crypto_generichash_update(&st, (const unsigned char *)kind, strlen(kind) + 1);
    crypto_generichash_update(&st, (const unsigned char *)id, strlen(id));
    crypto_generichash_final(&st, h, sizeof h);
    h[6] = (h[6] & 0x0f) | 0x80; /* version 8: application-defined */
    h[8] = (h[8] & 0x3f) | 0x80;
    for (int i = 0, o = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[h[i] >> 4], out[o++] = hex[h[i] & 15];
    }
    out[36] = 0;
}
