/* libFuzzer target: every chat provider's webhook as chat-gateway reads it
 * (webhooks.c): the signature check (provider_verify; the header's value is
 * the body's first line) and the body (provider_parse). First byte: the
 * provider (Telegram, Viber, Infobip WhatsApp, WhatsApp Cloud, Messenger);
 * the rest: the body. A signature is taken only when it is the right one,
 * and the right one is always taken. Every batch parsed is walked so that
 * each string it holds is read to its end. */
#include "fuzz.h"
#include "provider.h"

#include <sodium.h>
#include <strings.h>

static const char *header_value;

static const char *header(void *arg, const char *name)
{
    (void)arg, (void)name;
    return header_value;
}

/* The header value that authenticates `body` on a channel holding `cred`. */
static void expected(enum provider_type type, const Cc__V1__ChannelCredentials *cred,
                     const char *body, size_t len, char *out, size_t cap)
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char hex[2 * sizeof mac + 1];
    const char *key = type == PROVIDER_VIBER ? cred->auth_token : cred->app_secret;
    if (type == PROVIDER_TELEGRAM || type == PROVIDER_INFOBIP_WHATSAPP) {
        snprintf(out, cap, "%s",
                 type == PROVIDER_TELEGRAM ? cred->secret_token : cred->webhook_authorization);
        return;
    }
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, strlen(key));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
    snprintf(out, cap, "%s%s", type == PROVIDER_VIBER ? "" : "sha256=", hex);
}

static void verify(enum provider_type type, const char *body, size_t len)
{
    Cc__V1__ChannelCredentials cred = CC__V1__CHANNEL_CREDENTIALS__INIT;
    cred.secret_token = (char *)"tg-s3cret";
    cred.auth_token = (char *)"4453b6ac12345678-e02c5f12174805f9";
    cred.webhook_authorization = (char *)"App 0123456789abcdef";
    cred.app_secret = (char *)"meta-app-secret";
    char want[128];
    expected(type, &cred, body, len, want, sizeof want);
    const char *nl = memchr(body, '\n', len);
    char *given = fuzz_cstr((const uint8_t *)body, nl ? (size_t)(nl - body) : len);
    header_value = given;
    if (provider_verify(type, &cred, header, NULL, body, len))
        FUZZ_CHECK(!strcasecmp(given, want) &&
                   (type == PROVIDER_VIBER || !strncmp(given, want, 7))); /* hex in any case */
    free(given);
    header_value = want;
    FUZZ_CHECK(provider_verify(type, &cred, header, NULL, body, len) == 1);
    header_value = NULL;
    FUZZ_CHECK(provider_verify(type, &cred, header, NULL, body, len) == 0);
}

static const enum provider_type types[] = {PROVIDER_TELEGRAM, PROVIDER_VIBER,
                                           PROVIDER_INFOBIP_WHATSAPP, PROVIDER_WHATSAPP_CLOUD,
                                           PROVIDER_MESSENGER};

static size_t touch(const char *s)
{
    return s ? strlen(s) : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum provider_type type = types[data[0] % (sizeof types / sizeof *types)];
    verify(type, (const char *)data + 1, size - 1);
    struct provider_batch *b = NULL;
    char why[256];
    enum cc_status st = provider_parse(type, (const char *)data + 1, size - 1, &b, why, sizeof why);
    FUZZ_CHECK(memchr(why, '\0', sizeof why));
    if (st != CC_OK) {
        FUZZ_CHECK(b == NULL);
        FUZZ_CHECK(why[0] != '\0');
        return 0;
    }
    FUZZ_CHECK(b != NULL && b->n <= PROVIDER_MAX_EVENTS);
    size_t total = 0;
    for (size_t i = 0; i < b->n; i++) {
        const struct provider_event *ev = &b->events[i];
        total += touch(ev->provider_message_id) + touch(ev->conversation) +
                 touch(ev->customer_name) + touch(ev->customer_phone) + touch(ev->text) +
                 touch(ev->note) + touch(provider_event_kind_name(ev->kind)) +
                 touch(provider_receipt_name(ev->receipt));
        FUZZ_CHECK(ev->n_attachments <= PROVIDER_MAX_ATTACHMENTS);
        for (size_t k = 0; k < ev->n_attachments; k++) {
            const struct provider_attachment *a = &ev->attachments[k];
            FUZZ_CHECK(a->ref != NULL);
            total += touch(a->ref) + touch(a->mime) + touch(a->name) +
                     touch(provider_attachment_type_name(a->type));
        }
    }
    provider_batch_free(b);
    return total == (size_t)-1;
}
