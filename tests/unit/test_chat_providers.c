/* Unit tests for chat-gateway's provider layer (services/chat-gateway/provider.h):
 * webhook signatures and Meta's challenge, every provider's webhook bodies
 * read from fixtures modelled on the providers' documented examples
 * (tests/fixtures/providers/<provider>/), refusals of malformed bodies, the
 * send requests, the send answers, inbound media downloads, and a fuzz-ish
 * pass over truncated and mutated bodies that must never crash or leak.
 * Fixtures are found under $CC_FIXTURES_DIR, else tests/fixtures/providers
 * from the current directory, else from the repository holding the binary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cc_http.h"
#include "provider.h"

static char fixtures[1024];

/* --- helpers ------------------------------------------------------------------------- */

/* Reads a fixture; the caller frees it. */
static char *load(const char *provider, const char *name, size_t *len)
{
    char path[1400];
    snprintf(path, sizeof path, "%s/%s/%s", fixtures, provider, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open fixture %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static struct provider_batch *parse_body(enum provider_type type, const char *body, size_t len)
{
    struct provider_batch *b = NULL;
    char why[256];
    enum cc_status st = provider_parse(type, body, len, &b, why, sizeof why);
    if (st != CC_OK)
        fail_msg("parse failed: %s", why);
    assert_string_equal(why, "");
    assert_non_null(b);
    return b;
}

static struct provider_batch *parse_fixture(enum provider_type type, const char *provider,
                                            const char *name)
{
    size_t len;
    char *body = load(provider, name, &len);
    struct provider_batch *b = parse_body(type, body, len);
    free(body);
    return b;
}

/* Expects a refusal whose reason contains `why_part`. */
static void parse_refused(enum provider_type type, const char *body, const char *why_part)
{
    struct provider_batch *b = (struct provider_batch *)1;
    char why[256];
    assert_int_equal(provider_parse(type, body, strlen(body), &b, why, sizeof why), CC_ERR_INVALID);
    assert_null(b);
    if (!strstr(why, why_part))
        fail_msg("reason \"%s\" does not mention \"%s\"", why, why_part);
}

static void assert_str_or_null(const char *got, const char *want)
{
    if (!want)
        assert_null(got);
    else
        assert_string_equal(got, want);
}

/* Checks the common fields of event i. */
static const struct provider_event *event(const struct provider_batch *b, size_t i,
                                          enum provider_event_kind kind, const char *id,
                                          const char *conversation)
{
    assert_true(i < b->n);
    const struct provider_event *ev = &b->events[i];
    assert_int_equal(ev->kind, kind);
    assert_str_or_null(ev->provider_message_id, id);
    assert_str_or_null(ev->conversation, conversation);
    if (kind == PROVIDER_EVENT_UNSUPPORTED || kind == PROVIDER_EVENT_IGNORED)
        assert_non_null(ev->note);
    else
        assert_null(ev->note);
    if (kind != PROVIDER_EVENT_RECEIPT)
        assert_int_equal(ev->receipt, PROVIDER_RECEIPT_NONE);
    return ev;
}

static void attachment(const struct provider_event *ev, size_t i,
                       enum provider_attachment_type type, const char *ref, const char *mime,
                       const char *name, int64_t size)
{
    assert_true(i < ev->n_attachments);
    const struct provider_attachment *a = &ev->attachments[i];
    assert_int_equal(a->type, type);
    assert_string_equal(a->ref, ref);
    assert_str_or_null(a->mime, mime);
    assert_str_or_null(a->name, name);
    assert_int_equal(a->size, size);
}

/* Request headers for provider_verify. */
struct headers {
    const char *name[4], *value[4];
    int n;
};

static const char *header_of(void *arg, const char *name)
{
    struct headers *h = arg;
    for (int i = 0; i < h->n; i++)
        if (strcasecmp(h->name[i], name) == 0)
            return h->value[i];
    return NULL;
}

static int verify1(enum provider_type type, const Cc__V1__ChannelCredentials *cred,
                   const char *name, const char *value, const char *body)
{
    struct headers h = {{name}, {value}, value ? 1 : 0};
    return provider_verify(type, cred, header_of, &h, body, strlen(body));
}

static void hmac_hex(const char *key, const char *body, size_t len, char *hex)
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, strlen(key));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(hex, 2 * sizeof mac + 1, mac, sizeof mac);
}

/* A channel of each kind, pointed at a local stand-in. */
static char *S(const char *s)
{
    return (char *)s;
}

#define BASE "http://127.0.0.1:8099"
#define TG_TOKEN "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
#define VIBER_TOKEN "445da6az1s345z78-dazcczb2542zv51a-e0vc5fva17480im9"
#define IB_KEY "003026abc133714df1834b8638bb496e-8f4b3d9a-e931-478d-a994-28a725159ab9"
#define WA_TOKEN "EAAGm0PX4ZCpsBAKZC1x2y3z"
#define FB_TOKEN "EAAFpageZBtokenZA"

static Cc__V1__ChannelCredentials cred;
static Cc__V1__Channel channel;

static const Cc__V1__Channel *make_channel(enum provider_type type)
{
    Cc__V1__ChannelCredentials c = CC__V1__CHANNEL_CREDENTIALS__INIT;
    Cc__V1__Channel ch = CC__V1__CHANNEL__INIT;
    cred = c;
    channel = ch;
    channel.name = S("Support");
    channel.api_base_url = S(BASE "/");
    channel.credentials = &cred;
    switch (type) {
    case PROVIDER_TELEGRAM:
        cred.bot_token = S(TG_TOKEN);
        cred.secret_token = S("s3cr3t-Token_1");
        break;
    case PROVIDER_VIBER:
        cred.auth_token = S(VIBER_TOKEN);
        break;
    case PROVIDER_INFOBIP_WHATSAPP:
        cred.api_key = S(IB_KEY);
        cred.sender = S("41793026731");
        cred.webhook_authorization = S("Basic dXNlcjpwYXNzd29yZA==");
        break;
    case PROVIDER_WHATSAPP_CLOUD:
        cred.access_token = S(WA_TOKEN);
        cred.app_secret = S("wa-app-secret");
        cred.verify_token = S("wa-verify");
        cred.phone_number_id = S("106540352242922");
        break;
    case PROVIDER_MESSENGER:
        cred.page_access_token = S(FB_TOKEN);
        cred.app_secret = S("fb-app-secret");
        cred.verify_token = S("fb-verify");
        break;
    default:
        break;
    }
    return &channel;
}

static int has_header(const struct provider_request *r, const char *line)
{
    for (int i = 0; i < r->n_headers; i++)
        if (strcmp(r->headers[i], line) == 0)
            return 1;
    return 0;
}

/* Builds a send and returns its parsed JSON body (the caller deletes it). */
static cJSON *send_ok(enum provider_type type, const Cc__V1__Channel *ch, const char *to,
                      const char *text, const struct provider_file *file,
                      struct provider_request *req, const char *url)
{
    char why[256];
    enum cc_status st = provider_build_send(type, ch, to, text, file, req, why, sizeof why);
    if (st != CC_OK)
        fail_msg("build_send failed: %s", why);
    assert_string_equal(req->method, "POST");
    assert_string_equal(req->url, url);
    assert_true(has_header(req, "Content-Type: application/json"));
    assert_int_equal(req->lookup, 0);
    cJSON *j = cJSON_ParseWithLength(req->body, req->body_len);
    assert_non_null(j);
    return j;
}

