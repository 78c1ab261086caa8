/* provider_whatsapp.c - WhatsApp Cloud API (developers.facebook.com/docs/whatsapp/cloud-api).
 *
 * A webhook body is {"object":"whatsapp_business_account","entry":[{"changes":
 * [{"field":"messages","value":{...}}]}]}; a value holds customer messages
 * (with the senders' profiles in "contacts") and statuses of ours. Media come
 * as ids: GET /<version>/<media id> answers a short-lived URL, fetched with
 * the same bearer token. Sending is POST /<version>/<phone_number_id>/messages.
 * The Graph API error shape is shared with Messenger (provider__meta_error). */
#include "provider_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WHERE_MAX 96

static const struct {
    const char *type;
    enum provider_attachment_type kind;
} media_types[] = {
    {"image", PROVIDER_ATTACHMENT_IMAGE},     {"document", PROVIDER_ATTACHMENT_DOCUMENT},
    {"audio", PROVIDER_ATTACHMENT_AUDIO},     {"video", PROVIDER_ATTACHMENT_VIDEO},
    {"sticker", PROVIDER_ATTACHMENT_STICKER},
};

/* The profile name of wa_id among the value's contacts. */
static const char *profile_name(const cJSON *contacts, const char *wa_id)
{
    const cJSON *ct;
    cJSON_ArrayForEach(ct, contacts)
    {
        const char *id = provider__str(ct, "wa_id");
        if (id && strcmp(id, wa_id) == 0)
            return provider__str(provider__obj(ct, "profile"), "name");
    }
    return NULL;
}

/* A media message's object ({"id", "mime_type", "caption", "filename"}) into `ev`. */
static enum cc_status media_content(struct provider__ctx *c, struct provider_event *ev,
                                    const cJSON *media, enum provider_attachment_type kind,
                                    const char *where)
{
    const char *id = provider__str(media, "id");
    char field[WHERE_MAX + 96];
    if (!id || !*id) {
        snprintf(field, sizeof field, "%s.id", where);
        return provider__bad(c, field, "expected a media id");
    }
    struct provider_attachment *a = provider__attachments(c, ev, 1);
    if (!a)
        return CC_OK;
    a->type = kind;
    a->ref = provider__dup(c, id);
    a->mime = provider__dup(c, provider__str(media, "mime_type"));
    a->name = provider__dup(c, provider__str(media, "filename"));
    a->size = -1;
    ev->n_attachments = 1;
    ev->text = provider__dup(c, provider__str(media, "caption"));
    return CC_OK;
}

/* The title of a button or list reply. */
static const char *reply_title(const cJSON *m)
{
    const cJSON *in = provider__obj(m, "interactive");
    const char *t = provider__str(provider__obj(in, "button_reply"), "title");
    if (!t)
        t = provider__str(provider__obj(in, "list_reply"), "title");
    if (!t)
        t = provider__str(provider__obj(m, "button"), "text");
    return t;
}

static enum cc_status content(struct provider__ctx *c, struct provider_event *ev, const cJSON *m,
                              const char *type, const char *where)
{
    char field[WHERE_MAX + 64];
    if (strcmp(type, "text") == 0) {
        const char *body = provider__str(provider__obj(m, "text"), "body");
        snprintf(field, sizeof field, "%s.text.body", where);
        if (!body)
            return provider__bad(c, field, "expected a string");
        ev->text = provider__dup(c, body);
        return CC_OK;
    }
    for (size_t i = 0; i < sizeof media_types / sizeof media_types[0]; i++) {
        if (strcmp(type, media_types[i].type) != 0)
            continue;
        snprintf(field, sizeof field, "%s.%s", where, type);
        return media_content(c, ev, provider__obj(m, type), media_types[i].kind, field);
    }
    if ((strcmp(type, "button") == 0 || strcmp(type, "interactive") == 0) && reply_title(m)) {
        ev->text = provider__dup(c, reply_title(m));
        return CC_OK;
    }
    /* "system" (the customer changed number) and "request_welcome" carry nothing to show. */
    ev->kind = strcmp(type, "system") == 0 || strcmp(type, "request_welcome") == 0
                   ? PROVIDER_EVENT_IGNORED
                   : PROVIDER_EVENT_UNSUPPORTED;
    ev->note = provider__printf(c, "whatsapp: %.64s", type);
    return CC_OK;
}

