/* identify.c - who the customer is, from the CRM: cc.crm.identify for a
 * new chat or call (by the channel's customer id in a configurable object
 * and field, then by the last N digits of the phone through Creatio's
 * reversed SearchNumber) and cc.crm.contacts.search for staff (name, email
 * or phone). 0, 1 or many contacts (at most MAX_CONTACTS), each with its
 * account's name and a link to the CRM's UI. */
#include "crm.h"
#include "cc_log.h"
#include "cc_pbjson.h"
#include "odata.h"
#include "webhook.h"
#include "cc_subjects.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CONTACTS 20
#define MIN_PHONE_DIGITS 5
#define WORKERS 4

/* Distinct contact ids found so far. */
struct found {
    char id[MAX_CONTACTS][37];
    int n;
};

static void found_add(struct found *f, const char *id)
{
    for (int i = 0; i < f->n; i++)
        if (!strcmp(f->id[i], id))
            return;
    if (id && f->n < MAX_CONTACTS && odata_guid_valid(id))
        snprintf(f->id[f->n++], sizeof f->id[0], "%s", id);
}

/* GETs `object` rows matching `filter` and adds their `field` (a contact id). */
static enum cc_status ids_where(struct crm_conf *conf, const char *object, const char *filter,
                                const char *field, struct found *f, char *why, size_t cap)
{
    struct cc_buf path = CC_BUF_INIT;
    struct creatio_answer a = {0};
    cJSON *rows = NULL, *row;
    char top[8];
    snprintf(top, sizeof top, "%d", MAX_CONTACTS * 2);
    enum cc_status st = CC_ERR_NOMEM;
    if (cc_buf_adds(&path, object) == CC_OK && odata_query(&path, "$filter", filter) == CC_OK &&
        odata_query(&path, "$select", field) == CC_OK && odata_query(&path, "$top", top) == CC_OK)
        st = creatio_list(conf->creatio, path.data, 0, MAX_CONTACTS * 2, &rows, &a);
    if (st == CC_OK)
        cJSON_ArrayForEach(row, rows) found_add(f, odata_guid(row, field));
    else
        snprintf(why, cap, "%s: %s", object, a.error[0] ? a.error : cc_status_str(st));
    cJSON_Delete(rows);
    creatio_answer_release(&a);
    cc_buf_release(&path);
    return st;
}

/* Contacts whose numbers end with the phone's last digits. */
static enum cc_status by_phone(struct crm_conf *conf, const char *phone, struct found *f, char *why,
                               size_t cap)
{
    char rev[32];
    struct cc_buf filter = CC_BUF_INIT;
    if (odata_reverse_digits(phone, (int)conf->s->phone_digits, MIN_PHONE_DIGITS, rev, sizeof rev) <
        0)
        return CC_OK;
    enum cc_status st = CC_ERR_NOMEM;
    if (cc_buf_addf(&filter, "startswith(%s,", CRM_NAME(conf, N_PHONE_FIELD)) == CC_OK &&
        odata_quote(&filter, rev) == CC_OK && cc_buf_adds(&filter, ")") == CC_OK)
        st = ids_where(conf, CRM_NAME(conf, N_PHONE_OBJECT), filter.data,
                       CRM_NAME(conf, N_PHONE_CONTACT), f, why, cap);
    cc_buf_release(&filter);
    return st;
}

/* Contacts linked to the customer's id in the channel. */
static enum cc_status by_channel_id(struct crm_conf *conf, const char *customer_id, struct found *f,
                                    char *why, size_t cap)
{
    struct cc_buf filter = CC_BUF_INIT;
    enum cc_status st = CC_ERR_NOMEM;
    if (cc_buf_addf(&filter, "%s eq ", CRM_NAME(conf, N_IDENT_FIELD)) == CC_OK &&
        odata_quote(&filter, customer_id) == CC_OK)
        st = ids_where(conf, CRM_NAME(conf, N_IDENT_OBJECT), filter.data,
                       CRM_NAME(conf, N_IDENT_CONTACT), f, why, cap);
    cc_buf_release(&filter);
    return st;
}

