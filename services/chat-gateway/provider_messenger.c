/* provider_messenger.c - Facebook Messenger Platform
 * (developers.facebook.com/docs/messenger-platform).
 *
 * A webhook body is {"object":"page","entry":[{"messaging":[...]}]}; each
 * messaging item is a message (or the echo of ours), an edit, a delivery or
 * read receipt, a postback (a button the customer pressed), or something we
 * only acknowledge. Read receipts, and delivery receipts from old clients,
 * name no message but a watermark time. Sending is POST
 * /<version>/me/messages with the page access token as a bearer token; a
 * message is text or one attachment, never both, so text with a file goes as
 * a link. Attachments come as URLs fetched without credentials. */
#include "provider_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WHERE_MAX 64

static const struct {
    const char *type;
    enum provider_attachment_type kind;
} attachment_types[] = {
    {"image", PROVIDER_ATTACHMENT_IMAGE},     {"video", PROVIDER_ATTACHMENT_VIDEO},
    {"audio", PROVIDER_ATTACHMENT_AUDIO},     {"file", PROVIDER_ATTACHMENT_DOCUMENT},
    {"sticker", PROVIDER_ATTACHMENT_STICKER},
};

/* The kind of an attachment, or -1 for those without a file (fallback,
 * template, location, shared posts...). Images with a sticker_id are stickers. */
static int attachment_kind(const cJSON *att)
{
    const char *type = provider__str(att, "type");
    const cJSON *payload = provider__obj(att, "payload");
    if (!type || !provider__str(payload, "url"))
        return -1;
    if (cJSON_GetObjectItemCaseSensitive(payload, "sticker_id"))
        return PROVIDER_ATTACHMENT_STICKER;
    for (size_t i = 0; i < sizeof attachment_types / sizeof attachment_types[0]; i++)
        if (strcmp(type, attachment_types[i].type) == 0)
            return (int)attachment_types[i].kind;
    return -1;
}

/* The message's attachments into `ev`. Until August 2026 a sticker comes
 * twice, as "sticker" and as "image" with a sticker_id: one is kept. */
static void attachments(struct provider__ctx *c, struct provider_event *ev, const cJSON *list)
{
    int n = cJSON_GetArraySize(list), sticker = 0;
    const cJSON *att;
    if (n > PROVIDER_MAX_ATTACHMENTS)
        n = PROVIDER_MAX_ATTACHMENTS;
    if (n <= 0 || !provider__attachments(c, ev, (size_t)n))
        return;
    cJSON_ArrayForEach(att, list)
    {
        int kind = attachment_kind(att);
        if (kind < 0 || (kind == PROVIDER_ATTACHMENT_STICKER && sticker++) ||
            ev->n_attachments == PROVIDER_MAX_ATTACHMENTS)
            continue;
        struct provider_attachment *a = &ev->attachments[ev->n_attachments++];
        a->type = (enum provider_attachment_type)kind;
        a->ref = provider__dup(c, provider__str(provider__obj(att, "payload"), "url"));
        a->size = -1;
    }
}

static enum cc_status message(struct provider__ctx *c, const cJSON *m, const char *psid, int64_t ts,
                              const char *where)
{
    const char *mid = provider__str(m, "mid");
    const cJSON *list = provider__arr(m, "attachments");
    char field[WHERE_MAX + 16];
    struct provider_event *ev;
    snprintf(field, sizeof field, "%s.message.mid", where);
    if (!mid || !*mid)
        return provider__bad(c, field, "expected a string");
    enum cc_status st = provider__event(c, PROVIDER_EVENT_MESSAGE, &ev);
    if (st != CC_OK)
        return st;
    ev->provider_message_id = provider__dup(c, mid);
    ev->conversation = psid;
    ev->timestamp_ms = ts;
    ev->text = provider__dup(c, provider__str(m, "text"));
    attachments(c, ev, list);
    if (!ev->text && ev->n_attachments == 0) {
        const char *type = provider__str(cJSON_GetArrayItem(list, 0), "type");
        ev->kind = PROVIDER_EVENT_UNSUPPORTED;
        ev->note = provider__printf(c, "messenger: %.64s", type ? type : "empty message");
    }
    return CC_OK;
}