static enum cc_status inbound(struct provider__ctx *c, const cJSON *m, const cJSON *contacts,
                              const char *where)
{
    const char *from = provider__str(m, "from"), *id = provider__str(m, "id");
    const char *type = provider__str(m, "type");
    char field[WHERE_MAX + 64];
    int64_t ts = 0;
    struct provider_event *ev;
    snprintf(field, sizeof field, "%s.%s", where,
             !cJSON_IsObject(m) ? ""
             : !from || !*from  ? "from"
             : !id || !*id      ? "id"
                                : "type");
    if (!cJSON_IsObject(m) || !from || !*from || !id || !*id || !type)
        return provider__bad(c, field, "expected a string");
    enum cc_status st = provider__event(c, PROVIDER_EVENT_MESSAGE, &ev);
    if (st != CC_OK)
        return st;
    ev->provider_message_id = provider__dup(c, id);
    ev->conversation = provider__dup(c, from);
    ev->customer_phone = ev->conversation;
    ev->customer_name = provider__dup(c, profile_name(contacts, from));
    ev->timestamp_ms = provider__int_str(m, "timestamp", &ts) ? ts * 1000 : 0;
    return content(c, ev, m, type, where);
}

/* errors[0] of a failed status: "title: details", or what there is of it. */
static const char *status_reason(struct provider__ctx *c, const cJSON *s)
{
    const cJSON *e = cJSON_GetArrayItem(provider__arr(s, "errors"), 0);
    const char *title = provider__str(e, "title");
    const char *details = provider__str(provider__obj(e, "error_data"), "details");
    if (!details)
        details = provider__str(e, "message");
    if (title && details && strcmp(title, details) != 0)
        return provider__printf(c, "%s: %s", title, details);
    return provider__dup(c, title ? title : details);
}

static enum cc_status status(struct provider__ctx *c, const cJSON *s, const char *where)
{
    const char *id = provider__str(s, "id"), *status = provider__str(s, "status");
    const char *to = provider__str(s, "recipient_id");
    char field[WHERE_MAX + 64];
    int64_t ts = 0;
    struct provider_event *ev;
    enum provider_receipt which = PROVIDER_RECEIPT_NONE;
    snprintf(field, sizeof field, "%s.%s", where, !id || !*id ? "id" : "status");
    if (!id || !*id || !status)
        return provider__bad(c, field, "expected a string");
    if (strcmp(status, "delivered") == 0)
        which = PROVIDER_RECEIPT_DELIVERED;
    else if (strcmp(status, "read") == 0)
        which = PROVIDER_RECEIPT_READ;
    else if (strcmp(status, "failed") == 0)
        which = PROVIDER_RECEIPT_FAILED;
    else /* "sent": the gateway knew it from the send answer */
        return provider__note(c, PROVIDER_EVENT_IGNORED, to, "whatsapp: status %.32s", status);
    enum cc_status st = provider__event(c, PROVIDER_EVENT_RECEIPT, &ev);
    if (st != CC_OK)
        return st;
    ev->receipt = which;
    ev->provider_message_id = provider__dup(c, id);
    ev->conversation = provider__dup(c, to);
    ev->timestamp_ms = provider__int_str(s, "timestamp", &ts) ? ts * 1000 : 0;
    if (which == PROVIDER_RECEIPT_FAILED)
        ev->text = status_reason(c, s);
    return CC_OK;
}