static const char *jstr(const cJSON *j, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    const cJSON *it = j;
    for (char *tok = strtok(buf, "."); tok && it; tok = strtok(NULL, "."))
        it = cJSON_GetObjectItemCaseSensitive(it, tok);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

static double jnum(const cJSON *j, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    const cJSON *it = j;
    for (char *tok = strtok(buf, "."); tok && it; tok = strtok(NULL, "."))
        it = cJSON_GetObjectItemCaseSensitive(it, tok);
    assert_true(cJSON_IsNumber(it));
    return it->valuedouble;
}

static void send_refused(enum provider_type type, const Cc__V1__Channel *ch, const char *to,
                         const char *text, const struct provider_file *file, const char *why_part)
{
    struct provider_request req;
    char why[256];
    assert_int_equal(provider_build_send(type, ch, to, text, file, &req, why, sizeof why),
                     CC_ERR_INVALID);
    assert_null(req.url);
    assert_null(req.body);
    assert_int_equal(req.n_headers, 0);
    if (!strstr(why, why_part))
        fail_msg("reason \"%s\" does not mention \"%s\"", why, why_part);
}

static enum provider_send_status result_of(enum provider_type type, long http, const char *provider,
                                           const char *name, struct provider_send_result *r)
{
    size_t len = 0;
    char *body = name ? load(provider, name, &len) : NULL;
    enum provider_send_status st = provider_parse_send_result(type, http, body, len, r);
    free(body);
    assert_int_equal(st, r->status);
    return st;
}

/* --- names ------------------------------------------------------------------------------ */

static void types_parse_channel_types_and_webhook_path_names(void **state)
{
    (void)state;
    assert_int_equal(provider_type_parse("telegram"), PROVIDER_TELEGRAM);
    assert_int_equal(provider_type_parse("viber"), PROVIDER_VIBER);
    assert_int_equal(provider_type_parse("infobip_whatsapp"), PROVIDER_INFOBIP_WHATSAPP);
    assert_int_equal(provider_type_parse("infobip"), PROVIDER_INFOBIP_WHATSAPP);
    assert_int_equal(provider_type_parse("whatsapp_cloud"), PROVIDER_WHATSAPP_CLOUD);
    assert_int_equal(provider_type_parse("whatsapp"), PROVIDER_WHATSAPP_CLOUD);
    assert_int_equal(provider_type_parse("messenger"), PROVIDER_MESSENGER);
    assert_int_equal(provider_type_parse("webchat"), PROVIDER_WEBCHAT);
    assert_int_equal(provider_type_parse("Telegram"), PROVIDER_UNKNOWN);
    assert_int_equal(provider_type_parse(""), PROVIDER_UNKNOWN);
    assert_int_equal(provider_type_parse(NULL), PROVIDER_UNKNOWN);
    assert_string_equal(provider_type_name(PROVIDER_INFOBIP_WHATSAPP), "infobip_whatsapp");
    assert_string_equal(provider_type_name(PROVIDER_WHATSAPP_CLOUD), "whatsapp_cloud");
    assert_string_equal(provider_type_name((enum provider_type)42), "unknown");
    assert_string_equal(provider_event_kind_name(PROVIDER_EVENT_UNSUPPORTED), "unsupported");
    assert_string_equal(provider_receipt_name(PROVIDER_RECEIPT_READ), "read");
    assert_string_equal(provider_attachment_type_name(PROVIDER_ATTACHMENT_STICKER), "sticker");
    assert_string_equal(provider_attachment_type_name((enum provider_attachment_type)9), "unknown");
}

/* --- signatures ------------------------------------------------------------------------------ */

static void telegram_secret_token_must_match(void **state)
{
    const Cc__V1__Channel *ch = make_channel(PROVIDER_TELEGRAM);
    const char *h = "X-Telegram-Bot-Api-Secret-Token", *body = "{\"update_id\":1}";
    (void)state;
    assert_true(verify1(PROVIDER_TELEGRAM, ch->credentials, h, "s3cr3t-Token_1", body));
    assert_true(verify1(PROVIDER_TELEGRAM, ch->credentials, "x-telegram-bot-api-secret-token",
                        "s3cr3t-Token_1", body));
    assert_false(verify1(PROVIDER_TELEGRAM, ch->credentials, h, "s3cr3t-Token_2", body));
    assert_false(verify1(PROVIDER_TELEGRAM, ch->credentials, h, "s3cr3t-Token_1x", body));
    assert_false(verify1(PROVIDER_TELEGRAM, ch->credentials, h, "", body));
    assert_false(verify1(PROVIDER_TELEGRAM, ch->credentials, h, NULL, body));
    cred.secret_token = NULL; /* not configured: refuse everything */
    assert_false(verify1(PROVIDER_TELEGRAM, ch->credentials, h, "", body));
    assert_false(verify1(PROVIDER_TELEGRAM, NULL, h, "s3cr3t-Token_1", body));
}

static void viber_signature_is_hex_hmac_sha256_of_the_raw_body(void **state)
{
    const Cc__V1__Channel *ch = make_channel(PROVIDER_VIBER);
    const char *h = "X-Viber-Content-Signature";
    char hex[65];
    size_t len;
    (void)state;
    /* RFC 4231 test case 2. */
    cred.auth_token = S("Jefe");
    const char *rfc = "what do ya want for nothing?";
    assert_true(verify1(PROVIDER_VIBER, ch->credentials, h,
                        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", rfc));
    assert_true(verify1(PROVIDER_VIBER, ch->credentials, h,
                        "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843", rfc));
    assert_false(verify1(PROVIDER_VIBER, ch->credentials, h,
                         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3844", rfc));
    assert_false(verify1(PROVIDER_VIBER, ch->credentials, h,
                         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec38", rfc));
    assert_false(verify1(PROVIDER_VIBER, ch->credentials, h,
                         "zzdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", rfc));
    assert_false(verify1(PROVIDER_VIBER, ch->credentials, h, NULL, rfc));
    /* A real callback, signed with the channel's token, and the same body changed by a byte. */
    cred.auth_token = S(VIBER_TOKEN);
    char *body = load("viber", "text.json", &len);
    hmac_hex(VIBER_TOKEN, body, len, hex);
    struct headers hs = {{"X-Viber-Content-Signature"}, {hex}, 1};
    assert_true(provider_verify(PROVIDER_VIBER, ch->credentials, header_of, &hs, body, len));
    body[len / 2] ^= 1;
    assert_false(provider_verify(PROVIDER_VIBER, ch->credentials, header_of, &hs, body, len));
    body[len / 2] ^= 1;
    assert_false(provider_verify(PROVIDER_VIBER, ch->credentials, header_of, &hs, body, len - 1));
    cred.auth_token = S("another-token");
    assert_false(provider_verify(PROVIDER_VIBER, ch->credentials, header_of, &hs, body, len));
    free(body);
}

static void meta_signature_is_sha256_prefixed_hmac_with_the_app_secret(void **state)
{
    static const enum provider_type types[] = {PROVIDER_WHATSAPP_CLOUD, PROVIDER_MESSENGER};
    static const char *const files[][2] = {{"whatsapp", "text.json"}, {"messenger", "text.json"}};
    (void)state;
    for (int i = 0; i < 2; i++) {
        const Cc__V1__Channel *ch = make_channel(types[i]);
        char hex[65], sig[80];
        size_t len;
        char *body = load(files[i][0], files[i][1], &len);
        hmac_hex(cred.app_secret, body, len, hex);
        snprintf(sig, sizeof sig, "sha256=%s", hex);
        struct headers hs = {{"X-Hub-Signature-256"}, {sig}, 1};
        assert_true(provider_verify(types[i], ch->credentials, header_of, &hs, body, len));
        hs.value[0] = hex; /* no prefix */
        assert_false(provider_verify(types[i], ch->credentials, header_of, &hs, body, len));
        snprintf(sig, sizeof sig, "sha1=%s", hex);
        hs.value[0] = sig;
        assert_false(provider_verify(types[i], ch->credentials, header_of, &hs, body, len));
        snprintf(sig, sizeof sig, "sha256=%s", hex);
        body[0] = ' ';
        assert_false(provider_verify(types[i], ch->credentials, header_of, &hs, body, len));
        cred.app_secret = NULL;
        assert_false(provider_verify(types[i], ch->credentials, header_of, &hs, body, len));
        free(body);
    }
}

static void infobip_needs_the_configured_authorization_header(void **state)
{
    const Cc__V1__Channel *ch = make_channel(PROVIDER_INFOBIP_WHATSAPP);
    (void)state;
    assert_true(verify1(PROVIDER_INFOBIP_WHATSAPP, ch->credentials, "Authorization",
                        "Basic dXNlcjpwYXNzd29yZA==", "{}"));
    assert_false(verify1(PROVIDER_INFOBIP_WHATSAPP, ch->credentials, "Authorization",
                         "Basic dXNlcjpwYXNzd29yZA=", "{}"));
    assert_false(verify1(PROVIDER_INFOBIP_WHATSAPP, ch->credentials, "X-Other",
                         "Basic dXNlcjpwYXNzd29yZA==", "{}"));
    assert_false(verify1(PROVIDER_WEBCHAT, ch->credentials, "Authorization",
                         "Basic dXNlcjpwYXNzd29yZA==", "{}"));
    assert_false(provider_verify(PROVIDER_INFOBIP_WHATSAPP, ch->credentials, NULL, NULL, "{}", 2));
}

static void meta_challenge_needs_subscribe_and_the_verify_token(void **state)
{
    (void)state;
    const Cc__V1__Channel *ch = make_channel(PROVIDER_WHATSAPP_CLOUD);
    assert_true(provider_verify_challenge(PROVIDER_WHATSAPP_CLOUD, ch->credentials, "subscribe",
                                          "wa-verify"));
    assert_false(provider_verify_challenge(PROVIDER_WHATSAPP_CLOUD, ch->credentials, "subscribe",
                                           "wa-verif"));
    assert_false(provider_verify_challenge(PROVIDER_WHATSAPP_CLOUD, ch->credentials, "unsubscribe",
                                           "wa-verify"));
    assert_false(
        provider_verify_challenge(PROVIDER_WHATSAPP_CLOUD, ch->credentials, NULL, "wa-verify"));
    assert_false(
        provider_verify_challenge(PROVIDER_WHATSAPP_CLOUD, ch->credentials, "subscribe", NULL));
    assert_false(
        provider_verify_challenge(PROVIDER_TELEGRAM, ch->credentials, "subscribe", "wa-verify"));
    ch = make_channel(PROVIDER_MESSENGER);
    assert_true(
        provider_verify_challenge(PROVIDER_MESSENGER, ch->credentials, "subscribe", "fb-verify"));
    cred.verify_token = NULL;
    assert_false(provider_verify_challenge(PROVIDER_MESSENGER, ch->credentials, "subscribe", ""));
    assert_false(provider_verify_challenge(PROVIDER_MESSENGER, NULL, "subscribe", "fb-verify"));
}

/* --- Telegram webhooks -------------------------------------------------------------------- */

static void telegram_text_keeps_utf8_and_names_the_chat(void **state)
{
    (void)state;
    struct provider_batch *b = parse_fixture(PROVIDER_TELEGRAM, "telegram", "text.json");
    assert_int_equal(b->n, 1);
    const struct provider_event *ev =
        event(b, 0, PROVIDER_EVENT_MESSAGE, "1111111:1365", "1111111");
    assert_string_equal(ev->text, "Dzień dobry! Zażółć gęślą jaźń 😀");
    assert_string_equal(ev->customer_name, "Zażółć Gęślą");
    assert_null(ev->customer_phone);
    assert_int_equal(ev->timestamp_ms, 1441645532000LL);
    assert_int_equal(ev->n_attachments, 0);
    provider_batch_free(b);

    b = parse_fixture(PROVIDER_TELEGRAM, "telegram", "text_spanish.json");
    ev = event(b, 0, PROVIDER_EVENT_MESSAGE, "2222222:1366", "2222222");
    assert_string_equal(ev->text, "¿Dónde está mi pedido? ¡Gracias! 👍🏽");
    assert_string_equal(ev->customer_name, "José");
    provider_batch_free(b);
}

static void telegram_files_become_attachments_with_their_file_ids(void **state)
{
    (void)state;
    struct provider_batch *b = parse_fixture(PROVIDER_TELEGRAM, "telegram", "photo.json");
    const struct provider_event *ev =
        event(b, 0, PROVIDER_EVENT_MESSAGE, "1111111:1367", "1111111");
    assert_string_equal(ev->text, "Zdjęcie paragonu 🧾");
    assert_int_equal(ev->n_attachments, 1);
    attachment(ev, 0, PROVIDER_ATTACHMENT_IMAGE, "AgACAgIAAxkBAAIBZ2Large", "image/jpeg", NULL,
               84325);
    provider_batch_free(b);

    b = parse_fixture(PROVIDER_TELEGRAM, "telegram", "document.json");
    ev = event(b, 0, PROVIDER_EVENT_MESSAGE, "1111111:1368", "1111111");
    assert_null(ev->text);
    attachment(ev, 0, PROVIDER_ATTACHMENT_DOCUMENT, "BQACAgIAAxkBAAIBaGDoc", "application/pdf",
               "faktura_2024.pdf", 48213);
    provider_batch_free(b);

    b = parse_fixture(PROVIDER_TELEGRAM, "telegram", "sticker.json");
    ev = event(b, 0, PROVIDER_EVENT_MESSAGE, "1111111:1369", "1111111");
    attachment(ev, 0, PROVIDER_ATTACHMENT_STICKER, "CAACAgIAAxkBAAIBaXSticker",
               "application/x-tgsticker", NULL, 26542);
    provider_batch_free(b);

    b = parse_fixture(PROVIDER_TELEGRAM, "telegram", "voice.json");
    ev = event(b, 0, PROVIDER_EVENT_MESSAGE, "1111111:1370", "1111111");
    attachment(ev, 0, PROVIDER_ATTACHMENT_AUDIO, "AwACAgIAAxkBAAIBanVoice", "audio/ogg", NULL,
               9120);
    provider_batch_free(b);
}

static void telegram_edits_unsupported_and_other_updates(void **state)
{
    (void)state;
    struct provider_batch *b = parse_fixture(PROVIDER_TELEGRAM, "telegram", "edited.json");
    const struct provider_event *ev = event(b, 0, PROVIDER_EVENT_EDIT, "1111111:1365", "1111111");
    assert_string_equal(ev->text, "Dzień dobry! Poprawiona wiadomość ✏️");
    assert_int_equal(ev->timestamp_ms, 1441645590000LL);
    provider_batch_free(b);

    b = parse_fixture(PROVIDER_TELEGRAM, "telegram", "location.json");
    ev = event(b, 0, PROVIDER_EVENT_UNSUPPORTED, "1111111:1371", "1111111");
    assert_string_equal(ev->note, "telegram: location");
    assert_string_equal(ev->customer_name, "Zażółć Gęślą");
    provider_batch_free(b);

    b = parse_fixture(PROVIDER_TELEGRAM, "telegram", "contact.json");
    ev = event(b, 0, PROVIDER_EVENT_UNSUPPORTED, "1111111:1372", "1111111");
    assert_string_equal(ev->note, "telegram: contact");
    assert_string_equal(ev->customer_phone, "+48600100200"); /* the customer shared their own */
    provider_batch_free(b);

    b = parse_fixture(PROVIDER_TELEGRAM, "telegram", "my_chat_member.json");
    assert_int_equal(b->n, 1);
    ev = event(b, 0, PROVIDER_EVENT_IGNORED, NULL, NULL);
    assert_string_equal(ev->note, "telegram: my_chat_member");
    provider_batch_free(b);
}

/* --- Viber webhooks ----------------------------------------------------------------------------
 */

static void viber_message_token_keeps_all_64_bits(void **state)
{
    (void)state;
    struct provider_batch *b = parse_fixture(PROVIDER_VIBER, "viber", "text.json");
    const struct provider_event *ev =
        event(b, 0, PROVIDER_EVENT_MESSAGE, "5491234567890123456", "01234567890A=");
    assert_string_equal(ev->text, "¡Hola! ¿Me ayudan con la factura? 🙏");
    assert_string_equal(ev->customer_name, "María José");
    assert_int_equal(ev->timestamp_ms, 1457764197627LL);
    provider_batch_free(b);

    b = parse_fixture(PROVIDER_VIBER, "viber", "delivered.json");
    ev = event(b, 0, PROVIDER_EVENT_RECEIPT, "9223372036854775807", "01234567890A=");
    assert_int_equal(ev->receipt, PROVIDER_RECEIPT_DELIVERED);
    provider_batch_free(b);

    /* Only the top-level member counts, wherever the same name hides. */
    const char *tricky =
        "{\"event\":\"message\",\"sender\":{\"id\":\"u1\",\"name\":\"message_token\","
        "\"message_token\":1},\"tracking\":\"\\\"message_token\\\": 7\",\"list\":[{\"a\":[1,"
        "{\"message_token\":2}]}],\"message_token\" : 18446744073709551615,"
        "\"message\":{\"type\":\"text\",\"text\":\"x\"}}";
    b = parse_body(PROVIDER_VIBER, tricky, strlen(tricky));
    event(b, 0, PROVIDER_EVENT_MESSAGE, "18446744073709551615", "u1");
    provider_batch_free(b);
    parse_refused(PROVIDER_VIBER,
                  "{\"event\":\"message\",\"message_token\":18446744073709551616,"
                  "\"sender\":{\"id\":\"u1\"},\"message\":{\"type\":\"text\",\"text\":\"x\"}}",
                  "message_token");
    parse_refused(PROVIDER_VIBER,
                  "{\"event\":\"message\",\"sender\":{\"id\":\"u1\",\"message_token\":5},"
                  "\"message\":{\"type\":\"text\",\"text\":\"x\"}}",
                  "message_token");
    parse_refused(PROVIDER_VIBER, "{\"event\":\"seen\",\"message_token\":-5,\"user_id\":\"u1\"}",
                  "message_token");
    parse_refused(PROVIDER_VIBER, "{\"event\":\"seen\",\"message_token\":1.5,\"user_id\":\"u1\"}",
                  "message_token");
}

static void viber_media_messages_carry_their_urls(void **state)
{
    (void)state;
    struct provider_batch *b = parse_fixture(PROVIDER_VIBER, "viber", "picture.json");
    const struct provider_event *ev =
        event(b, 0, PROVIDER_EVENT_MESSAGE, "5491234567890123457", "01234567890A=");
    assert_string_equal(ev->text, "Foto del daño");
    attachment(ev, 0, PROVIDER_ATTACHMENT_IMAGE,
               "https://dl-media.viber.com/1/share/2/long/vibes/icon/image/0x0/95e0/"
               "5688fdffdaa81ec5e1c7be2e95e0/photo.jpg",
               NULL, "photo.jpg", 231442);
    provider_batch_free(b);

    b = parse_fixture(PROVIDER_VIBER, "viber", "file.json");
    ev = event(b, 0, PROVIDER_EVENT_MESSAGE, "5491234567890123458", "01234567890A=");
    assert_null(ev->text);
    attachment(ev, 0, PROVIDER_ATTACHMENT_DOCUMENT,
               "https://dl-media.viber.com/1/share/2/long/bots/generic/file/contrato.pdf", NULL,
               "contrato.pdf", 10000);
    provider_batch_free(b);

    b = parse_fixture(PROVIDER_VIBER, "viber", "sticker.json");
    ev = event(b, 0, PROVIDER_EVENT_MESSAGE, "5491234567890123459", "01234567890A=");
    attachment(ev, 0, PROVIDER_ATTACHMENT_STICKER, "https://viber.com/stickers/46105.png", NULL,
               NULL, -1);
    provider_batch_free(b);

    b = parse_fixture(PROVIDER_VIBER, "viber", "location.json");
    ev = event(b, 0, PROVIDER_EVENT_UNSUPPORTED, "5491234567890123460", "01234567890A=");
    assert_string_equal(ev->note, "viber: location");
    provider_batch_free(b);
}

static void viber_receipts_and_housekeeping_events(void **state)
{
    (void)state;
    struct provider_batch *b = parse_fixture(PROVIDER_VIBER, "viber", "seen.json");
    const struct provider_event *ev =
        event(b, 0, PROVIDER_EVENT_RECEIPT, "5491234567890123999", "01234567890A=");
    assert_int_equal(ev->receipt, PROVIDER_RECEIPT_READ);
    assert_int_equal(ev->timestamp_ms, 1457764197628LL);
    provider_batch_free(b);

    b = parse_fixture(PROVIDER_VIBER, "viber", "failed.json");
    ev = event(b, 0, PROVIDER_EVENT_RECEIPT, "4912661846655238145", "01234567890A=");
    assert_int_equal(ev->receipt, PROVIDER_RECEIPT_FAILED);
    assert_string_equal(ev->text, "failure description");
    provider_batch_free(b);

    b = parse_fixture(PROVIDER_VIBER, "viber", "subscribed.json");
    ev = event(b, 0, PROVIDER_EVENT_IGNORED, NULL, "01234567890A=");
    assert_string_equal(ev->note, "viber: subscribed");
    provider_batch_free(b);

    b = parse_fixture(PROVIDER_VIBER, "viber", "conversation_started.json");
    ev = event(b, 0, PROVIDER_EVENT_IGNORED, NULL, "01234567890A=");
    assert_string_equal(ev->note, "viber: conversation_started");
    provider_batch_free(b);

    b = parse_fixture(PROVIDER_VIBER, "viber", "webhook.json");
    ev = event(b, 0, PROVIDER_EVENT_IGNORED, NULL, NULL);
    assert_string_equal(ev->note, "viber: webhook");
    provider_batch_free(b);
}

/* --- Infobip webhooks
 * ------------------------------------------------------------------------------ */

static void infobip_inbound_messages_and_media(void **state)
{
    (void)state;
    struct provider_batch *b = parse_fixture(PROVIDER_INFOBIP_WHATSAPP, "infobip", "text.json");
    const struct provider_event *ev =
        event(b, 0, PROVIDER_EVENT_MESSAGE,
              "wamid.HBgLMzQ2MTIzNDU2NzgVAgASGBQzQTdCMDRFNkU2RUY3RjI5RjU4MQA=", "34612345678");
    assert_string_equal(ev->text, "Buenos días, ¿cuándo llega mi pedido? 📦");
    assert_string_equal(ev->customer_name, "Mónica Núñez");
    assert_string_equal(ev->customer_phone, "34612345678");
    assert_int_equal(ev->timestamp_ms, 1735726200000LL);
    provider_batch_free(b);

    b = parse_fixture(PROVIDER_INFOBIP_WHATSAPP, "infobip", "image.json");
    ev = &b->events[0];
    assert_string_equal(ev->text, "Foto del paquete");
    attachment(ev, 0, PROVIDER_ATTACHMENT_IMAGE,
               "https://api.infobip.com/whatsapp/1/senders/41793026731/media/"
               "f1b96d31-9ab9-4513-808b-50ab37360fbe",
               NULL, NULL, -1);
    provider_batch_free(b);

    b = parse_fixture(PROVIDER_INFOBIP_WHATSAPP, "infobip", "document.json");
    ev = &b->events[0];
    assert_string_equal(ev->text, "Factura");
    assert_int_equal(ev->attachments[0].type, PROVIDER_ATTACHMENT_DOCUMENT);
    provider_batch_free(b);

    b = parse_fixture(PROVIDER_INFOBIP_WHATSAPP, "infobip", "location.json");
    ev = event(b, 0, PROVIDER_EVENT_UNSUPPORTED,
               "wamid.HBgLMzQ2MTIzNDU2NzgVAgASGBQzQUM5MDBGRDE0QzMyRjdBNjE5MgA=", "34612345678");
    assert_string_equal(ev->note, "infobip: LOCATION");
    provider_batch_free(b);
}

static void infobip_batch_holds_several_messages_in_order(void **state)
{
    (void)state;
    struct provider_batch *b = parse_fixture(PROVIDER_INFOBIP_WHATSAPP, "infobip", "batch.json");
    assert_int_equal(b->n, 3);
    const struct provider_event *ev =
        event(b, 0, PROVIDER_EVENT_MESSAGE, "ABEGOFl3VCQoAhBalbc6rTQT6mgS29EmGZ7a", "385919998888");
    assert_string_equal(ev->text, "Dobar dan! 👋");
    assert_int_equal(ev->timestamp_ms, 1563535435000LL);
    ev = event(b, 1, PROVIDER_EVENT_MESSAGE, "ABEGOFl3VCQoAhBalbc6rTQT6mgS29EmGZ7b", "48600100200");
    assert_string_equal(ev->customer_name, "Łucja");
    assert_int_equal(ev->timestamp_ms, 1563528240500LL); /* +0200 offset applied */
    ev =
        event(b, 2, PROVIDER_EVENT_MESSAGE, "ABEGOFl3VCQoAhBalbc6rTQT6mgS29EmGZ7c", "385919998888");
    assert_int_equal(ev->attachments[0].type, PROVIDER_ATTACHMENT_STICKER);
    assert_null(ev->text);
    provider_batch_free(b);
}

static void infobip_delivery_and_seen_reports(void **state)
{
    (void)state;
    struct provider_batch *b = parse_fixture(PROVIDER_INFOBIP_WHATSAPP, "infobip", "dlr.json");
    assert_int_equal(b->n, 3);
    const struct provider_event *ev =
        event(b, 0, PROVIDER_EVENT_RECEIPT, "a28dd97c-1ffb-4fcf-99f1-0b557ed381da", "34612345678");
    assert_int_equal(ev->receipt, PROVIDER_RECEIPT_DELIVERED);
    assert_null(ev->text);
    assert_int_equal(ev->timestamp_ms, 1554836516494LL);
    ev = event(b, 1, PROVIDER_EVENT_RECEIPT, "12db39c3-7822-4e72-a3ec-c87442c0ffc5", "34612345678");
    assert_int_equal(ev->receipt, PROVIDER_RECEIPT_FAILED);
    assert_string_equal(ev->text, "Message failed to send: recipient outside the 24h window");
    ev = event(b, 2, PROVIDER_EVENT_IGNORED, NULL, "34612345678");
    assert_string_equal(ev->note, "infobip: status PENDING");
    provider_batch_free(b);

    b = parse_fixture(PROVIDER_INFOBIP_WHATSAPP, "infobip", "seen.json");
    ev = event(b, 0, PROVIDER_EVENT_RECEIPT, "a28dd97c-1ffb-4fcf-99f1-0b557ed381da", "34612345678");
    assert_int_equal(ev->receipt, PROVIDER_RECEIPT_READ);
    assert_int_equal(ev->timestamp_ms, 1554825900000LL);
    provider_batch_free(b);
}

/* --- WhatsApp Cloud webhooks ---------------------------------------------------------------------
 */

static void whatsapp_messages_take_the_profile_name_from_contacts(void **state)
{
    (void)state;
    struct provider_batch *b = parse_fixture(PROVIDER_WHATSAPP_CLOUD, "whatsapp", "text.json");
    const struct provider_event *ev =
        event(b, 0, PROVIDER_EVENT_MESSAGE, "wamid.ABGGFlA5FpafAgo6EHNtOdOuA4ABC", "16315551181");
    assert_string_equal(ev->text, "Hello! Zażółć gęślą jaźń, ¿qué tal? 🎉");
    assert_string_equal(ev->customer_name, "Kerry Fisher");
    assert_string_equal(ev->customer_phone, "16315551181");
    assert_int_equal(ev->timestamp_ms, 1603059201000LL);
    provider_batch_free(b);

    b = parse_fixture(PROVIDER_WHATSAPP_CLOUD, "whatsapp", "image.json");
    ev = event(b, 0, PROVIDER_EVENT_MESSAGE, "wamid.ABGGFlA5FpafAgo6EHNtOdOuA4IMG", "16315551181");
    assert_string_equal(ev->text, "This is a caption");
    attachment(ev, 0, PROVIDER_ATTACHMENT_IMAGE, "1003383421387256", "image/jpeg", NULL, -1);
    provider_batch_free(b);

    b = parse_fixture(PROVIDER_WHATSAPP_CLOUD, "whatsapp", "document.json");
    ev = &b->events[0];
    attachment(ev, 0, PROVIDER_ATTACHMENT_DOCUMENT, "2154536578372642", "application/pdf",
               "invoice-03.pdf", -1);
    assert_string_equal(ev->text, "Invoice March");
    provider_batch_free(b);

    b = parse_fixture(PROVIDER_WHATSAPP_CLOUD, "whatsapp", "sticker.json");
    attachment(&b->events[0], 0, PROVIDER_ATTACHMENT_STICKER, "1228291281205959", "image/webp",
               NULL, -1);
    provider_batch_free(b);

    b = parse_fixture(PROVIDER_WHATSAPP_CLOUD, "whatsapp", "location.json");
    ev = event(b, 0, PROVIDER_EVENT_UNSUPPORTED, "wamid.ABGGFlA5FpafAgo6EHNtOdOuA4LOC",
               "16315551181");
    assert_string_equal(ev->note, "whatsapp: location");
    provider_batch_free(b);
}

static void whatsapp_batch_spans_entries_and_changes(void **state)
{
    (void)state;
    struct provider_batch *b = parse_fixture(PROVIDER_WHATSAPP_CLOUD, "whatsapp", "batch.json");
    assert_int_equal(b->n, 4);
    event(b, 0, PROVIDER_EVENT_MESSAGE, "wamid.batch1", "16315551181");
    const struct provider_event *ev =
        event(b, 1, PROVIDER_EVENT_MESSAGE, "wamid.batch2", "48600100200");
    assert_string_equal(ev->customer_name, "Łukasz Żółw");
    assert_string_equal(ev->text, "drugi 😊");
    ev = event(b, 2, PROVIDER_EVENT_MESSAGE, "wamid.batch3", "16315551181");
    assert_string_equal(ev->text, "Yes, please");
    ev = event(b, 3, PROVIDER_EVENT_IGNORED, NULL, NULL);
    assert_string_equal(ev->note, "whatsapp: field message_template_status_update");
    provider_batch_free(b);
}

static void whatsapp_statuses_become_receipts(void **state)
{
    (void)state;
    const char *id = "wamid.HBgLMTYzMTU1NTExODEVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA";
    struct provider_batch *b = parse_fixture(PROVIDER_WHATSAPP_CLOUD, "whatsapp", "statuses.json");
    assert_int_equal(b->n, 4);
    const struct provider_event *ev = event(b, 0, PROVIDER_EVENT_IGNORED, NULL, "16315551181");
    assert_string_equal(ev->note, "whatsapp: status sent");
    ev = event(b, 1, PROVIDER_EVENT_RECEIPT, id, "16315551181");
    assert_int_equal(ev->receipt, PROVIDER_RECEIPT_DELIVERED);
    assert_int_equal(ev->timestamp_ms, 1603086314000LL);
    ev = event(b, 2, PROVIDER_EVENT_RECEIPT, id, "16315551181");
    assert_int_equal(ev->receipt, PROVIDER_RECEIPT_READ);
    ev = event(b, 3, PROVIDER_EVENT_RECEIPT,
               "wamid.HBgLMTYzMTU1NTExODEVAgARGBJGQUlMRUQ0NUY2Nzg5QUJDREVGAA==", "16315551181");
    assert_int_equal(ev->receipt, PROVIDER_RECEIPT_FAILED);
    assert_string_equal(ev->text, "Re-engagement message: Message failed to send because more "
                                  "than 24 hours have passed since the customer last replied to "
                                  "this number.");
    provider_batch_free(b);
}

/* --- Messenger webhooks --------------------------------------------------------------------------
 */

static void messenger_messages_and_attachments(void **state)
{
    (void)state;
    struct provider_batch *b = parse_fixture(PROVIDER_MESSENGER, "messenger", "text.json");
    const struct provider_event *ev = event(
        b, 0, PROVIDER_EVENT_MESSAGE,
        "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P",
        "2143458689072539");
    assert_string_equal(ev->text, "Cześć! Czy sklep jest otwarty w niedzielę? 🛒");
    assert_int_equal(ev->timestamp_ms, 1458692752478LL);
    assert_null(ev->customer_name);
    provider_batch_free(b);

    b = parse_fixture(PROVIDER_MESSENGER, "messenger", "image.json");
    ev = event(b, 0, PROVIDER_EVENT_MESSAGE, "m_image1", "2143458689072539");
    assert_null(ev->text);
    assert_int_equal(ev->n_attachments, 1);
    attachment(ev, 0, PROVIDER_ATTACHMENT_IMAGE,
               "https://scontent.xx.fbcdn.net/v/t1.15752-9/photo.jpg?_nc_cat=1&oh=abc", NULL, NULL,
               -1);
    provider_batch_free(b);

    b = parse_fixture(PROVIDER_MESSENGER, "messenger", "file.json");
    ev = event(b, 0, PROVIDER_EVENT_MESSAGE, "m_file1", "2143458689072539");
    assert_string_equal(ev->text, "Aquí está el contrato");
    assert_int_equal(ev->attachments[0].type, PROVIDER_ATTACHMENT_DOCUMENT);
    provider_batch_free(b);

    /* During Meta's transition a sticker comes as "sticker" and as "image": one is kept. */
    b = parse_fixture(PROVIDER_MESSENGER, "messenger", "sticker.json");
    ev = event(b, 0, PROVIDER_EVENT_MESSAGE, "m_sticker1", "2143458689072539");
    assert_int_equal(ev->n_attachments, 1);
    assert_int_equal(ev->attachments[0].type, PROVIDER_ATTACHMENT_STICKER);
    provider_batch_free(b);

    b = parse_fixture(PROVIDER_MESSENGER, "messenger", "fallback.json");
    ev = event(b, 0, PROVIDER_EVENT_UNSUPPORTED, "m_fallback1", "2143458689072539");
    assert_string_equal(ev->note, "messenger: fallback");
    provider_batch_free(b);

    b = parse_fixture(PROVIDER_MESSENGER, "messenger", "postback.json");
    ev = event(b, 0, PROVIDER_EVENT_MESSAGE, "m_postback1", "2143458689072539");
    assert_string_equal(ev->text, "Get Started");
    provider_batch_free(b);
}

static void messenger_echoes_edits_and_receipts(void **state)
{
    (void)state;
    struct provider_batch *b = parse_fixture(PROVIDER_MESSENGER, "messenger", "echo.json");
    const struct provider_event *ev = event(b, 0, PROVIDER_EVENT_IGNORED, NULL, "103429968489937");
    assert_string_equal(ev->note, "messenger: echo");
    provider_batch_free(b);

    b = parse_fixture(PROVIDER_MESSENGER, "messenger", "edit.json");
    ev = event(b, 0, PROVIDER_EVENT_EDIT, "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM", "2143458689072539");
    assert_string_equal(ev->text, "Cześć! Poprawka ✏️");
    provider_batch_free(b);

    b = parse_fixture(PROVIDER_MESSENGER, "messenger", "delivery.json");
    assert_int_equal(b->n, 2);
    ev = event(b, 0, PROVIDER_EVENT_RECEIPT, "mid.1458668856218:ed81099e15d3f4f233",
               "2143458689072539");
    assert_int_equal(ev->receipt, PROVIDER_RECEIPT_DELIVERED);
    assert_int_equal(ev->watermark_ms, 0);
    event(b, 1, PROVIDER_EVENT_RECEIPT, "mid.1458668856219:aa81099e15d3f4f244", "2143458689072539");
    provider_batch_free(b);

    b = parse_fixture(PROVIDER_MESSENGER, "messenger", "delivery_watermark.json");
    ev = event(b, 0, PROVIDER_EVENT_RECEIPT, NULL, "2143458689072539");
    assert_int_equal(ev->receipt, PROVIDER_RECEIPT_DELIVERED);
    assert_int_equal(ev->watermark_ms, 1458668856253LL);
    provider_batch_free(b);

    b = parse_fixture(PROVIDER_MESSENGER, "messenger", "read.json");
    ev = event(b, 0, PROVIDER_EVENT_RECEIPT, NULL, "2143458689072539");
    assert_int_equal(ev->receipt, PROVIDER_RECEIPT_READ);
    assert_int_equal(ev->watermark_ms, 1458668856253LL);
    assert_int_equal(ev->timestamp_ms, 1458668856463LL);
    provider_batch_free(b);
}

static void messenger_batch_spans_entries_and_skips_standby(void **state)
{
    (void)state;
    struct provider_batch *b = parse_fixture(PROVIDER_MESSENGER, "messenger", "batch.json");
    assert_int_equal(b->n, 4);
    event(b, 0, PROVIDER_EVENT_MESSAGE, "m_b1", "1111");
    assert_int_equal(event(b, 1, PROVIDER_EVENT_RECEIPT, NULL, "2222")->receipt,
                     PROVIDER_RECEIPT_READ);
    assert_string_equal(event(b, 2, PROVIDER_EVENT_MESSAGE, "m_b2", "3333")->text, "segunda ñ");
    assert_string_equal(event(b, 3, PROVIDER_EVENT_IGNORED, NULL, "1111")->note,
                        "messenger: reaction");
    provider_batch_free(b);
}

/* --- refusals
 * ------------------------------------------------------------------------------------- */

static void malformed_bodies_are_refused_for_every_provider(void **state)
{
    static const enum provider_type types[] = {PROVIDER_TELEGRAM, PROVIDER_VIBER,
                                               PROVIDER_INFOBIP_WHATSAPP, PROVIDER_WHATSAPP_CLOUD,
                                               PROVIDER_MESSENGER};
    struct provider_batch *b = NULL;
    char why[64];
    (void)state;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        parse_refused(types[i], "{", "malformed JSON");
        parse_refused(types[i], "not json", "malformed JSON");
        parse_refused(types[i], "{} {}", "malformed JSON");
        parse_refused(types[i], "[1,2]", "expected an object");
        parse_refused(types[i], "\"text\"", "expected an object");
        parse_refused(types[i], "{\"a\":\"\xff\"}", "UTF-8");
        parse_refused(types[i], "{}", ":");
        assert_int_equal(provider_parse(types[i], "", 0, &b, why, sizeof why), CC_ERR_INVALID);
        assert_int_equal(provider_parse(types[i], NULL, 0, &b, NULL, 0), CC_ERR_INVALID);
        assert_null(b);
    }
    parse_refused(PROVIDER_WEBCHAT, "{}", "webchat");
    parse_refused(PROVIDER_UNKNOWN, "{}", "unknown");
    /* Trailing whitespace is fine. */
    const char *spaced = "{\"update_id\":5}\r\n ";
    b = parse_body(PROVIDER_TELEGRAM, spaced, strlen(spaced));
    assert_int_equal(b->n, 1);
    provider_batch_free(b);
}

static void missing_or_mistyped_required_fields_are_named(void **state)
{
    (void)state;
    parse_refused(PROVIDER_TELEGRAM, "{\"message\":{}}", "update_id");
    parse_refused(PROVIDER_TELEGRAM, "{\"update_id\":\"1\",\"message\":{}}", "update_id");
    parse_refused(PROVIDER_TELEGRAM,
                  "{\"update_id\":1,\"message\":{\"message_id\":1,\"date\":1,\"text\":\"x\"}}",
                  "message.chat.id");
    parse_refused(PROVIDER_TELEGRAM,
                  "{\"update_id\":1,\"message\":{\"chat\":{\"id\":\"7\"},\"message_id\":1}}",
                  "message.chat.id");
    parse_refused(PROVIDER_TELEGRAM,
                  "{\"update_id\":1,\"message\":{\"chat\":{\"id\":7},\"message_id\":1.5}}",
                  "message.message_id");
    parse_refused(PROVIDER_TELEGRAM,
                  "{\"update_id\":1,\"message\":{\"chat\":{\"id\":7},\"message_id\":1,"
                  "\"photo\":[{\"file_size\":3}]}}",
                  "message.photo: expected a file_id");
    parse_refused(PROVIDER_VIBER, "{\"timestamp\":1}", "event");
    parse_refused(PROVIDER_VIBER,
                  "{\"event\":\"message\",\"message_token\":1,\"message\":{\"type\":\"text\","
                  "\"text\":\"x\"}}",
                  "sender.id");
    parse_refused(PROVIDER_VIBER,
                  "{\"event\":\"message\",\"message_token\":1,\"sender\":{\"id\":\"u\"}}",
                  "message.type");
    parse_refused(PROVIDER_VIBER,
                  "{\"event\":\"message\",\"message_token\":1,\"sender\":{\"id\":\"u\"},"
                  "\"message\":{\"type\":\"text\"}}",
                  "message.text");
    parse_refused(PROVIDER_VIBER, "{\"event\":\"delivered\",\"message_token\":1}", "user_id");
    parse_refused(PROVIDER_INFOBIP_WHATSAPP, "{\"results\":{}}", "results");
    parse_refused(PROVIDER_INFOBIP_WHATSAPP, "{\"results\":[1]}", "results[0]");
    parse_refused(PROVIDER_INFOBIP_WHATSAPP, "{\"results\":[{\"to\":\"1\"}]}",
                  "neither a message nor a report");
    parse_refused(PROVIDER_INFOBIP_WHATSAPP,
                  "{\"results\":[{\"from\":\"1\",\"message\":{\"type\":\"TEXT\",\"text\":\"x\"}}]}",
                  "results[0].messageId");
    parse_refused(PROVIDER_INFOBIP_WHATSAPP,
                  "{\"results\":[{\"messageId\":\"m\",\"from\":\"1\",\"message\":{\"type\":"
                  "\"IMAGE\"}}]}",
                  "results[0].message.url");
    parse_refused(PROVIDER_INFOBIP_WHATSAPP,
                  "{\"results\":[{\"messageId\":\"m\",\"status\":{\"id\":5}}]}",
                  "results[0].status.groupName");
    parse_refused(PROVIDER_WHATSAPP_CLOUD, "{\"object\":\"page\",\"entry\":[]}", "object");
    parse_refused(PROVIDER_WHATSAPP_CLOUD, "{\"object\":\"whatsapp_business_account\"}", "entry");
    parse_refused(PROVIDER_WHATSAPP_CLOUD,
                  "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"changes\":[{\"field\":"
                  "\"messages\",\"value\":{\"messages\":[{\"from\":\"1\",\"type\":\"text\","
                  "\"text\":{\"body\":\"x\"}}]}}]}]}",
                  "entry[0].changes[0].value.messages[0].id");
    parse_refused(PROVIDER_WHATSAPP_CLOUD,
                  "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"changes\":[{\"field\":"
                  "\"messages\",\"value\":{\"messages\":[{\"from\":\"1\",\"id\":\"w\",\"type\":"
                  "\"image\",\"image\":{}}]}}]}]}",
                  "messages[0].image.id");
    parse_refused(PROVIDER_WHATSAPP_CLOUD,
                  "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"changes\":[{\"field\":"
                  "\"messages\",\"value\":{\"statuses\":[{\"id\":\"w\"}]}}]}]}",
                  "statuses[0].status");
    parse_refused(PROVIDER_MESSENGER, "{\"object\":\"instagram\",\"entry\":[]}", "object");
    parse_refused(
        PROVIDER_MESSENGER,
        "{\"object\":\"page\",\"entry\":[{\"messaging\":[{\"message\":{\"mid\":\"m\"}}]}]}",
        "entry[0].messaging[0].sender.id");
    parse_refused(PROVIDER_MESSENGER,
                  "{\"object\":\"page\",\"entry\":[{\"messaging\":[{\"sender\":{\"id\":\"1\"},"
                  "\"message\":{\"text\":\"x\"}}]}]}",
                  "message.mid");
}

/* --- outbound requests --------------------------------------------------------------------------
 */

static void telegram_send_requests(void **state)
{
    const Cc__V1__Channel *ch = make_channel(PROVIDER_TELEGRAM);
    struct provider_request req;
    (void)state;
    cJSON *j = send_ok(PROVIDER_TELEGRAM, ch, "1111111", "Dzień dobry 😀", NULL, &req,
                       BASE "/bot" TG_TOKEN "/sendMessage");
    assert_string_equal(req.log_url, BASE "/bot<redacted>/sendMessage");
    assert_null(strstr(req.log_url, "ABC-DEF"));
    assert_string_equal(jstr(j, "chat_id"), "1111111");
    assert_string_equal(jstr(j, "text"), "Dzień dobry 😀");
    assert_non_null(strstr(req.body, "Dzień dobry 😀")); /* UTF-8 as is, not \u escapes */
    cJSON_Delete(j);
    provider_request_release(&req);

    struct provider_file photo = {"https://files.example.com/f/abc", "image/png", "a.png", 100};
    j = send_ok(PROVIDER_TELEGRAM, ch, "1111111", "Proszę", &photo, &req,
                BASE "/bot" TG_TOKEN "/sendPhoto");
    assert_string_equal(jstr(j, "photo"), photo.url);
    assert_string_equal(jstr(j, "caption"), "Proszę");
    cJSON_Delete(j);
    provider_request_release(&req);

    struct provider_file gif = {"https://files.example.com/f/g", NULL, "funny.GIF", 0};
    j = send_ok(PROVIDER_TELEGRAM, ch, "1111111", NULL, &gif, &req,
                BASE "/bot" TG_TOKEN "/sendAnimation");
    assert_string_equal(jstr(j, "animation"), gif.url);
    assert_null(jstr(j, "caption"));
    cJSON_Delete(j);
    provider_request_release(&req);

    struct provider_file pdf = {"https://files.example.com/f/p", "application/pdf", "umowa.pdf", 9};
    j = send_ok(PROVIDER_TELEGRAM, ch, "-1001234567890", "", &pdf, &req,
                BASE "/bot" TG_TOKEN "/sendDocument");
    assert_string_equal(jstr(j, "chat_id"), "-1001234567890");
    assert_string_equal(jstr(j, "document"), pdf.url);
    cJSON_Delete(j);
    provider_request_release(&req);

    /* Telegram fetches only gif, pdf and zip documents by URL: others go as a link. */
    struct provider_file docx = {"https://files.example.com/f/d",
                                 "application/vnd.openxmlformats-officedocument.wordprocessingml."
                                 "document",
                                 "umowa.docx", 9};
    j = send_ok(PROVIDER_TELEGRAM, ch, "1111111", "Umowa", &docx, &req,
                BASE "/bot" TG_TOKEN "/sendMessage");
    assert_string_equal(jstr(j, "text"), "Umowa\n\numowa.docx: https://files.example.com/f/d");
    cJSON_Delete(j);
    provider_request_release(&req);

    /* No api_base_url: the public Bot API. */
    channel.api_base_url = NULL;
    j = send_ok(PROVIDER_TELEGRAM, ch, "1", "x", NULL, &req,
                "https://api.telegram.org/bot" TG_TOKEN "/sendMessage");
    cJSON_Delete(j);
    provider_request_release(&req);

    cred.bot_token = S("12:ab/../x");
    send_refused(PROVIDER_TELEGRAM, ch, "1", "x", NULL, "bot_token");
    cred.bot_token = NULL;
    send_refused(PROVIDER_TELEGRAM, ch, "1", "x", NULL, "bot_token");
}

static void viber_send_requests(void **state)
{
    const Cc__V1__Channel *ch = make_channel(PROVIDER_VIBER);
    struct provider_request req;
    (void)state;
    channel.name = S("Obsługa klienta — Zażółć Gęślą Jaźń 24/7");
    cJSON *j = send_ok(PROVIDER_VIBER, ch, "01234567890A=", "¡Hola! 😀", NULL, &req,
                       BASE "/pa/send_message");
    assert_true(has_header(&req, "X-Viber-Auth-Token: " VIBER_TOKEN));
    assert_string_equal(req.log_url, BASE "/pa/send_message");
    assert_string_equal(jstr(j, "receiver"), "01234567890A=");
    assert_string_equal(jstr(j, "type"), "text");
    assert_string_equal(jstr(j, "text"), "¡Hola! 😀");
    assert_true(jnum(j, "min_api_version") == 1);
    /* sender.name: 28 characters, not bytes, and never a cut UTF-8 sequence. */
    assert_string_equal(jstr(j, "sender.name"), "Obsługa klienta — Zażółć Gęś");
    cJSON_Delete(j);
    provider_request_release(&req);

    struct provider_file pic = {"https://files.example.com/f/p.jpg", "image/jpeg", "p.jpg", 1234};
    j = send_ok(PROVIDER_VIBER, ch, "01234567890A=", NULL, &pic, &req, BASE "/pa/send_message");
    assert_string_equal(jstr(j, "type"), "picture");
    assert_string_equal(jstr(j, "media"), pic.url);
    assert_string_equal(jstr(j, "text"), ""); /* required by Viber, may be empty */
    cJSON_Delete(j);
    provider_request_release(&req);

    struct provider_file doc = {"https://files.example.com/f/c.pdf", "application/pdf",
                                "contrato.pdf", 10000};
    j = send_ok(PROVIDER_VIBER, ch, "01234567890A=", NULL, &doc, &req, BASE "/pa/send_message");
    assert_string_equal(jstr(j, "type"), "file");
    assert_string_equal(jstr(j, "file_name"), "contrato.pdf");
    assert_true(jnum(j, "size") == 10000);
    cJSON_Delete(j);
    provider_request_release(&req);

    /* A file message has no caption, and Viber needs the size: else a link. */
    doc.size = 0;
    j = send_ok(PROVIDER_VIBER, ch, "01234567890A=", NULL, &doc, &req, BASE "/pa/send_message");
    assert_string_equal(jstr(j, "type"), "text");
    assert_string_equal(jstr(j, "text"), "contrato.pdf: https://files.example.com/f/c.pdf");
    cJSON_Delete(j);
    provider_request_release(&req);

    cred.auth_token = NULL;
    send_refused(PROVIDER_VIBER, ch, "01234567890A=", "x", NULL, "auth_token");
}

static void infobip_send_requests(void **state)
{
    const Cc__V1__Channel *ch = make_channel(PROVIDER_INFOBIP_WHATSAPP);
    struct provider_request req;
    (void)state;
    cJSON *j = send_ok(PROVIDER_INFOBIP_WHATSAPP, ch, "34612345678", "¿Algo más? 🙂", NULL,
                       &req, BASE "/whatsapp/1/message/text");
    assert_true(has_header(&req, "Authorization: App " IB_KEY));
    assert_string_equal(jstr(j, "from"), "41793026731");
    assert_string_equal(jstr(j, "to"), "34612345678");
    assert_string_equal(jstr(j, "content.text"), "¿Algo más? 🙂");
    cJSON_Delete(j);
    provider_request_release(&req);

    struct provider_file pic = {"https://files.example.com/f/p.jpeg", NULL, "p.jpeg", 0};
    j = send_ok(PROVIDER_INFOBIP_WHATSAPP, ch, "34612345678", "Foto", &pic, &req,
                BASE "/whatsapp/1/message/image");
    assert_string_equal(jstr(j, "content.mediaUrl"), pic.url);
    assert_string_equal(jstr(j, "content.caption"), "Foto");
    cJSON_Delete(j);
    provider_request_release(&req);

    struct provider_file doc = {"https://files.example.com/f/f.pdf", "application/pdf",
                                "factura.pdf", 0};
    j = send_ok(PROVIDER_INFOBIP_WHATSAPP, ch, "34612345678", NULL, &doc, &req,
                BASE "/whatsapp/1/message/document");
    assert_string_equal(jstr(j, "content.mediaUrl"), doc.url);
    assert_string_equal(jstr(j, "content.filename"), "factura.pdf");
    assert_null(jstr(j, "content.caption"));
    cJSON_Delete(j);
    provider_request_release(&req);

    cred.sender = NULL;
    send_refused(PROVIDER_INFOBIP_WHATSAPP, ch, "34612345678", "x", NULL, "sender");
    ch = make_channel(PROVIDER_INFOBIP_WHATSAPP);
    cred.api_key = NULL;
    send_refused(PROVIDER_INFOBIP_WHATSAPP, ch, "34612345678", "x", NULL, "api_key");
    ch = make_channel(PROVIDER_INFOBIP_WHATSAPP);
    channel.api_base_url = NULL; /* every Infobip account has its own root */
    send_refused(PROVIDER_INFOBIP_WHATSAPP, ch, "34612345678", "x", NULL, "api_base_url");
}

static void whatsapp_cloud_send_requests(void **state)
{
    const Cc__V1__Channel *ch = make_channel(PROVIDER_WHATSAPP_CLOUD);
    struct provider_request req;
    (void)state;
    cJSON *j = send_ok(PROVIDER_WHATSAPP_CLOUD, ch, "16315551181", "Hi Kerry 👋", NULL, &req,
                       BASE "/v21.0/106540352242922/messages");
    assert_true(has_header(&req, "Authorization: Bearer " WA_TOKEN));
    assert_string_equal(jstr(j, "messaging_product"), "whatsapp");
    assert_string_equal(jstr(j, "recipient_type"), "individual");
    assert_string_equal(jstr(j, "to"), "16315551181");
    assert_string_equal(jstr(j, "type"), "text");
    assert_string_equal(jstr(j, "text.body"), "Hi Kerry 👋");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "text"), "preview_url")));
    cJSON_Delete(j);
    provider_request_release(&req);

    channel.api_version = S("v19.0");
    j = send_ok(PROVIDER_WHATSAPP_CLOUD, ch, "16315551181", "see https://example.com", NULL, &req,
                BASE "/v19.0/106540352242922/messages");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "text"), "preview_url")));
    cJSON_Delete(j);
    provider_request_release(&req);
    channel.api_version = NULL;

    struct provider_file pic = {"https://files.example.com/f/p.gif", "image/gif", NULL, 0};
    j = send_ok(PROVIDER_WHATSAPP_CLOUD, ch, "16315551181", "caption ✓", &pic, &req,
                BASE "/v21.0/106540352242922/messages");
    assert_string_equal(jstr(j, "type"), "image");
    assert_string_equal(jstr(j, "image.link"), pic.url);
    assert_string_equal(jstr(j, "image.caption"), "caption ✓");
    cJSON_Delete(j);
    provider_request_release(&req);

    struct provider_file doc = {"https://files.example.com/f/i.pdf", "application/pdf",
                                "invoice.pdf", 0};
    j = send_ok(PROVIDER_WHATSAPP_CLOUD, ch, "16315551181", NULL, &doc, &req,
                BASE "/v21.0/106540352242922/messages");
    assert_string_equal(jstr(j, "type"), "document");
    assert_string_equal(jstr(j, "document.link"), doc.url);
    assert_string_equal(jstr(j, "document.filename"), "invoice.pdf");
    cJSON_Delete(j);
    provider_request_release(&req);

    channel.api_version = S("v21.0/../../x");
    send_refused(PROVIDER_WHATSAPP_CLOUD, ch, "16315551181", "x", NULL, "api_version");
    channel.api_version = NULL;
    cred.access_token = S("EAAG\r\nX-Injected: 1");
    send_refused(PROVIDER_WHATSAPP_CLOUD, ch, "16315551181", "x", NULL, "control character");
    cred.access_token = NULL;
    send_refused(PROVIDER_WHATSAPP_CLOUD, ch, "16315551181", "x", NULL, "access token");
    cred.phone_number_id = NULL;
    send_refused(PROVIDER_WHATSAPP_CLOUD, ch, "16315551181", "x", NULL, "phone_number_id");
}