/* Staff search: name or email contains q; or a phone. */
static enum cc_status by_text(struct crm_conf *conf, const char *q, struct found *f, char *why,
                              size_t cap)
{
    struct cc_buf filter = CC_BUF_INIT;
    int digits = 0;
    for (const char *p = q; *p; p++)
        digits += isdigit((unsigned char)*p) != 0;
    enum cc_status st = CC_ERR_NOMEM;
    if (cc_buf_addf(&filter, "contains(%s,", CRM_NAME(conf, N_CONTACT_NAME)) == CC_OK &&
        odata_quote(&filter, q) == CC_OK &&
        cc_buf_addf(&filter, ") or contains(%s,", CRM_NAME(conf, N_CONTACT_EMAIL)) == CC_OK &&
        odata_quote(&filter, q) == CC_OK && cc_buf_adds(&filter, ")") == CC_OK)
        st = ids_where(conf, CRM_NAME(conf, N_CONTACT_OBJECT), filter.data, "Id", f, why, cap);
    cc_buf_release(&filter);
    if (st == CC_OK && digits >= MIN_PHONE_DIGITS)
        st = by_phone(conf, q, f, why, cap);
    return st;
}

/* "Id eq a or Id eq b" of the ids. */
static enum cc_status id_filter(struct cc_buf *b, char ids[][37], int n)
{
    for (int i = 0; i < n; i++)
        if (cc_buf_addf(b, "%sId eq %s", i ? " or " : "", ids[i]) != CC_OK)
            return CC_ERR_NOMEM;
    return CC_OK;
}

static char *dup_str(const cJSON *o, const char *name)
{
    const char *s = odata_str(o, name, 1024);
    return s && s[0] ? strdup(s) : NULL;
}

void identify_account_names(struct crm_conf *conf, Cc__V1__ContactList *l)
{
    char ids[MAX_CONTACTS][37];
    struct cc_buf path = CC_BUF_INIT, filter = CC_BUF_INIT;
    struct creatio_answer a = {0};
    cJSON *rows = NULL, *row;
    int n = 0;
    for (size_t i = 0; i < l->n_items; i++)
        if (l->items[i]->account_id)
            snprintf(ids[n++], sizeof ids[0], "%s", l->items[i]->account_id);
    char sel[80];
    snprintf(sel, sizeof sel, "Id,%s", CRM_NAME(conf, N_ACCOUNT_NAME));
    if (n && id_filter(&filter, ids, n) == CC_OK &&
        cc_buf_adds(&path, CRM_NAME(conf, N_ACCOUNT_OBJECT)) == CC_OK &&
        odata_query(&path, "$filter", filter.data) == CC_OK &&
        odata_query(&path, "$select", sel) == CC_OK &&
        creatio_list(conf->creatio, path.data, 0, MAX_CONTACTS, &rows, &a) == CC_OK)
        cJSON_ArrayForEach(row, rows)
        {
            const char *id = odata_guid(row, "Id");
            for (size_t i = 0; id && i < l->n_items; i++)
                if (l->items[i]->account_id && !strcmp(l->items[i]->account_id, id) &&
                    !l->items[i]->account_name)
                    l->items[i]->account_name = dup_str(row, CRM_NAME(conf, N_ACCOUNT_NAME));
        }
    cJSON_Delete(rows);
    creatio_answer_release(&a);
    cc_buf_release(&path);
    cc_buf_release(&filter);
}