/* One change's value: its messages, then its statuses. */
static enum cc_status value(struct provider__ctx *c, const cJSON *v, const char *where)
{
    const cJSON *contacts = provider__arr(v, "contacts"), *messages = provider__arr(v, "messages");
    const cJSON *statuses = provider__arr(v, "statuses"), *it;
    char at[WHERE_MAX + 32];
    int i = 0;
    if (!messages && !statuses)
        return provider__note(c, PROVIDER_EVENT_IGNORED, NULL, "whatsapp: no messages or statuses");
    cJSON_ArrayForEach(it, messages)
    {
        snprintf(at, sizeof at, "%s.messages[%d]", where, i++);
        enum cc_status st = inbound(c, it, contacts, at);
        if (st != CC_OK)
            return st;
    }
    i = 0;
    cJSON_ArrayForEach(it, statuses)
    {
        snprintf(at, sizeof at, "%s.statuses[%d]", where, i++);
        enum cc_status st =
            cJSON_IsObject(it) ? status(c, it, at) : provider__bad(c, at, "expected an object");
        if (st != CC_OK)
            return st;
    }
    return CC_OK;
}

static enum cc_status entry(struct provider__ctx *c, const cJSON *e, int ei)
{
    const cJSON *changes = provider__arr(e, "changes"), *ch;
    char where[WHERE_MAX];
    int i = 0;
    snprintf(where, sizeof where, "entry[%d].changes", ei);
    if (!changes)
        return provider__bad(c, where, "expected an array");
    cJSON_ArrayForEach(ch, changes)
    {
        const char *field = provider__str(ch, "field");
        const cJSON *v = provider__obj(ch, "value");
        enum cc_status st;
        snprintf(where, sizeof where, "entry[%d].changes[%d].value", ei, i++);
        if (field && strcmp(field, "messages") != 0)
            st = provider__note(c, PROVIDER_EVENT_IGNORED, NULL, "whatsapp: field %.64s", field);
        else
            st = v ? value(c, v, where) : provider__bad(c, where, "expected an object");
        if (st != CC_OK)
            return st;
    }
    return CC_OK;
}

static enum cc_status parse(struct provider__ctx *c, const cJSON *root)
{
    const char *object = provider__str(root, "object");
    const cJSON *entries = provider__arr(root, "entry"), *e;
    int i = 0;
    if (!object || strcmp(object, "whatsapp_business_account") != 0)
        return provider__bad(c, "object", "expected \"whatsapp_business_account\"");
    if (!entries)
        return provider__bad(c, "entry", "expected an array");
    cJSON_ArrayForEach(e, entries)
    {
        enum cc_status st = entry(c, e, i++);
        if (st != CC_OK)
            return st;
    }
    return CC_OK;
}

/* --- Graph API answers (shared with Messenger) -------------------------------------------------
 */

/* Graph API error codes that pass with time: 1 unknown, 2 service, 4, 17,
 * 341 and 613 call limits, 80007 and 130429 rate limits, 131000 something
 * went wrong, 131016 service unavailable, 131048 spam rate limit, 131056
 * pair rate limit, 133004 server temporarily unavailable. */
static int transient_code(int64_t code)
{
    static const int64_t codes[] = {1,      2,      4,      17,     341,    613,   80007,
                                    130429, 131000, 131016, 131048, 131056, 133004};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (code == codes[i])
            return 1;
    return 0;
}

void provider__meta_error(const cJSON *root, struct provider_send_result *out)
{
    const cJSON *err = provider__obj(root, "error");
    const char *msg = provider__str(err, "message");
    const char *details = provider__str(provider__obj(err, "error_data"), "details");
    char reason[PROVIDER_REASON_MAX];
    int64_t code;
    enum provider_send_status st = out->status;
    if (!err)
        return;
    if (cJSON_IsTrue(cJSON_GetObjectItem(err, "is_transient")) ||
        (provider__int(err, "code", &code) && transient_code(code)))
        st = PROVIDER_SEND_TRANSIENT;
    else if (st == PROVIDER_SEND_OK)
        st = PROVIDER_SEND_PERMANENT;
    if (msg && details && !strstr(msg, details))
        snprintf(reason, sizeof reason, "%s: %s", msg, details);
    else
        snprintf(reason, sizeof reason, "%s", msg ? msg : details ? details : "");
    provider__result(out, st, NULL, reason);
}

/* --- sending ---------------------------------------------------------------------------------- */