static void messenger_send_requests(void **state)
{
    const Cc__V1__Channel *ch = make_channel(PROVIDER_MESSENGER);
    struct provider_request req;
    (void)state;
    cJSON *j = send_ok(PROVIDER_MESSENGER, ch, "2143458689072539", "Dzień dobry!", NULL, &req,
                       BASE "/v21.0/me/messages");
    assert_true(has_header(&req, "Authorization: Bearer " FB_TOKEN));
    assert_string_equal(jstr(j, "recipient.id"), "2143458689072539");
    assert_string_equal(jstr(j, "messaging_type"), "RESPONSE");
    assert_string_equal(jstr(j, "message.text"), "Dzień dobry!");
    cJSON_Delete(j);
    provider_request_release(&req);

    struct provider_file pic = {"https://files.example.com/f/p.jpg", "image/jpeg", "p.jpg", 0};
    j = send_ok(PROVIDER_MESSENGER, ch, "2143458689072539", NULL, &pic, &req,
                BASE "/v21.0/me/messages");
    assert_string_equal(jstr(j, "message.attachment.type"), "image");
    assert_string_equal(jstr(j, "message.attachment.payload.url"), pic.url);
    assert_null(jstr(j, "message.text"));
    cJSON_Delete(j);
    provider_request_release(&req);

    struct provider_file doc = {"https://files.example.com/f/c.pdf", "application/pdf", "c.pdf", 0};
    j = send_ok(PROVIDER_MESSENGER, ch, "2143458689072539", NULL, &doc, &req,
                BASE "/v21.0/me/messages");
    assert_string_equal(jstr(j, "message.attachment.type"), "file");
    cJSON_Delete(j);
    provider_request_release(&req);

    /* A Messenger message is text or an attachment: text with a file carries the link. */
    j = send_ok(PROVIDER_MESSENGER, ch, "2143458689072539", "Contrato", &doc, &req,
                BASE "/v21.0/me/messages");
    assert_string_equal(jstr(j, "message.text"),
                        "Contrato\n\nc.pdf: https://files.example.com/f/c.pdf");
    assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "message"), "attachment"));
    cJSON_Delete(j);
    provider_request_release(&req);
}

