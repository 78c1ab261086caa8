/* provider_telegram.c - Telegram Bot API (core.telegram.org/bots/api).
 *
 * A webhook call carries one Update; its message or edited_message becomes an
 * event. Telegram numbers messages per chat, so our provider message id is
 * "<chat id>:<message id>". Sending is sendMessage / sendPhoto / sendAnimation
 * / sendDocument on /bot<token>/; files are fetched with getFile and then
 * /file/bot<token>/<file_path>. */
#include "provider_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PATH_MAX_LEN 2048

/* Message fields that carry a file, in the order they are looked for:
 * animation first, because Telegram also sets document on animations. */
static const struct {
    const char *key;
    enum provider_attachment_type type;
    const char *mime; /* when the File object has no mime_type */
} media_fields[] = {
    {"animation", PROVIDER_ATTACHMENT_VIDEO, "video/mp4"},
    {"document", PROVIDER_ATTACHMENT_DOCUMENT, NULL},
    {"sticker", PROVIDER_ATTACHMENT_STICKER, "image/webp"},
    {"voice", PROVIDER_ATTACHMENT_AUDIO, "audio/ogg"},
    {"audio", PROVIDER_ATTACHMENT_AUDIO, NULL},
    {"video", PROVIDER_ATTACHMENT_VIDEO, NULL},
    {"video_note", PROVIDER_ATTACHMENT_VIDEO, "video/mp4"},
};

/* Message contents we acknowledge but cannot show. */
static const char *const unsupported_fields[] = {
    "location", "contact", "venue", "poll", "dice", "game", "story", "invoice", "paid_media",
};

/* "First Last", else the username, else NULL. */
static const char *full_name(struct provider__ctx *c, const cJSON *from)
{
    const char *first = provider__str(from, "first_name"), *last = provider__str(from, "last_name");
    if (first && last)
        return provider__printf(c, "%s %s", first, last);
    if (first)
        return provider__dup(c, first);
    return provider__dup(c, provider__str(from, "username"));
}

/* Fills `a` from a File-like object (PhotoSize, Document, Sticker...). */
static enum cc_status file_attachment(struct provider__ctx *c, struct provider_attachment *a,
                                      const cJSON *f, enum provider_attachment_type type,
                                      const char *mime, const char *where)
{
    const char *id = provider__str(f, "file_id");
    int64_t size;
    if (!id || !*id)
        return provider__bad(c, where, "expected a file_id");
    if (type == PROVIDER_ATTACHMENT_STICKER && cJSON_IsTrue(cJSON_GetObjectItem(f, "is_animated")))
        mime = "application/x-tgsticker";
    else if (type == PROVIDER_ATTACHMENT_STICKER &&
             cJSON_IsTrue(cJSON_GetObjectItem(f, "is_video")))
        mime = "video/webm";
    a->type = type;
    a->ref = provider__dup(c, id);
    a->mime =
        provider__dup(c, provider__str(f, "mime_type") ? provider__str(f, "mime_type") : mime);
    a->name = provider__dup(c, provider__str(f, "file_name"));
    a->size = provider__int(f, "file_size", &size) ? size : -1;
    return CC_OK;
}

/* The message's one file, if any, into *ev (which has room for one). */
static enum cc_status message_file(struct provider__ctx *c, struct provider_event *ev,
                                   const cJSON *msg, int *found)
{
    const cJSON *photo = provider__arr(msg, "photo");
    *found = 0;
    if (photo && cJSON_GetArraySize(photo) > 0) {
        /* PhotoSizes come smallest first: keep the largest. */
        const cJSON *big = cJSON_GetArrayItem(photo, cJSON_GetArraySize(photo) - 1);
        *found = 1;
        return file_attachment(c, &ev->attachments[ev->n_attachments++], big,
                               PROVIDER_ATTACHMENT_IMAGE, "image/jpeg", "message.photo");
    }
    for (size_t i = 0; i < sizeof media_fields / sizeof media_fields[0]; i++) {
        const cJSON *f = provider__obj(msg, media_fields[i].key);
        if (f) {
            *found = 1;
            return file_attachment(c, &ev->attachments[ev->n_attachments++], f,
                                   media_fields[i].type, media_fields[i].mime, media_fields[i].key);
        }
    }
    return CC_OK;
}

/* The note for a message without text or file. */
static const char *unsupported_note(const cJSON *msg)
{
    for (size_t i = 0; i < sizeof unsupported_fields / sizeof unsupported_fields[0]; i++)
        if (cJSON_GetObjectItemCaseSensitive(msg, unsupported_fields[i]))
            return unsupported_fields[i];
    return "message without text or file";
}