enum cc_status provider__bearer(struct provider__call *k, const char *token)
{
    char value[2048];
    if (!token || !*token || strlen(token) > sizeof value - 8)
        return provider__fail(k->why, k->whycap, CC_ERR_INVALID, "channel has no access token");
    snprintf(value, sizeof value, "Bearer %s", token);
    return provider__header(k, "Authorization", value);
}

/* The "text", "image" or "document" object of a message. */
static int add_content(cJSON *j, const char *text, const struct provider_file *file, int image)
{
    const char *type = !file ? "text" : image ? "image" : "document";
    cJSON *o = provider__put_obj(j, type);
    if (!provider__put_str(j, "type", type) || !o)
        return 0;
    if (!file)
        return provider__put_bool(o, "preview_url",
                                  strstr(text, "http://") || strstr(text, "https://")) &&
               provider__put_str(o, "body", text);
    return provider__put_str(o, "link", file->url) &&
           (!text || provider__put_str(o, "caption", text)) &&
           (image || !file->name || !*file->name || provider__put_str(o, "filename", file->name));
}

static enum cc_status send(struct provider__call *k, const char *to, const char *text,
                           const struct provider_file *file, int image)
{
    const char *pnid = k->cred->phone_number_id;
    char path[512];
    if (!provider__safe_segment(pnid))
        return provider__fail(k->why, k->whycap, CC_ERR_INVALID, "channel has no phone_number_id");
    cJSON *j = cJSON_CreateObject();
    int ok = provider__put_str(j, "messaging_product", "whatsapp") &&
             provider__put_str(j, "recipient_type", "individual") &&
             provider__put_str(j, "to", to) && add_content(j, text, file, image);
    snprintf(path, sizeof path, "/%s/%s/messages", k->version, pnid);
    enum cc_status st = ok ? provider__url(k, "POST", path, NULL)
                           : provider__fail(k->why, k->whycap, CC_ERR_NOMEM, "out of memory");
    if (st == CC_OK)
        st = provider__bearer(k, k->cred->access_token);
    if (st != CC_OK) {
        cJSON_Delete(j);
        return st;
    }
    return provider__json_body(k, j);
}

static void result(long http, const cJSON *root, const char *body, size_t len,
                   struct provider_send_result *out)
{
    const char *id = provider__str(cJSON_GetArrayItem(provider__arr(root, "messages"), 0), "id");
    (void)http, (void)body, (void)len;
    if (!root)
        return;
    if (provider__obj(root, "error"))
        provider__meta_error(root, out);
    else if (out->status == PROVIDER_SEND_OK)
        provider__result(out, PROVIDER_SEND_OK, id && *id ? id : NULL,
                         id && *id ? NULL : "answer without a message id");
}

/* --- media -------------------------------------------------------------------------------------
 */

static enum cc_status media(struct provider__call *k, const char *ref)
{
    char path[512];
    if (!provider__safe_segment(ref))
        return provider__fail(k->why, k->whycap, CC_ERR_INVALID, "bad media id");
    snprintf(path, sizeof path, "/%s/%s", k->version, ref);
    enum cc_status st = provider__url(k, "GET", path, NULL);
    if (st == CC_OK)
        st = provider__bearer(k, k->cred->access_token);
    k->req->lookup = 1;
    return st;
}

/* {"url": "https://lookaside.fbsbx.com/...", "mime_type": ..., "id": ...}: the
 * URL lives a few minutes and wants the same bearer token. */
static enum cc_status lookup(struct provider__call *k, const cJSON *root)
{
    const char *url = provider__str(root, "url");
    if (!provider__http_url(url))
        return provider__fail(k->why, k->whycap, CC_ERR_NOT_FOUND,
                              "media lookup answer without a usable url");
    enum cc_status st = provider__url_abs(k, "GET", url);
    return st == CC_OK ? provider__bearer(k, k->cred->access_token) : st;
}

const struct provider__ops provider__whatsapp = {
    parse, send, result, media, lookup, "https://graph.facebook.com", NULL, NULL, NULL,
};