static void bad_send_arguments_are_refused(void **state)
{
    const Cc__V1__Channel *ch = make_channel(PROVIDER_MESSENGER);
    struct provider_file ftp = {"ftp://files.example.com/a.pdf", NULL, "a.pdf", 0};
    struct provider_file js = {"javascript:alert(1)", NULL, NULL, 0};
    struct provider_file spaced = {"https://files.example.com/a b.pdf", NULL, NULL, 0};
    struct provider_file nohost = {"https:///a.pdf", NULL, NULL, 0};
    (void)state;
    send_refused(PROVIDER_MESSENGER, ch, NULL, "x", NULL, "recipient");
    send_refused(PROVIDER_MESSENGER, ch, "", "x", NULL, "recipient");
    send_refused(PROVIDER_MESSENGER, ch, "12\n34", "x", NULL, "recipient");
    send_refused(PROVIDER_MESSENGER, ch, "123", NULL, NULL, "nothing to send");
    send_refused(PROVIDER_MESSENGER, ch, "123", "", NULL, "nothing to send");
    send_refused(PROVIDER_MESSENGER, ch, "123", "bad \xc3\x28", NULL, "UTF-8");
    send_refused(PROVIDER_MESSENGER, ch, "123", NULL, &ftp, "http(s)");
    send_refused(PROVIDER_MESSENGER, ch, "123", NULL, &js, "http(s)");
    send_refused(PROVIDER_MESSENGER, ch, "123", NULL, &spaced, "http(s)");
    send_refused(PROVIDER_MESSENGER, ch, "123", NULL, &nohost, "http(s)");
    send_refused(PROVIDER_MESSENGER, NULL, "123", "x", NULL, "channel");
    send_refused(PROVIDER_WEBCHAT, ch, "123", "x", NULL, "no provider API");
    channel.api_base_url = S("file:///etc");
    send_refused(PROVIDER_MESSENGER, ch, "123", "x", NULL, "api_base_url");
    ch = make_channel(PROVIDER_MESSENGER);
    cred.page_access_token = NULL;
    send_refused(PROVIDER_MESSENGER, ch, "123", "x", NULL, "access token");
    channel.credentials = NULL;
    send_refused(PROVIDER_MESSENGER, ch, "123", "x", NULL, "access token");
}