Cc__V1__Contact *identify_contact(struct crm_conf *conf, const cJSON *row)
{
    char url[1024];
    Cc__V1__Contact *ct = malloc(sizeof *ct);
    if (!ct)
        return NULL;
    cc__v1__contact__init(ct);
    ct->id = dup_str(row, "Id"), ct->name = dup_str(row, CRM_NAME(conf, N_CONTACT_NAME));
    const char *acc = odata_guid(row, CRM_NAME(conf, N_CONTACT_ACCOUNT));
    ct->account_id = acc ? strdup(acc) : NULL;
    ct->phone = dup_str(row, CRM_NAME(conf, N_CONTACT_MOBILE));
    if (!ct->phone)
        ct->phone = dup_str(row, CRM_NAME(conf, N_CONTACT_PHONE));
    ct->email = dup_str(row, CRM_NAME(conf, N_CONTACT_EMAIL));
    settings_ui_url(conf, CRM_NAME(conf, N_CONTACT_OBJECT), ct->id, url, sizeof url);
    ct->url = url[0] ? strdup(url) : NULL;
    return ct;
}

/* The contacts of `f` with their fields, into a new list. */
static enum cc_status details(struct crm_conf *conf, struct found *f, Cc__V1__ContactList *l,
                              char *why, size_t cap)
{
    struct cc_buf path = CC_BUF_INIT, filter = CC_BUF_INIT, sel = CC_BUF_INIT;
    struct creatio_answer a = {0};
    cJSON *rows = NULL, *row;
    enum cc_status st = CC_ERR_NOMEM;
    if (!f->n)
        return CC_OK;
    if (id_filter(&filter, f->id, f->n) != CC_OK ||
        cc_buf_addf(&sel, "Id,%s,%s,%s,%s,%s", CRM_NAME(conf, N_CONTACT_NAME),
                    CRM_NAME(conf, N_CONTACT_ACCOUNT), CRM_NAME(conf, N_CONTACT_PHONE),
                    CRM_NAME(conf, N_CONTACT_MOBILE), CRM_NAME(conf, N_CONTACT_EMAIL)) != CC_OK ||
        cc_buf_adds(&path, CRM_NAME(conf, N_CONTACT_OBJECT)) != CC_OK ||
        odata_query(&path, "$filter", filter.data) != CC_OK ||
        odata_query(&path, "$select", sel.data) != CC_OK)
        goto out;
    st = creatio_list(conf->creatio, path.data, 0, MAX_CONTACTS, &rows, &a);
    if (st != CC_OK) {
        snprintf(why, cap, "contacts: %s", a.error[0] ? a.error : cc_status_str(st));
        goto out;
    }
    l->items = calloc(MAX_CONTACTS, sizeof *l->items);
    cJSON_ArrayForEach(row, rows)
    {
        if (!l->items || l->n_items == MAX_CONTACTS || !odata_guid(row, "Id"))
            continue;
        if ((l->items[l->n_items] = identify_contact(conf, row)))
            l->n_items++;
    }
    identify_account_names(conf, l);
out:
    cJSON_Delete(rows);
    creatio_answer_release(&a);
    cc_buf_release(&path);
    cc_buf_release(&filter);
    cc_buf_release(&sel);
    return st;
}

/* The generic adapter: the receiver answers {"items":[Contact...]}. */
static enum cc_status ask_webhook(struct crm_conf *conf, const Cc__V1__ContactQuery *q,
                                  Cc__V1__ContactList **out, char *why, size_t cap)
{
    Cc__V1__ContactQuery bare = *q;
    bare.caller = NULL;
    cJSON *ev = cJSON_CreateObject(), *query = cc_pbjson_to_json(&bare.base, 0), *ans = NULL;
    char *text = NULL, *answer = NULL;
    enum cc_status st = CC_ERR_NOMEM;
    if (ev && query && cJSON_AddStringToObject(ev, "event", "identify") &&
        cJSON_AddItemToObject(ev, "query", query) &&
        (query = NULL, text = cJSON_PrintUnformatted(ev)))
        st = webhook_post(conf, "identify", text, &answer, why, cap);
    if (st == CC_OK) {
        ans = answer ? cJSON_Parse(answer) : NULL;
        ProtobufCMessage *m = NULL;
        st = cc_pbjson_from_json(&cc__v1__contact_list__descriptor, ans, &m, why, cap);
        *out = (Cc__V1__ContactList *)m;
        while (st == CC_OK && (*out)->n_items > MAX_CONTACTS) /* a hostile list is cut */
            cc__v1__contact__free_unpacked((*out)->items[--(*out)->n_items], NULL);
    }
    cJSON_Delete(ans), cJSON_Delete(query), cJSON_Delete(ev);
    free(text), free(answer);
    return st;
}

