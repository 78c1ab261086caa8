/* provider_viber.c - Viber REST bot API (developers.viber.com/docs/api/rest-bot-api).
 *
 * One callback per webhook call: "message" from a user, the receipts
 * "delivered", "seen" and "failed", and housekeeping ("subscribed",
 * "conversation_started", "webhook"...). message_token is a 64-bit integer
 * that a double cannot hold, so it is read from the raw body, digit for
 * digit. Sending is POST /pa/send_message with X-Viber-Auth-Token; the
 * answer is always HTTP 200 with a "status" number. Media come as URLs. */
#include "provider_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SENDER_NAME_MAX 28 /* characters: send_message's sender.name limit */

/* 1 when the n bytes at v are 1 to 20 decimal digits. */
static int token_digits(const char *v, size_t n)
{
    if (n == 0 || n > 20)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] < '0' || v[i] > '9')
            return 0;
    return 1;
}

/* The exact message_token of the body (top level), or NULL. */
static const char *message_token(struct provider__ctx *c)
{
    const char *v;
    size_t n;
    char buf[24];
    if (!provider__raw_member(c->body, c->len, "message_token", &v, &n) || !token_digits(v, n))
        return NULL;
    memcpy(buf, v, n);
    buf[n] = '\0';
    errno = 0;
    (void)strtoull(buf, NULL, 10);
    return errno == ERANGE ? NULL : provider__dup(c, buf);
}

static const struct {
    const char *type;
    enum provider_attachment_type kind;
} media_types[] = {
    {"picture", PROVIDER_ATTACHMENT_IMAGE},
    {"video", PROVIDER_ATTACHMENT_VIDEO},
    {"file", PROVIDER_ATTACHMENT_DOCUMENT},
    {"sticker", PROVIDER_ATTACHMENT_STICKER},
};

/* The content of a "message" callback into `ev`. */
static enum cc_status content(struct provider__ctx *c, struct provider_event *ev, const cJSON *m,
                              const char *type)
{
    const char *text = provider__str(m, "text"), *media = provider__str(m, "media");
    int64_t size;
    if (strcmp(type, "text") == 0) {
        if (!text)
            return provider__bad(c, "message.text", "expected a string");
        ev->text = provider__dup(c, text);
        return CC_OK;
    }
    if (strcmp(type, "url") == 0 && media) {
        ev->text = provider__dup(c, media);
        return CC_OK;
    }
    for (size_t i = 0; i < sizeof media_types / sizeof media_types[0]; i++) {
        if (strcmp(type, media_types[i].type) != 0 || !media)
            continue;
        struct provider_attachment *a = provider__attachments(c, ev, 1);
        if (!a)
            return CC_OK;
        a->type = media_types[i].kind;
        a->ref = provider__dup(c, media);
        a->name = provider__dup(c, provider__str(m, "file_name"));
        a->size =
            provider__int(m, "file_size", &size) || provider__int(m, "size", &size) ? size : -1;
        ev->n_attachments = 1;
        ev->text = provider__dup(c, text && *text ? text : NULL);
        return CC_OK;
    }
    ev->kind = PROVIDER_EVENT_UNSUPPORTED;
    ev->note = provider__printf(c, "viber: %.64s", type);
    return CC_OK;
}

static enum cc_status message(struct provider__ctx *c, const cJSON *root, int64_t ts)
{
    const cJSON *sender = provider__obj(root, "sender"), *m = provider__obj(root, "message");
    const char *token = message_token(c), *id = provider__str(sender, "id");
    const char *type = provider__str(m, "type");
    struct provider_event *ev;
    if (!token)
        return provider__bad(c, "message_token", "expected a 64-bit integer");
    if (!id || !*id)
        return provider__bad(c, "sender.id", "expected a string");
    if (!type)
        return provider__bad(c, "message.type", "expected a string");
    enum cc_status st = provider__event(c, PROVIDER_EVENT_MESSAGE, &ev);
    if (st != CC_OK)
        return st;
    ev->provider_message_id = token;
    ev->conversation = provider__dup(c, id);
    ev->customer_name = provider__dup(c, provider__str(sender, "name"));
    ev->timestamp_ms = ts;
    return content(c, ev, m, type);
}

static enum cc_status receipt(struct provider__ctx *c, const cJSON *root, int64_t ts,
                              enum provider_receipt which)
{
    const char *token = message_token(c), *user = provider__str(root, "user_id");
    struct provider_event *ev;
    if (!token)
        return provider__bad(c, "message_token", "expected a 64-bit integer");
    if (!user || !*user)
        return provider__bad(c, "user_id", "expected a string");
    enum cc_status st = provider__event(c, PROVIDER_EVENT_RECEIPT, &ev);
    if (st != CC_OK)
        return st;
    ev->receipt = which;
    ev->provider_message_id = token;
    ev->conversation = provider__dup(c, user);
    ev->timestamp_ms = ts;
    if (which == PROVIDER_RECEIPT_FAILED)
        ev->text = provider__dup(c, provider__str(root, "desc"));
    return CC_OK;
}