static enum cc_status edit(struct provider__ctx *c, const cJSON *e, const char *psid, int64_t ts,
                           const char *where)
{
    const char *mid = provider__str(e, "mid");
    char field[WHERE_MAX + 24];
    struct provider_event *ev;
    snprintf(field, sizeof field, "%s.message_edit.mid", where);
    if (!mid || !*mid)
        return provider__bad(c, field, "expected a string");
    enum cc_status st = provider__event(c, PROVIDER_EVENT_EDIT, &ev);
    if (st != CC_OK)
        return st;
    ev->provider_message_id = provider__dup(c, mid);
    ev->conversation = psid;
    ev->timestamp_ms = ts;
    ev->text = provider__dup(c, provider__str(e, "text"));
    return CC_OK;
}

/* One receipt; mid NULL for a watermark receipt. */
static enum cc_status receipt(struct provider__ctx *c, enum provider_receipt which, const char *mid,
                              const char *psid, int64_t ts, int64_t watermark)
{
    struct provider_event *ev;
    enum cc_status st = provider__event(c, PROVIDER_EVENT_RECEIPT, &ev);
    if (st != CC_OK)
        return st;
    ev->receipt = which;
    ev->provider_message_id = provider__dup(c, mid);
    ev->conversation = psid;
    ev->timestamp_ms = ts;
    ev->watermark_ms = mid ? 0 : watermark;
    return CC_OK;
}

/* Delivery: one receipt per mid, or a watermark receipt when there are none. */
static enum cc_status delivery(struct provider__ctx *c, const cJSON *d, const char *psid,
                               int64_t ts)
{
    const cJSON *mids = provider__arr(d, "mids"), *it;
    int64_t watermark = 0;
    int n = 0;
    provider__int(d, "watermark", &watermark);
    cJSON_ArrayForEach(it, mids)
    {
        if (!cJSON_IsString(it) || !*it->valuestring)
            continue;
        enum cc_status st =
            receipt(c, PROVIDER_RECEIPT_DELIVERED, it->valuestring, psid, ts, watermark);
        if (st != CC_OK)
            return st;
        n++;
    }
    return n > 0 ? CC_OK : receipt(c, PROVIDER_RECEIPT_DELIVERED, NULL, psid, ts, watermark);
}

/* A button the customer pressed: shown as its title. */
static enum cc_status postback(struct provider__ctx *c, const cJSON *p, const char *psid,
                               int64_t ts)
{
    const char *title = provider__str(p, "title"), *mid = provider__str(p, "mid");
    struct provider_event *ev;
    if (!title || !*title)
        title = provider__str(p, "payload");
    if (!title || !*title)
        return provider__note(c, PROVIDER_EVENT_IGNORED, psid, "messenger: postback");
    enum cc_status st = provider__event(c, PROVIDER_EVENT_MESSAGE, &ev);
    if (st != CC_OK)
        return st;
    /* Older postbacks carry no mid: the sender and time identify them. */
    ev->provider_message_id = mid && *mid
                                  ? provider__dup(c, mid)
                                  : provider__printf(c, "postback:%s:%lld", psid, (long long)ts);
    ev->conversation = psid;
    ev->timestamp_ms = ts;
    ev->text = provider__dup(c, title);
    return CC_OK;
}

/* The first member that says what an item is, for the note of an ignored one. */
static const char *item_kind(const cJSON *it)
{
    for (const cJSON *m = it->child; m; m = m->next)
        if (m->string && strcmp(m->string, "sender") != 0 && strcmp(m->string, "recipient") != 0 &&
            strcmp(m->string, "timestamp") != 0)
            return m->string;
    return "empty item";
}

static enum cc_status item(struct provider__ctx *c, const cJSON *it, const char *where)
{
    const cJSON *m, *x;
    char field[WHERE_MAX + 16];
    int64_t ts = 0, watermark = 0;
    snprintf(field, sizeof field, "%s.sender.id", where);
    if (!cJSON_IsObject(it))
        return provider__bad(c, where, "expected an object");
    const char *psid = provider__id(c, provider__obj(it, "sender"), "id");
    if (!psid)
        return provider__bad(c, field, "expected a string");
    provider__int(it, "timestamp", &ts);
    if ((m = provider__obj(it, "message")) && cJSON_IsTrue(cJSON_GetObjectItem(m, "is_echo")))
        /* Our own message echoed: the customer is the recipient. */
        return provider__note(c, PROVIDER_EVENT_IGNORED,
                              provider__id(c, provider__obj(it, "recipient"), "id"),
                              "messenger: echo");
    if (m)
        return message(c, m, psid, ts, where);
    if ((x = provider__obj(it, "message_edit")))
        return edit(c, x, psid, ts, where);
    if ((x = provider__obj(it, "delivery")))
        return delivery(c, x, psid, ts);
    if ((x = provider__obj(it, "read"))) {
        provider__int(x, "watermark", &watermark);
        return receipt(c, PROVIDER_RECEIPT_READ, NULL, psid, ts, watermark);
    }
    if ((x = provider__obj(it, "postback")))
        return postback(c, x, psid, ts);
    return provider__note(c, PROVIDER_EVENT_IGNORED, psid, "messenger: %.64s", item_kind(it));
}