/* --- send answers --------------------------------------------------------------------------------
 */

static void telegram_and_viber_send_answers(void **state)
{
    struct provider_send_result r;
    (void)state;
    assert_int_equal(result_of(PROVIDER_TELEGRAM, 200, "telegram", "send_ok.json", &r),
                     PROVIDER_SEND_OK);
    assert_string_equal(r.message_id, "1111111:1400");
    assert_string_equal(r.reason, "");
    assert_int_equal(result_of(PROVIDER_TELEGRAM, 403, "telegram", "send_blocked.json", &r),
                     PROVIDER_SEND_PERMANENT);
    assert_string_equal(r.reason, "Forbidden: bot was blocked by the user");
    assert_string_equal(r.message_id, "");
    assert_int_equal(result_of(PROVIDER_TELEGRAM, 429, "telegram", "send_throttled.json", &r),
                     PROVIDER_SEND_TRANSIENT);
    assert_string_equal(r.reason, "Too Many Requests: retry after 5");
    assert_int_equal(result_of(PROVIDER_TELEGRAM, 502, "telegram", NULL, &r),
                     PROVIDER_SEND_TRANSIENT);
    assert_string_equal(r.reason, "HTTP 502");
    assert_int_equal(result_of(PROVIDER_TELEGRAM, 0, "telegram", NULL, &r),
                     PROVIDER_SEND_TRANSIENT);
    assert_string_equal(r.reason, "no answer from the provider");
    /* 2xx without a readable answer: sent (again could deliver twice). */
    assert_int_equal(provider_parse_send_result(PROVIDER_TELEGRAM, 200, "<html>", 6, &r),
                     PROVIDER_SEND_OK);
    assert_string_equal(r.message_id, "");
    assert_string_equal(r.reason, "answer without a message id");
    const char *okfalse =
        "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: chat not found\"}";
    assert_int_equal(
        provider_parse_send_result(PROVIDER_TELEGRAM, 200, okfalse, strlen(okfalse), &r),
        PROVIDER_SEND_PERMANENT);
    assert_string_equal(r.reason, "Bad Request: chat not found");

    assert_int_equal(result_of(PROVIDER_VIBER, 200, "viber", "send_ok.json", &r), PROVIDER_SEND_OK);
    assert_string_equal(r.message_id, "5741311803571721087"); /* beyond 2^53, exact */
    assert_int_equal(result_of(PROVIDER_VIBER, 200, "viber", "send_not_subscribed.json", &r),
                     PROVIDER_SEND_PERMANENT);
    assert_string_equal(r.reason, "notSubscribed (viber status 6)");
    assert_int_equal(result_of(PROVIDER_VIBER, 200, "viber", "send_too_many.json", &r),
                     PROVIDER_SEND_TRANSIENT);
    assert_string_equal(r.reason, "Too many requests (viber status 12)");
    assert_string_equal(r.message_id, "");
    assert_int_equal(result_of(PROVIDER_VIBER, 503, "viber", NULL, &r), PROVIDER_SEND_TRANSIENT);
    assert_int_equal(result_of(PROVIDER_VIBER, 404, "viber", NULL, &r), PROVIDER_SEND_PERMANENT);
}