/* A Message (new or edited) into one event of `kind`. */
static enum cc_status message(struct provider__ctx *c, const cJSON *msg,
                              enum provider_event_kind kind)
{
    int64_t chat_id, mid, date = 0, edit_date = 0, contact_user, from_id;
    const cJSON *from = provider__obj(msg, "from"), *contact = provider__obj(msg, "contact");
    struct provider_event *ev;
    int found;
    if (!provider__int(provider__obj(msg, "chat"), "id", &chat_id))
        return provider__bad(c, "message.chat.id", "expected an integer");
    if (!provider__int(msg, "message_id", &mid))
        return provider__bad(c, "message.message_id", "expected an integer");
    provider__int(msg, "date", &date);
    provider__int(msg, "edit_date", &edit_date);
    enum cc_status st = provider__event(c, kind, &ev);
    if (st != CC_OK)
        return st;
    ev->provider_message_id = provider__printf(c, "%lld:%lld", (long long)chat_id, (long long)mid);
    ev->conversation = provider__printf(c, "%lld", (long long)chat_id);
    ev->customer_name = full_name(c, from ? from : provider__obj(msg, "chat"));
    ev->customer_language = provider__dup(c, provider__str(from, "language_code"));
    ev->timestamp_ms = (kind == PROVIDER_EVENT_EDIT && edit_date ? edit_date : date) * 1000;
    if (provider__int(contact, "user_id", &contact_user) && provider__int(from, "id", &from_id) &&
        contact_user == from_id)
        ev->customer_phone = provider__dup(c, provider__str(contact, "phone_number"));
    const char *text = provider__str(msg, "text");
    ev->text = provider__dup(c, text ? text : provider__str(msg, "caption"));
    if (!provider__attachments(c, ev, 1))
        return CC_OK; /* out of memory: c->oom says so */
    st = message_file(c, ev, msg, &found);
    if (st == CC_OK && !found && !ev->text) {
        ev->kind = PROVIDER_EVENT_UNSUPPORTED;
        ev->note = provider__printf(c, "telegram: %s", unsupported_note(msg));
    }
    return st;
}

static enum cc_status parse(struct provider__ctx *c, const cJSON *root)
{
    int64_t update_id;
    const cJSON *msg;
    if (!provider__int(root, "update_id", &update_id))
        return provider__bad(c, "update_id", "expected an integer");
    if ((msg = provider__obj(root, "message")))
        return message(c, msg, PROVIDER_EVENT_MESSAGE);
    if ((msg = provider__obj(root, "edited_message")))
        return message(c, msg, PROVIDER_EVENT_EDIT);
    /* Channel posts, button presses, membership changes...: nothing for a chat. */
    for (const cJSON *it = root->child; it; it = it->next)
        if (it->string && strcmp(it->string, "update_id") != 0)
            return provider__note(c, PROVIDER_EVENT_IGNORED, NULL, "telegram: %.64s", it->string);
    return provider__note(c, PROVIDER_EVENT_IGNORED, NULL, "telegram: empty update");
}

/* --- sending --------------------------------------------------------------------------- */

/* 1 when the file's MIME type or extension is one of `mimes` / `exts`. */
static int file_is(const struct provider_file *f, const char *const *mimes, const char *const *exts)
{
    const char *dot = f->name ? strrchr(f->name, '.') : NULL;
    for (; *mimes; mimes++)
        if (f->mime && strcasecmp(f->mime, *mimes) == 0)
            return 1;
    for (; dot && *exts; exts++)
        if (strcasecmp(dot, *exts) == 0)
            return 1;
    return 0;
}

static int is_gif(const struct provider_file *f)
{
    static const char *const mimes[] = {"image/gif", NULL}, *const exts[] = {".gif", NULL};
    return file_is(f, mimes, exts);
}

/* sendDocument by URL only works for GIF, PDF and ZIP files (Bot API, "Sending files"). */
static int document_by_url(const struct provider_file *f)
{
    static const char *const mimes[] = {"application/pdf", "application/zip",
                                        "application/x-zip-compressed", NULL};
    static const char *const exts[] = {".pdf", ".zip", NULL};
    return file_is(f, mimes, exts);
}

static enum cc_status token_of(struct provider__call *k, const char **token)
{
    *token = k->cred->bot_token;
    if (!provider__safe_segment(*token))
        return provider__fail(k->why, k->whycap, CC_ERR_INVALID, "channel has no valid bot_token");
    return CC_OK;
}

