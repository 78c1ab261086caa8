/* provider_infobip.c - WhatsApp through Infobip (infobip.com/docs/api, channels/whatsapp).
 *
 * Every webhook body is {"results": [...]}: inbound messages (with a
 * "message" object), delivery reports (with a "status" object) or seen
 * reports (with "seenAt"). The webhook carries no signature: Infobip sends
 * the Authorization header configured for it. Sending is POST
 * /whatsapp/1/message/{text,image,document} with Authorization: App <key>;
 * inbound media are URLs under the account's API root, fetched with the same
 * key. */
#include "provider_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *type;
    enum provider_attachment_type kind;
} media_types[] = {
    {"IMAGE", PROVIDER_ATTACHMENT_IMAGE}, {"DOCUMENT", PROVIDER_ATTACHMENT_DOCUMENT},
    {"AUDIO", PROVIDER_ATTACHMENT_AUDIO}, {"VOICE", PROVIDER_ATTACHMENT_AUDIO},
    {"VIDEO", PROVIDER_ATTACHMENT_VIDEO}, {"STICKER", PROVIDER_ATTACHMENT_STICKER},
};

/* The message's content into `ev`: text, one file, or unsupported. */
static enum cc_status content(struct provider__ctx *c, struct provider_event *ev, const cJSON *m,
                              const char *type, const char *where)
{
    const char *text = provider__str(m, "text"), *url = provider__str(m, "url");
    char field[64];
    if (strcmp(type, "TEXT") == 0 || strcmp(type, "BUTTON") == 0) {
        snprintf(field, sizeof field, "%s.message.text", where);
        if (!text)
            return provider__bad(c, field, "expected a string");
        ev->text = provider__dup(c, text);
        return CC_OK;
    }
    if (strncmp(type, "INTERACTIVE_", 12) == 0 && provider__str(m, "title")) {
        ev->text = provider__dup(c, provider__str(m, "title"));
        return CC_OK;
    }
    for (size_t i = 0; i < sizeof media_types / sizeof media_types[0]; i++) {
        if (strcmp(type, media_types[i].type) != 0)
            continue;
        snprintf(field, sizeof field, "%s.message.url", where);
        if (!url || !*url)
            return provider__bad(c, field, "expected a URL");
        struct provider_attachment *a = provider__attachments(c, ev, 1);
        if (!a)
            return CC_OK;
        a->type = media_types[i].kind;
        a->ref = provider__dup(c, url);
        a->name = provider__dup(c, provider__str(m, "filename"));
        a->size = -1;
        ev->n_attachments = 1;
        ev->text = provider__dup(c, provider__str(m, "caption"));
        return CC_OK;
    }
    ev->kind = PROVIDER_EVENT_UNSUPPORTED;
    ev->note = provider__printf(c, "infobip: %.64s", type);
    return CC_OK;
}

static enum cc_status inbound(struct provider__ctx *c, const cJSON *r, const char *where)
{
    const cJSON *m = provider__obj(r, "message");
    const char *id = provider__str(r, "messageId"), *from = provider__str(r, "from");
    const char *type = provider__str(m, "type");
    char field[64];
    struct provider_event *ev;
    snprintf(field, sizeof field, "%s.%s", where,
             !id || !*id       ? "messageId"
             : !from || !*from ? "from"
                               : "message.type");
    if (!id || !*id || !from || !*from || !type)
        return provider__bad(c, field, "expected a string");
    enum cc_status st = provider__event(c, PROVIDER_EVENT_MESSAGE, &ev);
    if (st != CC_OK)
        return st;
    ev->provider_message_id = provider__dup(c, id);
    ev->conversation = provider__dup(c, from);
    ev->customer_phone = ev->conversation;
    ev->customer_name = provider__dup(c, provider__str(provider__obj(r, "contact"), "name"));
    ev->timestamp_ms = provider__iso_ms(provider__str(r, "receivedAt"));
    return content(c, ev, m, type, where);
}