static void infobip_and_meta_send_answers(void **state)
{
    struct provider_send_result r;
    (void)state;
    assert_int_equal(result_of(PROVIDER_INFOBIP_WHATSAPP, 200, "infobip", "send_ok.json", &r),
                     PROVIDER_SEND_OK);
    assert_string_equal(r.message_id, "a28dd97c-1ffb-4fcf-99f1-0b557ed381da");
    assert_int_equal(
        result_of(PROVIDER_INFOBIP_WHATSAPP, 400, "infobip", "send_bad_request.json", &r),
        PROVIDER_SEND_PERMANENT);
    assert_string_equal(r.reason, "Bad request (content.text: size must be between 1 and 4096)");
    assert_int_equal(
        result_of(PROVIDER_INFOBIP_WHATSAPP, 401, "infobip", "send_unauthorized.json", &r),
        PROVIDER_SEND_PERMANENT);
    assert_string_equal(r.reason, "Invalid login details");
    assert_int_equal(result_of(PROVIDER_INFOBIP_WHATSAPP, 500, "infobip", NULL, &r),
                     PROVIDER_SEND_TRANSIENT);
    const char *rejected = "{\"messageId\":\"x\",\"status\":{\"groupName\":\"REJECTED\","
                           "\"description\":\"Destination not registered\"}}";
    assert_int_equal(
        provider_parse_send_result(PROVIDER_INFOBIP_WHATSAPP, 200, rejected, strlen(rejected), &r),
        PROVIDER_SEND_PERMANENT);
    assert_string_equal(r.reason, "Destination not registered");

    assert_int_equal(result_of(PROVIDER_WHATSAPP_CLOUD, 200, "whatsapp", "send_ok.json", &r),
                     PROVIDER_SEND_OK);
    assert_string_equal(r.message_id, "wamid.HBgLMTYzMTU1NTExODEVAgARGBI3N0EyQUJDMDFGRTVBM0FCOTQA");
    assert_int_equal(
        result_of(PROVIDER_WHATSAPP_CLOUD, 400, "whatsapp", "send_not_allowed.json", &r),
        PROVIDER_SEND_PERMANENT);
    assert_string_equal(r.reason, "(#131030) Recipient phone number not in allowed list: Recipient "
                                  "phone number not in allowed list: Add recipient phone number "
                                  "to recipient list and try again.");
    /* A 400 whose code is a rate limit passes with time. */
    assert_int_equal(
        result_of(PROVIDER_WHATSAPP_CLOUD, 400, "whatsapp", "send_rate_limited.json", &r),
        PROVIDER_SEND_TRANSIENT);
    assert_string_equal(r.reason, "(#130429) Rate limit hit: Cloud API message throughput has "
                                  "been reached.");

    assert_int_equal(result_of(PROVIDER_MESSENGER, 200, "messenger", "send_ok.json", &r),
                     PROVIDER_SEND_OK);
    assert_string_equal(r.message_id, "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8"
                                      "ma6AC8fplwlqLP_5cgXIbu7I3rBN0P");
    assert_int_equal(
        result_of(PROVIDER_MESSENGER, 400, "messenger", "send_outside_window.json", &r),
        PROVIDER_SEND_PERMANENT);
    assert_non_null(strstr(r.reason, "(#10) This message is sent outside of allowed window."));
    assert_int_equal(result_of(PROVIDER_MESSENGER, 400, "messenger", "send_service_error.json", &r),
                     PROVIDER_SEND_TRANSIENT);
    assert_int_equal(result_of(PROVIDER_MESSENGER, 0, "messenger", NULL, &r),
                     PROVIDER_SEND_TRANSIENT);
    assert_int_equal(provider_parse_send_result(PROVIDER_WEBCHAT, 200, "{}", 2, &r),
                     PROVIDER_SEND_PERMANENT);
}

static void answer_reasons_are_cut_whole_and_long_ids_dropped(void **state)
{
    struct provider_send_result r;
    char body[2048], id[400];
    (void)state;
    int n = snprintf(body, sizeof body, "{\"ok\":false,\"error_code\":400,\"description\":\"");
    for (int i = 0; i < 300; i++)
        n += snprintf(body + n, sizeof body - (size_t)n, "ż");
    snprintf(body + n, sizeof body - (size_t)n, "\"}");
    provider_parse_send_result(PROVIDER_TELEGRAM, 400, body, strlen(body), &r);
    assert_true(strlen(r.reason) < sizeof r.reason);
    assert_true(strlen(r.reason) >= sizeof r.reason - 3);
    assert_true(cc_utf8_valid(r.reason, strlen(r.reason)));

    memset(id, 'm', sizeof id - 1);
    id[sizeof id - 1] = '\0';
    snprintf(body, sizeof body, "{\"message_id\":\"%s\"}", id);
    assert_int_equal(provider_parse_send_result(PROVIDER_MESSENGER, 200, body, strlen(body), &r),
                     PROVIDER_SEND_OK);
    assert_string_equal(r.message_id, "");
    assert_string_equal(r.reason, "provider message id too long to keep");
}

/* --- inbound media
 * -------------------------------------------------------------------------------- */