static enum cc_status send(struct provider__call *k, const char *to, const char *text,
                           const struct provider_file *file, int image)
{
    const char *token, *method = "sendMessage", *field = NULL;
    char path[PATH_MAX_LEN], *link = NULL;
    enum cc_status st = token_of(k, &token);
    if (st != CC_OK)
        return st;
    if (file && image && is_gif(file)) {
        method = "sendAnimation";
        field = "animation";
    } else if (file && image) {
        method = "sendPhoto";
        field = "photo";
    } else if (file && document_by_url(file)) {
        method = "sendDocument";
        field = "document";
    } else if (file && !(text = link = provider__link_text(text, file))) {
        return provider__fail(k->why, k->whycap, CC_ERR_NOMEM, "out of memory");
    }
    cJSON *j = cJSON_CreateObject();
    int ok = provider__put_str(j, "chat_id", to);
    if (field)
        ok = ok && provider__put_str(j, field, file->url) &&
             (!text || provider__put_str(j, "caption", text));
    else
        ok = ok && provider__put_str(j, "text", text);
    free(link);
    if (!ok) {
        cJSON_Delete(j);
        return provider__fail(k->why, k->whycap, CC_ERR_NOMEM, "out of memory");
    }
    snprintf(path, sizeof path, "/bot%s/%s", token, method);
    st = provider__url(k, "POST", path, token);
    if (st != CC_OK) {
        cJSON_Delete(j);
        return st;
    }
    return provider__json_body(k, j);
}

static void result(long http, const cJSON *root, const char *body, size_t len,
                   struct provider_send_result *out)
{
    int64_t mid, chat, code;
    char id[64];
    (void)http, (void)body, (void)len;
    if (!root)
        return;
    if (out->status == PROVIDER_SEND_OK && cJSON_IsTrue(cJSON_GetObjectItem(root, "ok"))) {
        const cJSON *msg = provider__obj(root, "result");
        if (provider__int(msg, "message_id", &mid) &&
            provider__int(provider__obj(msg, "chat"), "id", &chat)) {
            snprintf(id, sizeof id, "%lld:%lld", (long long)chat, (long long)mid);
            provider__result(out, PROVIDER_SEND_OK, id, NULL);
        } else {
            provider__result(out, PROVIDER_SEND_OK, NULL, "answer without a message id");
        }
        return;
    }
    enum provider_send_status st = out->status;
    if (st == PROVIDER_SEND_OK) /* a 2xx saying ok:false */
        st = provider__int(root, "error_code", &code) && code > 299 ? provider__http_verdict(code)
                                                                    : PROVIDER_SEND_PERMANENT;
    provider__result(out, st, NULL, provider__str(root, "description"));
}

/* --- files ------------------------------------------------------------------------------ */

/* A getFile file_path such as "photos/file_0.jpg": relative, no "..". */
static int safe_file_path(const char *p)
{
    size_t n = p ? strlen(p) : 0;
    if (n == 0 || n > 1024 || p[0] == '/' || strstr(p, "..") || strstr(p, "//"))
        return 0;
    return strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:/-") == n;
}

static enum cc_status media(struct provider__call *k, const char *ref)
{
    const char *token;
    char path[PATH_MAX_LEN];
    enum cc_status st = token_of(k, &token);
    if (st != CC_OK)
        return st;
    if (!provider__safe_segment(ref))
        return provider__fail(k->why, k->whycap, CC_ERR_INVALID, "bad file_id");
    snprintf(path, sizeof path, "/bot%s/getFile?file_id=%s", token, ref);
    st = provider__url(k, "GET", path, token);
    k->req->lookup = 1;
    return st;
}

static enum cc_status lookup(struct provider__call *k, const cJSON *root)
{
    const char *token, *file_path = provider__str(provider__obj(root, "result"), "file_path");
    char path[PATH_MAX_LEN];
    enum cc_status st = token_of(k, &token);
    if (st != CC_OK)
        return st;
    if (!safe_file_path(file_path))
        return provider__fail(k->why, k->whycap, CC_ERR_NOT_FOUND,
                              "getFile answer without a usable file_path");
    snprintf(path, sizeof path, "/file/bot%s/%s", token, file_path);
    return provider__url(k, "GET", path, token);
}

/* sendChatAction {chat_id, action: typing}: the customer sees "typing…"
 * for five seconds or until our next message. */
static enum cc_status typing(struct provider__call *k, const char *to)
{
    const char *token;
    char path[PATH_MAX_LEN];
    enum cc_status st = token_of(k, &token);
    if (st != CC_OK)
        return st;
    cJSON *j = cJSON_CreateObject();
    if (!provider__put_str(j, "chat_id", to) || !provider__put_str(j, "action", "typing")) {
        cJSON_Delete(j);
        return provider__fail(k->why, k->whycap, CC_ERR_NOMEM, "out of memory");
    }
    snprintf(path, sizeof path, "/bot%s/sendChatAction", token);
    st = provider__url(k, "POST", path, token);
    if (st != CC_OK) {
        cJSON_Delete(j);
        return st;
    }
    return provider__json_body(k, j);
}

const struct provider__ops provider__telegram = {
    parse, send, result, media, lookup, "https://api.telegram.org", typing, NULL, NULL,
};