enum cc_status identify_find(struct crm *c, struct crm_conf *conf, const Cc__V1__ContactQuery *q,
                             Cc__V1__ContactList **out, char *why, size_t cap)
{
    struct found f = {.n = 0};
    enum cc_status st = CC_OK;
    (void)c;
    *out = NULL;
    if (conf->type == CRM_WEBHOOK)
        return ask_webhook(conf, q, out, why, cap);
    if (!(*out = malloc(sizeof **out)))
        return CC_ERR_NOMEM;
    cc__v1__contact_list__init(*out);
    if (conf->type == CRM_NONE)
        return CC_OK;
    if (q->q && q->q[0])
        st = by_text(conf, q->q, &f, why, cap);
    else if (q->customer_id && q->customer_id[0])
        st = by_channel_id(conf, q->customer_id, &f, why, cap);
    if (st == CC_OK && !f.n && !(q->q && q->q[0]) && q->phone && q->phone[0])
        st = by_phone(conf, q->phone, &f, why, cap);
    if (st == CC_OK)
        st = details(conf, &f, *out, why, cap);
    if (st != CC_OK) {
        cc__v1__contact_list__free_unpacked(*out, NULL);
        *out = NULL;
    }
    return st;
}

/* cc.crm.identify (services) and cc.crm.contacts.search (staff). */
static void on_query(void *arg, const struct cc_nats_msg *m)
{
    struct crm *c = arg;
    char why[256] = "";
    Cc__V1__ContactList *l = NULL;
    Cc__V1__ContactQuery *q = cc__v1__contact_query__unpack(NULL, m->len, m->data);
    int staff = strstr(m->subject, "search") != NULL;
    enum cc_status st = !q                                          ? CC_ERR_INVALID
                        : staff && (!q->caller || !q->caller->role) ? CC_ERR_FORBIDDEN
                        : staff && (!q->q || strlen(q->q) < 2 || strlen(q->q) > 200)
                            ? CC_ERR_INVALID
                            : CC_OK;
    if (st == CC_ERR_INVALID && q)
        snprintf(why, sizeof why, "q: 2..200 characters");
    if (st == CC_OK) {
        struct crm_conf *conf = settings_get(c);
        st = identify_find(c, conf, q, &l, why, sizeof why);
        settings_put(conf);
    }
    if (st == CC_OK && cc_nats_respond(c->nats, m, &l->base) != CC_OK)
        CC_WARN("crm: contacts answer not sent");
    if (st != CC_OK) {
        CC_WARN("crm: %s: %s", m->subject, why[0] ? why : cc_status_str(st));
        (void)cc_nats_respond_error(
            c->nats, m, st == CC_ERR_FORBIDDEN || st == CC_ERR_INVALID ? st : CC_ERR_UNAVAILABLE,
            why[0] ? why : NULL);
    }
    if (l)
        cc__v1__contact_list__free_unpacked(l, NULL);
    if (q)
        cc__v1__contact_query__free_unpacked(q, NULL);
}

enum cc_status identify_start(struct crm *c)
{
    enum cc_status st = CC_OK;
    for (int i = 0; i < WORKERS && st == CC_OK; i++) {
        st = cc_nats_subscribe(c->nats, SUBJ_CRM_IDENTIFY, "crm-sync", on_query, c);
        if (st == CC_OK)
            st = cc_nats_subscribe(c->nats, SUBJ_CRM_CONTACTS_SEARCH, "crm-sync", on_query, c);
    }
    return st;
}