static enum cc_status parse(struct provider__ctx *c, const cJSON *root)
{
    const char *object = provider__str(root, "object");
    const cJSON *entries = provider__arr(root, "entry"), *e, *it;
    char where[WHERE_MAX];
    int ei = 0;
    if (!object || strcmp(object, "page") != 0)
        return provider__bad(c, "object", "expected \"page\"");
    if (!entries)
        return provider__bad(c, "entry", "expected an array");
    cJSON_ArrayForEach(e, entries)
    {
        int i = 0;
        /* Entries without "messaging" ("standby": another app owns the thread) are skipped. */
        cJSON_ArrayForEach(it, provider__arr(e, "messaging"))
        {
            snprintf(where, sizeof where, "entry[%d].messaging[%d]", ei, i++);
            enum cc_status st = item(c, it, where);
            if (st != CC_OK)
                return st;
        }
        ei++;
    }
    return CC_OK;
}

/* --- sending ------------------------------------------------------------------------------------
 */

static enum cc_status send(struct provider__call *k, const char *to, const char *text,
                           const struct provider_file *file, int image)
{
    char path[512], *link = NULL;
    if (file && text) { /* no caption in Messenger: the text carries the link */
        if (!(text = link = provider__link_text(text, file)))
            return provider__fail(k->why, k->whycap, CC_ERR_NOMEM, "out of memory");
        file = NULL;
    }
    cJSON *j = cJSON_CreateObject(), *msg = NULL, *att = NULL;
    int ok = provider__put_str(provider__put_obj(j, "recipient"), "id", to) &&
             provider__put_str(j, "messaging_type", "RESPONSE") &&
             (msg = provider__put_obj(j, "message")) != NULL;
    if (ok && file)
        ok = (att = provider__put_obj(msg, "attachment")) != NULL &&
             provider__put_str(att, "type", image ? "image" : "file") &&
             provider__put_str(provider__put_obj(att, "payload"), "url", file->url);
    else if (ok)
        ok = provider__put_str(msg, "text", text);
    free(link);
    snprintf(path, sizeof path, "/%s/me/messages", k->version);
    enum cc_status st = ok ? provider__url(k, "POST", path, NULL)
                           : provider__fail(k->why, k->whycap, CC_ERR_NOMEM, "out of memory");
    if (st == CC_OK)
        st = provider__bearer(k, k->cred->page_access_token);
    if (st != CC_OK) {
        cJSON_Delete(j);
        return st;
    }
    return provider__json_body(k, j);
}

static void result(long http, const cJSON *root, const char *body, size_t len,
                   struct provider_send_result *out)
{
    const char *id = provider__str(root, "message_id");
    (void)http, (void)body, (void)len;
    if (!root)
        return;
    if (provider__obj(root, "error"))
        provider__meta_error(root, out);
    else if (out->status == PROVIDER_SEND_OK)
        provider__result(out, PROVIDER_SEND_OK, id && *id ? id : NULL,
                         id && *id ? NULL : "answer without a message id");
}

static enum cc_status media(struct provider__call *k, const char *ref)
{
    return provider__url_abs(k, "GET", ref);
}

/* GET /<version>/<psid>?fields=first_name,last_name with the page token
 * (Meta answers only when the page has the "User Profile" access). */
static enum cc_status profile(struct provider__call *k, const char *psid)
{
    char path[512];
    snprintf(path, sizeof path, "/%s/%s?fields=first_name,last_name", k->version, psid);
    enum cc_status st = provider__url(k, "GET", path, NULL);
    return st == CC_OK ? provider__bearer(k, k->cred->page_access_token) : st;
}

static char *profile_name(const cJSON *root)
{
    const char *first = provider__str(root, "first_name"), *last = provider__str(root, "last_name");
    char *out = NULL;
    if (first && *first && last && *last) {
        size_t n = strlen(first) + strlen(last) + 2;
        if ((out = malloc(n)))
            snprintf(out, n, "%s %s", first, last);
    } else if ((first && *first) || (last && *last)) {
        out = strdup(first && *first ? first : last);
    }
    return out;
}

const struct provider__ops provider__messenger = {
    parse, send, result, media, NULL, "https://graph.facebook.com", NULL, profile, profile_name,
};