/* A delivery report: DELIVERED, UNDELIVERABLE, EXPIRED, REJECTED or PENDING. */
static enum cc_status report(struct provider__ctx *c, const cJSON *r, const char *where)
{
    const cJSON *status = provider__obj(r, "status"), *error = provider__obj(r, "error");
    const char *id = provider__str(r, "messageId"), *group = provider__str(status, "groupName");
    const char *to = provider__str(r, "to");
    char field[64];
    int64_t error_id = 0;
    struct provider_event *ev;
    snprintf(field, sizeof field, "%s.%s", where, !id || !*id ? "messageId" : "status.groupName");
    if (!id || !*id || !group)
        return provider__bad(c, field, "expected a string");
    int delivered = strcmp(group, "DELIVERED") == 0;
    if (!delivered && strcmp(group, "UNDELIVERABLE") != 0 && strcmp(group, "EXPIRED") != 0 &&
        strcmp(group, "REJECTED") != 0)
        return provider__note(c, PROVIDER_EVENT_IGNORED, to, "infobip: status %.32s", group);
    enum cc_status st = provider__event(c, PROVIDER_EVENT_RECEIPT, &ev);
    if (st != CC_OK)
        return st;
    ev->receipt = delivered ? PROVIDER_RECEIPT_DELIVERED : PROVIDER_RECEIPT_FAILED;
    ev->provider_message_id = provider__dup(c, id);
    ev->conversation = provider__dup(c, to);
    ev->timestamp_ms = provider__iso_ms(provider__str(r, "doneAt"));
    if (!delivered)
        ev->text = provider__dup(c, provider__int(error, "id", &error_id) && error_id != 0 &&
                                            provider__str(error, "description")
                                        ? provider__str(error, "description")
                                        : provider__str(status, "description"));
    return CC_OK;
}

static enum cc_status seen(struct provider__ctx *c, const cJSON *r, const char *where)
{
    const char *id = provider__str(r, "messageId");
    char field[64];
    struct provider_event *ev;
    snprintf(field, sizeof field, "%s.messageId", where);
    if (!id || !*id)
        return provider__bad(c, field, "expected a string");
    enum cc_status st = provider__event(c, PROVIDER_EVENT_RECEIPT, &ev);
    if (st != CC_OK)
        return st;
    ev->receipt = PROVIDER_RECEIPT_READ;
    ev->provider_message_id = provider__dup(c, id);
    ev->conversation = provider__dup(c, provider__str(r, "to"));
    ev->timestamp_ms = provider__iso_ms(provider__str(r, "seenAt"));
    return CC_OK;
}

static enum cc_status parse(struct provider__ctx *c, const cJSON *root)
{
    const cJSON *results = provider__arr(root, "results"), *r;
    char where[32];
    int i = 0;
    if (!results)
        return provider__bad(c, "results", "expected an array");
    cJSON_ArrayForEach(r, results)
    {
        enum cc_status st;
        snprintf(where, sizeof where, "results[%d]", i++);
        if (!cJSON_IsObject(r))
            st = provider__bad(c, where, "expected an object");
        else if (provider__obj(r, "message"))
            st = inbound(c, r, where);
        else if (provider__obj(r, "status"))
            st = report(c, r, where);
        else if (provider__str(r, "seenAt"))
            st = seen(c, r, where);
        else
            st = provider__bad(c, where, "neither a message nor a report");
        if (st != CC_OK)
            return st;
    }
    return CC_OK;
}

/* --- sending ------------------------------------------------------------------------------------
 */

static enum cc_status auth_header(struct provider__call *k)
{
    const char *key = k->cred->api_key;
    char value[1024];
    if (!key || !*key || strlen(key) > 900)
        return provider__fail(k->why, k->whycap, CC_ERR_INVALID, "channel has no api_key");
    snprintf(value, sizeof value, "App %s", key);
    return provider__header(k, "Authorization", value);
}