static void telegram_media_takes_get_file_then_the_file_path(void **state)
{
    const Cc__V1__Channel *ch = make_channel(PROVIDER_TELEGRAM);
    struct provider_request req, dl;
    char why[256];
    size_t len;
    (void)state;
    assert_int_equal(provider_build_media_fetch(PROVIDER_TELEGRAM, ch, "AgACAgIAAxkBAAIBZ2Large",
                                                &req, why, sizeof why),
                     CC_OK);
    assert_string_equal(req.method, "GET");
    assert_string_equal(req.url, BASE "/bot" TG_TOKEN "/getFile?file_id=AgACAgIAAxkBAAIBZ2Large");
    assert_string_equal(req.log_url, BASE "/bot<redacted>/getFile?file_id=AgACAgIAAxkBAAIBZ2Large");
    assert_int_equal(req.lookup, 1);
    assert_null(req.body);
    provider_request_release(&req);

    char *body = load("telegram", "getfile.json", &len);
    assert_int_equal(
        provider_parse_media_lookup(PROVIDER_TELEGRAM, ch, 200, body, len, &dl, why, sizeof why),
        CC_OK);
    assert_string_equal(dl.url, BASE "/file/bot" TG_TOKEN "/photos/file_12.jpg");
    assert_string_equal(dl.log_url, BASE "/file/bot<redacted>/photos/file_12.jpg");
    assert_int_equal(dl.lookup, 0);
    assert_int_equal(dl.n_headers, 0);
    provider_request_release(&dl);
    free(body);

    const char *evil = "{\"ok\":true,\"result\":{\"file_path\":\"../../bot1/x\"}}";
    assert_int_equal(provider_parse_media_lookup(PROVIDER_TELEGRAM, ch, 200, evil, strlen(evil),
                                                 &dl, why, sizeof why),
                     CC_ERR_NOT_FOUND);
    assert_null(dl.url);
    const char *gone =
        "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: invalid file_id\"}";
    assert_int_equal(provider_parse_media_lookup(PROVIDER_TELEGRAM, ch, 400, gone, strlen(gone),
                                                 &dl, why, sizeof why),
                     CC_ERR_NOT_FOUND);
    assert_non_null(strstr(why, "Bad Request: invalid file_id"));
    assert_int_equal(
        provider_parse_media_lookup(PROVIDER_TELEGRAM, ch, 502, NULL, 0, &dl, why, sizeof why),
        CC_ERR_UNAVAILABLE);
    assert_int_equal(
        provider_build_media_fetch(PROVIDER_TELEGRAM, ch, "abc/../def", &req, why, sizeof why),
        CC_ERR_INVALID);
    assert_int_equal(provider_build_media_fetch(PROVIDER_TELEGRAM, ch, "", &req, why, sizeof why),
                     CC_ERR_INVALID);
}

static void whatsapp_media_takes_a_lookup_then_the_bearer_download(void **state)
{
    const Cc__V1__Channel *ch = make_channel(PROVIDER_WHATSAPP_CLOUD);
    struct provider_request req, dl;
    char why[256];
    size_t len;
    (void)state;
    assert_int_equal(provider_build_media_fetch(PROVIDER_WHATSAPP_CLOUD, ch, "1003383421387256",
                                                &req, why, sizeof why),
                     CC_OK);
    assert_string_equal(req.url, BASE "/v21.0/1003383421387256");
    assert_true(has_header(&req, "Authorization: Bearer " WA_TOKEN));
    assert_int_equal(req.lookup, 1);
    provider_request_release(&req);

    char *body = load("whatsapp", "media.json", &len);
    assert_int_equal(provider_parse_media_lookup(PROVIDER_WHATSAPP_CLOUD, ch, 200, body, len, &dl,
                                                 why, sizeof why),
                     CC_OK);
    assert_string_equal(dl.method, "GET");
    assert_string_equal(dl.url, "https://lookaside.fbsbx.com/whatsapp_business/attachments/"
                                "?mid=1003383421387256&ext=1700000000&hash=ATtsZ2x");
    assert_string_equal(dl.log_url, "https://lookaside.fbsbx.com/whatsapp_business/attachments/");
    assert_true(has_header(&dl, "Authorization: Bearer " WA_TOKEN));
    provider_request_release(&dl);
    free(body);

    body = load("whatsapp", "media_not_found.json", &len);
    assert_int_equal(provider_parse_media_lookup(PROVIDER_WHATSAPP_CLOUD, ch, 400, body, len, &dl,
                                                 why, sizeof why),
                     CC_ERR_NOT_FOUND);
    assert_non_null(strstr(why, "does not exist"));
    free(body);
    assert_int_equal(provider_parse_media_lookup(PROVIDER_WHATSAPP_CLOUD, ch, 200, "{}", 2, &dl,
                                                 why, sizeof why),
                     CC_ERR_NOT_FOUND);
    const char *file_url = "{\"url\":\"file:///etc/passwd\"}";
    assert_int_equal(provider_parse_media_lookup(PROVIDER_WHATSAPP_CLOUD, ch, 200, file_url,
                                                 strlen(file_url), &dl, why, sizeof why),
                     CC_ERR_NOT_FOUND);
    assert_int_equal(provider_parse_media_lookup(PROVIDER_WHATSAPP_CLOUD, ch, 429, "{}", 2, &dl,
                                                 why, sizeof why),
                     CC_ERR_UNAVAILABLE);
}

/* Where inbound files may come from: the channel's API origin (any address: it is
 * how tests point a channel at a stand-in), or https on 443 to a media host. */
static void media_come_only_from_the_api_origin_or_the_media_hosts(void **state)
{
    char why[256];
    (void)state;
    const Cc__V1__Channel *ch = make_channel(PROVIDER_MESSENGER);
#define SRC(url) provider_media_source(PROVIDER_MESSENGER, ch, (url), why, sizeof why)
    assert_int_equal(SRC(BASE "/media/x.png"), PROVIDER_MEDIA_CHANNEL);
    assert_int_equal(SRC("HTTP://127.0.0.1:8099/y"), PROVIDER_MEDIA_CHANNEL);
    assert_int_equal(SRC("https://scontent.xx.fbcdn.net/v/t1.15752-9/a.jpg?_nc_sid=1"),
                     PROVIDER_MEDIA_HOST);
    assert_int_equal(SRC("https://cdn.fbsbx.com/v/t59.2708-21/file.pdf"), PROVIDER_MEDIA_HOST);
    assert_int_equal(SRC("https://lookaside.fbsbx.com:443/x"), PROVIDER_MEDIA_HOST);
    /* refused: another port or host of loopback, other hosts, http or another port to a
     * media host, user info, an apex the pattern does not cover, other schemes */
    const char *refused[] = {"http://127.0.0.1:8098/media/x.png",
                             "http://localhost:8099/media/x.png",
                             "http://[::1]:8099/",
                             "http://169.254.169.254/latest/meta-data/",
                             "https://evil.example.com/x.jpg",
                             "http://scontent.xx.fbcdn.net/a.jpg",
                             "https://scontent.xx.fbcdn.net:8443/a.jpg",
                             "https://user:pw@scontent.xx.fbcdn.net/a.jpg",
                             "https://fbcdn.net/a.jpg",
                             "https://scontent.xx.fbcdn.net.evil.example/a.jpg",
                             "https://evilfbcdn.net/a.jpg",
                             "file:///etc/passwd",
                             "gopher://127.0.0.1:8099/",
                             "not a url",
                             NULL};
    for (int i = 0; refused[i]; i++) {
        assert_int_equal(SRC(refused[i]), PROVIDER_MEDIA_REFUSED);
        assert_true(why[0] != 0);
    }
    /* a channel's own list replaces the provider's */
    char *hosts[] = {(char *)"files.example.net", (char *)"*.cdn.example.org"};
    channel.n_media_hosts = 2, channel.media_hosts = hosts;
    assert_int_equal(SRC("https://files.example.net/a"), PROVIDER_MEDIA_HOST);
    assert_int_equal(SRC("https://eu.cdn.example.org/a"), PROVIDER_MEDIA_HOST);
    assert_int_equal(SRC("https://scontent.xx.fbcdn.net/a.jpg"), PROVIDER_MEDIA_REFUSED);
    assert_int_equal(SRC(BASE "/still-the-api"), PROVIDER_MEDIA_CHANNEL);
    channel.n_media_hosts = 0, channel.media_hosts = NULL;
    /* without api_base_url the provider's public root is the API origin */
    channel.api_base_url = NULL;
    assert_int_equal(SRC("https://graph.facebook.com/v21.0/123"), PROVIDER_MEDIA_CHANNEL);
    assert_int_equal(SRC(BASE "/media/x.png"), PROVIDER_MEDIA_REFUSED);
#undef SRC
    ch = make_channel(PROVIDER_VIBER);
    assert_int_equal(provider_media_source(PROVIDER_VIBER, ch,
                                           "https://dl-media.viber.com/1/share/2/photo.jpg", why,
                                           sizeof why),
                     PROVIDER_MEDIA_HOST);
    assert_int_equal(provider_media_source(PROVIDER_WEBCHAT, ch, BASE "/x", why, sizeof why),
                     PROVIDER_MEDIA_REFUSED);
    assert_true(provider_same_origin("https://A.example.com/x", "https://a.example.com:443/y"));
    assert_false(provider_same_origin("https://a.example.com/x", "http://a.example.com/x"));
    assert_false(provider_same_origin("http://127.0.0.1:1/", "http://127.0.0.1:2/"));
}

static void url_media_are_fetched_directly_and_infobip_only_from_its_root(void **state)
{
    struct provider_request req;
    char why[256];
    (void)state;
    const Cc__V1__Channel *ch = make_channel(PROVIDER_INFOBIP_WHATSAPP);
    assert_int_equal(
        provider_build_media_fetch(PROVIDER_INFOBIP_WHATSAPP, ch,
                                   "https://api.infobip.com/whatsapp/1/senders/41793026731/media/"
                                   "f1b96d31-9ab9-4513-808b-50ab37360fbe",
                                   &req, why, sizeof why),
        CC_OK);
    assert_string_equal(req.url, BASE "/whatsapp/1/senders/41793026731/media/"
                                      "f1b96d31-9ab9-4513-808b-50ab37360fbe");
    assert_true(has_header(&req, "Authorization: App " IB_KEY));
    assert_int_equal(req.lookup, 0);
    provider_request_release(&req);
    assert_int_equal(provider_build_media_fetch(PROVIDER_INFOBIP_WHATSAPP, ch,
                                                "https://evil.example.com/steal", &req, why,
                                                sizeof why),
                     CC_ERR_INVALID);
    assert_int_equal(provider_build_media_fetch(PROVIDER_INFOBIP_WHATSAPP, ch,
                                                "https://api.infobip.com/whatsapp/../sms/1/x", &req,
                                                why, sizeof why),
                     CC_ERR_INVALID);

    ch = make_channel(PROVIDER_VIBER);
    const char *viber = "https://dl-media.viber.com/1/share/2/long/bots/generic/file/contrato.pdf";
    assert_int_equal(provider_build_media_fetch(PROVIDER_VIBER, ch, viber, &req, why, sizeof why),
                     CC_OK);
    assert_string_equal(req.url, viber);
    assert_int_equal(req.n_headers, 0);
    provider_request_release(&req);
    assert_int_equal(
        provider_build_media_fetch(PROVIDER_VIBER, ch, "file:///etc/passwd", &req, why, sizeof why),
        CC_ERR_INVALID);
    assert_int_equal(
        provider_parse_media_lookup(PROVIDER_VIBER, ch, 200, "{}", 2, &req, why, sizeof why),
        CC_ERR_INVALID);

    ch = make_channel(PROVIDER_MESSENGER);
    const char *fb = "https://scontent.xx.fbcdn.net/v/t1.15752-9/photo.jpg?_nc_cat=1&oh=abc";
    assert_int_equal(provider_build_media_fetch(PROVIDER_MESSENGER, ch, fb, &req, why, sizeof why),
                     CC_OK);
    assert_string_equal(req.url, fb);
    assert_string_equal(req.log_url, "https://scontent.xx.fbcdn.net/v/t1.15752-9/photo.jpg");
    provider_request_release(&req);
    assert_int_equal(provider_build_media_fetch(PROVIDER_WEBCHAT, ch, fb, &req, why, sizeof why),
                     CC_ERR_INVALID);
}

/* --- allocation failures ---------------------------------------------------------------------- */

static int alloc_budget = -1; /* cJSON allocations left before failing; -1: no limit */

static void *failing_malloc(size_t n)
{
    if (alloc_budget == 0)
        return NULL;
    if (alloc_budget > 0)
        alloc_budget--;
    return malloc(n);
}

/* Every cJSON allocation of a build may fail: CC_ERR_NOMEM, nothing half-built, no leak. */
static void sends_survive_allocation_failures(void **state)
{
    static const enum provider_type types[] = {PROVIDER_TELEGRAM, PROVIDER_VIBER,
                                               PROVIDER_INFOBIP_WHATSAPP, PROVIDER_WHATSAPP_CLOUD,
                                               PROVIDER_MESSENGER};
    struct provider_file pic = {"https://files.example.com/f/p.jpg", "image/jpeg", "p.jpg", 10};
    struct provider_file doc = {"https://files.example.com/f/d.pdf", "application/pdf", "d.pdf",
                                10};
    cJSON_Hooks hooks = {failing_malloc, free};
    (void)state;
    cJSON_InitHooks(&hooks);
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        const Cc__V1__Channel *ch = make_channel(types[t]);
        const struct provider_file *files[] = {NULL, &pic, &doc};
        for (int f = 0; f < 3; f++) {
            int succeeded = 0;
            for (int budget = 0; budget < 64 && !succeeded; budget++) {
                struct provider_request req;
                struct provider_send_result r;
                char why[128];
                alloc_budget = budget;
                enum cc_status st = provider_build_send(types[t], ch, "12345", f ? NULL : "hi",
                                                        files[f], &req, why, sizeof why);
                if (st == CC_OK) {
                    succeeded = 1;
                    provider_request_release(&req);
                } else {
                    assert_int_equal(st, CC_ERR_NOMEM);
                    assert_null(req.url);
                    assert_null(req.body);
                }
                provider_parse_send_result(types[t], 200, "{\"ok\":true}", 11, &r);
            }
            assert_true(succeeded);
        }
    }
    alloc_budget = -1;
    cJSON_InitHooks(NULL);
}