static enum cc_status parse(struct provider__ctx *c, const cJSON *root)
{
    const char *event = provider__str(root, "event");
    const char *user = provider__str(root, "user_id");
    int64_t ts = 0;
    if (!event)
        return provider__bad(c, "event", "expected a string");
    provider__int(root, "timestamp", &ts);
    if (strcmp(event, "message") == 0)
        return message(c, root, ts);
    if (strcmp(event, "delivered") == 0)
        return receipt(c, root, ts, PROVIDER_RECEIPT_DELIVERED);
    if (strcmp(event, "seen") == 0)
        return receipt(c, root, ts, PROVIDER_RECEIPT_READ);
    if (strcmp(event, "failed") == 0)
        return receipt(c, root, ts, PROVIDER_RECEIPT_FAILED);
    /* subscribed, unsubscribed, conversation_started, webhook, client_status... */
    if (!user)
        user = provider__str(provider__obj(root, "user"), "id");
    return provider__note(c, PROVIDER_EVENT_IGNORED, user, "viber: %.64s", event);
}

/* --- sending --------------------------------------------------------------------------------- */

/* The channel's name cut to 28 characters (not bytes), "Support" when empty. */
static void sender_name(const Cc__V1__Channel *ch, char *out, size_t cap)
{
    const char *s = ch->name && *ch->name ? ch->name : "Support";
    size_t i = 0, chars = 0;
    while (s[i] && chars < SENDER_NAME_MAX) {
        size_t j = i + 1;
        while (((unsigned char)s[j] & 0xC0) == 0x80)
            j++;
        if (j >= cap)
            break;
        i = j;
        chars++;
    }
    memcpy(out, s, i);
    out[i] = '\0';
}

/* Adds the fields of a picture or file message; 0 when out of memory. */
static int add_file(cJSON *j, const char *text, const struct provider_file *file, int image)
{
    if (image) /* picture: "text" is the description, required but may be empty */
        return provider__put_str(j, "type", "picture") &&
               provider__put_str(j, "text", text ? text : "") &&
               provider__put_str(j, "media", file->url);
    return provider__put_str(j, "type", "file") && provider__put_str(j, "media", file->url) &&
           provider__put_num(j, "size", (double)file->size) &&
           provider__put_str(j, "file_name", file->name && *file->name ? file->name : "file");
}

static enum cc_status send(struct provider__call *k, const char *to, const char *text,
                           const struct provider_file *file, int image)
{
    const char *token = k->cred->auth_token;
    char name[4 * SENDER_NAME_MAX + 1], *link = NULL;
    if (!token || !*token)
        return provider__fail(k->why, k->whycap, CC_ERR_INVALID, "channel has no auth_token");
    /* A file message has no caption and needs the size: else send the link. */
    if (file && !image && (text || file->size <= 0)) {
        if (!(text = link = provider__link_text(text, file)))
            return provider__fail(k->why, k->whycap, CC_ERR_NOMEM, "out of memory");
        file = NULL;
    }
    sender_name(k->ch, name, sizeof name);
    cJSON *j = cJSON_CreateObject();
    int ok = provider__put_str(j, "receiver", to) && provider__put_num(j, "min_api_version", 1) &&
             provider__put_str(provider__put_obj(j, "sender"), "name", name) &&
             (file ? add_file(j, text, file, image)
                   : provider__put_str(j, "type", "text") && provider__put_str(j, "text", text));
    free(link);
    enum cc_status st = ok ? provider__url(k, "POST", "/pa/send_message", NULL)
                           : provider__fail(k->why, k->whycap, CC_ERR_NOMEM, "out of memory");
    if (st == CC_OK)
        st = provider__header(k, "X-Viber-Auth-Token", token);
    if (st != CC_OK) {
        cJSON_Delete(j);
        return st;
    }
    return provider__json_body(k, j);
}

static void result(long http, const cJSON *root, const char *body, size_t len,
                   struct provider_send_result *out)
{
    int64_t status;
    const char *v, *msg = provider__str(root, "status_message");
    size_t n;
    char buf[PROVIDER_REASON_MAX], id[24];
    (void)http;
    if (!root || out->status != PROVIDER_SEND_OK) {
        if (msg)
            provider__result(out, out->status, NULL, msg);
        return;
    }
    if (!provider__int(root, "status", &status)) {
        provider__result(out, PROVIDER_SEND_OK, NULL, "answer without a status");
    } else if (status == 0) {
        int have = provider__raw_member(body, len, "message_token", &v, &n) && token_digits(v, n);
        if (have)
            snprintf(id, sizeof id, "%.*s", (int)n, v);
        provider__result(out, PROVIDER_SEND_OK, have ? id : NULL,
                         have ? NULL : "answer without a message id");
    } else {
        /* 12 tooManyRequests and 99 generalError may pass; the others
         * (receiverNotSubscribed, badData, invalidAuthToken...) will not. */
        snprintf(buf, sizeof buf, "%s (viber status %lld)", msg ? msg : "error", (long long)status);
        provider__result(
            out, status == 12 || status == 99 ? PROVIDER_SEND_TRANSIENT : PROVIDER_SEND_PERMANENT,
            NULL, buf);
    }
}

static enum cc_status media(struct provider__call *k, const char *ref)
{
    return provider__url_abs(k, "GET", ref);
}

const struct provider__ops provider__viber = {
    parse, send, result, media, NULL, "https://chatapi.viber.com", NULL, NULL, NULL,
};