static enum cc_status send(struct provider__call *k, const char *to, const char *text,
                           const struct provider_file *file, int image)
{
    const char *from = k->cred->sender, *path = "/whatsapp/1/message/text";
    if (!from || !*from)
        return provider__fail(k->why, k->whycap, CC_ERR_INVALID, "channel has no sender");
    cJSON *j = cJSON_CreateObject(), *content = NULL;
    int ok = provider__put_str(j, "from", from) && provider__put_str(j, "to", to) &&
             (content = provider__put_obj(j, "content")) != NULL;
    if (ok && file) {
        path = image ? "/whatsapp/1/message/image" : "/whatsapp/1/message/document";
        ok = provider__put_str(content, "mediaUrl", file->url) &&
             (!text || provider__put_str(content, "caption", text)) &&
             (image || !file->name || !*file->name ||
              provider__put_str(content, "filename", file->name));
    } else if (ok) {
        ok = provider__put_str(content, "text", text);
    }
    enum cc_status st = ok ? provider__url(k, "POST", path, NULL)
                           : provider__fail(k->why, k->whycap, CC_ERR_NOMEM, "out of memory");
    if (st == CC_OK)
        st = auth_header(k);
    if (st != CC_OK) {
        cJSON_Delete(j);
        return st;
    }
    return provider__json_body(k, j);
}

/* "text (field: problem)" from {"requestError":{"serviceException":{...}}}. */
static void error_reason(const cJSON *root, char *out, size_t cap)
{
    const cJSON *ex = provider__obj(provider__obj(root, "requestError"), "serviceException");
    const cJSON *ve = provider__obj(ex, "validationErrors");
    const char *text = provider__str(ex, "text"), *problem = NULL;
    const char *field = ve && ve->child ? ve->child->string : NULL;
    if (field && cJSON_IsArray(ve->child) && cJSON_IsString(cJSON_GetArrayItem(ve->child, 0)))
        problem = cJSON_GetArrayItem(ve->child, 0)->valuestring;
    else if (field && cJSON_IsString(ve->child))
        problem = ve->child->valuestring;
    if (text && field && problem)
        snprintf(out, cap, "%s (%s: %s)", text, field, problem);
    else
        snprintf(out, cap, "%s", text ? text : "");
}

static void result(long http, const cJSON *root, const char *body, size_t len,
                   struct provider_send_result *out)
{
    const cJSON *status = provider__obj(root, "status");
    const char *group = provider__str(status, "groupName"), *id = provider__str(root, "messageId");
    char reason[PROVIDER_REASON_MAX];
    (void)http, (void)body, (void)len;
    if (!root)
        return;
    if (out->status != PROVIDER_SEND_OK) {
        error_reason(root, reason, sizeof reason);
        provider__result(out, out->status, NULL, reason);
    } else if (group && strcmp(group, "REJECTED") == 0) {
        provider__result(out, PROVIDER_SEND_PERMANENT, NULL, provider__str(status, "description"));
    } else {
        provider__result(out, PROVIDER_SEND_OK, id && *id ? id : NULL,
                         id && *id ? NULL : "answer without a message id");
    }
}

/* Inbound media URLs name the account's API root ("https://<base>/whatsapp/1/senders/
 * <sender>/media/<id>"). The key goes only to the channel's own root: the
 * path is kept, the host replaced. */
static enum cc_status media(struct provider__call *k, const char *ref)
{
    const char *host = strstr(ref, "://");
    const char *path = host ? strchr(host + 3, '/') : NULL;
    if (!provider__http_url(ref) || !path || strncmp(path, "/whatsapp/", 10) != 0 ||
        strstr(path, ".."))
        return provider__fail(k->why, k->whycap, CC_ERR_INVALID, "not an Infobip media URL");
    enum cc_status st = provider__url(k, "GET", path, NULL);
    return st == CC_OK ? auth_header(k) : st;
}

const struct provider__ops provider__infobip = {
    parse, send, result, media, NULL, NULL, NULL, NULL, NULL,
};