/* --- fuzz-ish
 * ------------------------------------------------------------------------------------- */

static const struct {
    enum provider_type type;
    const char *dir, *name;
} corpus[] = {
    {PROVIDER_TELEGRAM, "telegram", "text.json"},
    {PROVIDER_TELEGRAM, "telegram", "photo.json"},
    {PROVIDER_TELEGRAM, "telegram", "document.json"},
    {PROVIDER_TELEGRAM, "telegram", "sticker.json"},
    {PROVIDER_TELEGRAM, "telegram", "edited.json"},
    {PROVIDER_TELEGRAM, "telegram", "contact.json"},
    {PROVIDER_TELEGRAM, "telegram", "send_ok.json"},
    {PROVIDER_TELEGRAM, "telegram", "getfile.json"},
    {PROVIDER_VIBER, "viber", "text.json"},
    {PROVIDER_VIBER, "viber", "picture.json"},
    {PROVIDER_VIBER, "viber", "file.json"},
    {PROVIDER_VIBER, "viber", "failed.json"},
    {PROVIDER_VIBER, "viber", "subscribed.json"},
    {PROVIDER_VIBER, "viber", "send_ok.json"},
    {PROVIDER_INFOBIP_WHATSAPP, "infobip", "batch.json"},
    {PROVIDER_INFOBIP_WHATSAPP, "infobip", "dlr.json"},
    {PROVIDER_INFOBIP_WHATSAPP, "infobip", "seen.json"},
    {PROVIDER_INFOBIP_WHATSAPP, "infobip", "send_bad_request.json"},
    {PROVIDER_WHATSAPP_CLOUD, "whatsapp", "batch.json"},
    {PROVIDER_WHATSAPP_CLOUD, "whatsapp", "document.json"},
    {PROVIDER_WHATSAPP_CLOUD, "whatsapp", "statuses.json"},
    {PROVIDER_WHATSAPP_CLOUD, "whatsapp", "send_not_allowed.json"},
    {PROVIDER_WHATSAPP_CLOUD, "whatsapp", "media.json"},
    {PROVIDER_MESSENGER, "messenger", "batch.json"},
    {PROVIDER_MESSENGER, "messenger", "sticker.json"},
    {PROVIDER_MESSENGER, "messenger", "delivery.json"},
    {PROVIDER_MESSENGER, "messenger", "file.json"},
    {PROVIDER_MESSENGER, "messenger", "send_ok.json"},
};

/* Every entry point fed `body`: must not crash, leak, or say OK with nothing in it. */
static void feed(enum provider_type type, const Cc__V1__Channel *ch, const char *body, size_t len)
{
    struct provider_batch *b = NULL;
    struct provider_send_result r;
    struct provider_request req;
    char why[128];
    enum cc_status st = provider_parse(type, body, len, &b, why, sizeof why);
    assert_true(st == CC_OK || st == CC_ERR_INVALID);
    assert_true((st == CC_OK) == (b != NULL));
    for (size_t i = 0; b && i < b->n; i++) {
        const struct provider_event *ev = &b->events[i];
        if (ev->text)
            assert_true(cc_utf8_valid(ev->text, strlen(ev->text)));
        for (size_t a = 0; a < ev->n_attachments; a++)
            assert_non_null(ev->attachments[a].ref);
        if (ev->kind == PROVIDER_EVENT_UNSUPPORTED || ev->kind == PROVIDER_EVENT_IGNORED)
            assert_non_null(ev->note);
    }
    provider_batch_free(b);
    provider_parse_send_result(type, 200, body, len, &r);
    assert_true(strlen(r.reason) < sizeof r.reason);
    provider_parse_send_result(type, 400, body, len, &r);
    if (provider_parse_media_lookup(type, ch, 200, body, len, &req, why, sizeof why) == CC_OK)
        provider_request_release(&req);
}

static void truncated_and_mutated_bodies_never_crash(void **state)
{
    static const char mutations[] = {'"', '}', '0', '\\', (char)0xC3};
    (void)state;
    for (size_t c = 0; c < sizeof corpus / sizeof corpus[0]; c++) {
        size_t len;
        char *body = load(corpus[c].dir, corpus[c].name, &len);
        const Cc__V1__Channel *ch = make_channel(corpus[c].type);
        for (size_t n = 0; n <= len; n++) {
            char *cut = malloc(n ? n : 1); /* exactly n bytes: ASan sees any overread */
            memcpy(cut, body, n);
            feed(corpus[c].type, ch, cut, n);
            free(cut);
        }
        for (size_t i = 0; i < len; i++) {
            char saved = body[i];
            for (size_t m = 0; m < sizeof mutations; m++) {
                body[i] = mutations[m];
                feed(corpus[c].type, ch, body, len);
            }
            body[i] = saved;
        }
        /* Another provider's body is refused or read as something harmless. */
        for (enum provider_type t = PROVIDER_UNKNOWN; t <= PROVIDER_WEBCHAT; t++)
            feed(t, make_channel(t), body, len);
        free(body);
    }
}

/* --- main
 * ---------------------------------------------------------------------------------------------- */

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* $CC_FIXTURES_DIR, ./tests/fixtures/providers, or the repository three levels
 * above the binary (build/<dir>/tests/test_chat_providers). */
static void find_fixtures(const char *argv0)
{
    const char *env = getenv("CC_FIXTURES_DIR");
    if (env && *env) {
        snprintf(fixtures, sizeof fixtures, "%s", env);
        return;
    }
    snprintf(fixtures, sizeof fixtures, "tests/fixtures/providers");
    if (is_dir(fixtures))
        return;
    char dir[900];
    snprintf(dir, sizeof dir, "%s", argv0);
    for (int up = 0; up < 4; up++) {
        char *slash = strrchr(dir, '/');
        if (!slash)
            break;
        *slash = '\0';
    }
    snprintf(fixtures, sizeof fixtures, "%s/tests/fixtures/providers", dir);
}

static void typing_is_telegram_send_chat_action_and_nothing_elsewhere(void **state)
{
    const Cc__V1__Channel *ch = make_channel(PROVIDER_TELEGRAM);
    struct provider_request req;
    char why[256];
    (void)state;
    assert_int_equal(provider_build_typing(PROVIDER_TELEGRAM, ch, "-100123", &req, why, sizeof why),
                     CC_OK);
    assert_string_equal(req.method, "POST");
    assert_string_equal(req.url, BASE "/bot" TG_TOKEN "/sendChatAction");
    assert_string_equal(req.log_url, BASE "/bot<redacted>/sendChatAction");
    assert_string_equal(req.body, "{\"chat_id\":\"-100123\",\"action\":\"typing\"}");
    provider_request_release(&req);
    assert_int_equal(provider_build_typing(PROVIDER_TELEGRAM, ch, "../x", &req, why, sizeof why),
                     CC_ERR_INVALID);
    for (int t = PROVIDER_VIBER; t <= PROVIDER_MESSENGER; t++)
        assert_int_equal(provider_build_typing((enum provider_type)t,
                                               make_channel((enum provider_type)t), "123", &req,
                                               why, sizeof why),
                         CC_ERR_NOT_FOUND);
}

static void messenger_profile_is_a_graph_api_get_with_the_page_token(void **state)
{
    const Cc__V1__Channel *ch = make_channel(PROVIDER_MESSENGER);
    struct provider_request req;
    char why[256];
    (void)state;
    assert_int_equal(
        provider_build_profile(PROVIDER_MESSENGER, ch, "2143458689072539", &req, why, sizeof why),
        CC_OK);
    assert_string_equal(req.method, "GET");
    assert_string_equal(req.url, BASE "/v21.0/2143458689072539?fields=first_name,last_name");
    assert_true(has_header(&req, "Authorization: Bearer " FB_TOKEN));
    provider_request_release(&req);
    assert_int_equal(provider_build_profile(PROVIDER_MESSENGER, ch, "a/b", &req, why, sizeof why),
                     CC_ERR_INVALID);
    assert_int_equal(provider_build_profile(PROVIDER_TELEGRAM, make_channel(PROVIDER_TELEGRAM), "1",
                                            &req, why, sizeof why),
                     CC_ERR_NOT_FOUND);
    static const struct {
        const char *body, *name;
    } answers[] = {
        {"{\"first_name\":\"Zofia\",\"last_name\":\"Wiśniewska\",\"id\":\"1\"}",
         "Zofia Wiśniewska"},
        {"{\"first_name\":\"Zofia\"}", "Zofia"},
        {"{\"last_name\":\"Nowak\"}", "Nowak"},
        {"{\"error\":{\"message\":\"Unsupported get request\",\"code\":100}}", NULL},
        {"{\"first_name\":5}", NULL},
        {"[1,2]", NULL},
        {"{\"first_name\":\"Zo", NULL},
    };
    for (size_t i = 0; i < sizeof answers / sizeof *answers; i++) {
        char *name =
            provider_parse_profile(PROVIDER_MESSENGER, answers[i].body, strlen(answers[i].body));
        if (answers[i].name)
            assert_string_equal(name, answers[i].name);
        else
            assert_null(name);
        free(name);
    }
    assert_null(provider_parse_profile(PROVIDER_TELEGRAM, "{\"first_name\":\"A\"}", 17));
}

int main(int argc, char **argv)
{
    (void)argc;
    find_fixtures(argv[0]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(types_parse_channel_types_and_webhook_path_names),
        cmocka_unit_test(typing_is_telegram_send_chat_action_and_nothing_elsewhere),
        cmocka_unit_test(messenger_profile_is_a_graph_api_get_with_the_page_token),
        cmocka_unit_test(telegram_secret_token_must_match),
        cmocka_unit_test(viber_signature_is_hex_hmac_sha256_of_the_raw_body),
        cmocka_unit_test(meta_signature_is_sha256_prefixed_hmac_with_the_app_secret),
        cmocka_unit_test(infobip_needs_the_configured_authorization_header),
        cmocka_unit_test(meta_challenge_needs_subscribe_and_the_verify_token),
        cmocka_unit_test(telegram_text_keeps_utf8_and_names_the_chat),
        cmocka_unit_test(telegram_files_become_attachments_with_their_file_ids),
        cmocka_unit_test(telegram_edits_unsupported_and_other_updates),
        cmocka_unit_test(viber_message_token_keeps_all_64_bits),
        cmocka_unit_test(viber_media_messages_carry_their_urls),
        cmocka_unit_test(viber_receipts_and_housekeeping_events),
        cmocka_unit_test(infobip_inbound_messages_and_media),
        cmocka_unit_test(infobip_batch_holds_several_messages_in_order),
        cmocka_unit_test(infobip_delivery_and_seen_reports),
        cmocka_unit_test(whatsapp_messages_take_the_profile_name_from_contacts),
        cmocka_unit_test(whatsapp_batch_spans_entries_and_changes),
        cmocka_unit_test(whatsapp_statuses_become_receipts),
        cmocka_unit_test(messenger_messages_and_attachments),
        cmocka_unit_test(messenger_echoes_edits_and_receipts),
        cmocka_unit_test(messenger_batch_spans_entries_and_skips_standby),
        cmocka_unit_test(malformed_bodies_are_refused_for_every_provider),
        cmocka_unit_test(missing_or_mistyped_required_fields_are_named),
        cmocka_unit_test(telegram_send_requests),
        cmocka_unit_test(viber_send_requests),
        cmocka_unit_test(infobip_send_requests),
        cmocka_unit_test(whatsapp_cloud_send_requests),
        cmocka_unit_test(messenger_send_requests),
        cmocka_unit_test(bad_send_arguments_are_refused),
        cmocka_unit_test(telegram_and_viber_send_answers),
        cmocka_unit_test(infobip_and_meta_send_answers),
        cmocka_unit_test(answer_reasons_are_cut_whole_and_long_ids_dropped),
        cmocka_unit_test(telegram_media_takes_get_file_then_the_file_path),
        cmocka_unit_test(whatsapp_media_takes_a_lookup_then_the_bearer_download),
        cmocka_unit_test(url_media_are_fetched_directly_and_infobip_only_from_its_root),
        cmocka_unit_test(media_come_only_from_the_api_origin_or_the_media_hosts),
        cmocka_unit_test(sends_survive_allocation_failures),
        cmocka_unit_test(truncated_and_mutated_bodies_never_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
