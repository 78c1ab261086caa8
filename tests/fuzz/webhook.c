/* libFuzzer target: every chat provider's webhook body (chat-gateway's
 * provider_parse), as the gateway reads it once the signature checked out.
 * First byte: the provider (Telegram, Viber, Infobip WhatsApp, WhatsApp
 * Cloud, Messenger); the rest: the body. Every batch parsed is walked so
 * that each string it holds is read to its end. */
#include "fuzz.h"
#include "provider.h"

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
