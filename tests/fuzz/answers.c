/* libFuzzer target: what the chat providers answer chat-gateway's requests.
 * First byte: the provider (Telegram, Viber, Infobip WhatsApp, WhatsApp
 * Cloud, Messenger) and what the answer is: a send answer
 * (provider_parse_send_result, outbound.c) or a media lookup answer
 * (provider_parse_media_lookup, media.c: Telegram getFile, WhatsApp Cloud's
 * media metadata); second byte: the HTTP status. The rest is the body, which
 * for a media download is also the file whose type cc_files_sniff decides. */
#include "cc_files.h"
#include "fuzz.h"
#include "provider.h"

#include <strings.h>

static const enum provider_type types[] = {PROVIDER_TELEGRAM, PROVIDER_VIBER,
                                           PROVIDER_INFOBIP_WHATSAPP, PROVIDER_WHATSAPP_CLOUD,
                                           PROVIDER_MESSENGER};
#define NTYPES (sizeof types / sizeof *types)
static const char *const type_names[] = {"telegram", "viber", "infobip_whatsapp", "whatsapp_cloud",
                                         "messenger"};
static const long statuses[] = {200, 201, 0, 400, 401, 403, 404, 408, 429, 500, 502, 503, 299, 302};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t which = data[0] % (2 * NTYPES);
    enum provider_type type = types[which % NTYPES];
    long status = statuses[data[1] % (sizeof statuses / sizeof *statuses)];
    const char *body = (const char *)data + 2;
    size_t len = size - 2;

    /* a channel with every credential, as the registry hands it over */
    Cc__V1__ChannelCredentials cred = CC__V1__CHANNEL_CREDENTIALS__INIT;
    Cc__V1__Channel ch = CC__V1__CHANNEL__INIT;
    cred.bot_token = (char *)"123456:ABC-DEF1234ghIkl";
    cred.secret_token = (char *)"s3cret";
    cred.auth_token = (char *)"4453b6ac12345678-e02c5f12174805f9-daec1cbb32272ae2";
    cred.api_key = (char *)"infobip-key";
    cred.sender = (char *)"441134960000";
    cred.access_token = (char *)"EAAG-token";
    cred.app_secret = (char *)"app-secret";
    cred.phone_number_id = (char *)"106540352242922";
    cred.page_access_token = (char *)"EAAB-page";
    ch.id = (char *)"ch_1";
    ch.type = (char *)type_names[which % NTYPES];
    ch.api_base_url = (char *)"https://api.example.com";
    ch.credentials = &cred;

    if (which < NTYPES) {
        struct provider_send_result res;
        enum provider_send_status st = provider_parse_send_result(type, status, body, len, &res);
        FUZZ_CHECK(res.status == st);
        FUZZ_CHECK(memchr(res.message_id, '\0', sizeof res.message_id));
        FUZZ_CHECK(memchr(res.reason, '\0', sizeof res.reason));
        FUZZ_CHECK(st != PROVIDER_SEND_OK || (status >= 200 && status <= 299));
    } else {
        struct provider_request req = PROVIDER_REQUEST_INIT;
        char why[256];
        enum cc_status st =
            provider_parse_media_lookup(type, &ch, status, body, len, &req, why, sizeof why);
        FUZZ_CHECK(memchr(why, '\0', sizeof why));
        if (st == CC_OK) {
            /* the download it names: an absolute http(s) URL with clean headers */
            FUZZ_CHECK(req.url && (!strncasecmp(req.url, "https://", 8) ||
                                   !strncasecmp(req.url, "http://", 7)));
            FUZZ_CHECK(req.log_url != NULL);
            for (int i = 0; i < req.n_headers; i++)
                FUZZ_CHECK(!strpbrk(req.headers[i], "\r\n"));
        } else {
            FUZZ_CHECK(req.url == NULL);
        }
        provider_request_release(&req);
        const char *mime = cc_files_sniff(body, len);
        FUZZ_CHECK(mime && mime[0]);
        /* what is called text holds no NUL and no other control but whitespace */
        if (!strcmp(mime, "text/plain"))
            for (size_t i = 0; i < len && i < 4096; i++)
                FUZZ_CHECK((unsigned char)body[i] >= 0x20 ||
                           (body[i] && strchr("\t\r\n\f", body[i])));
    }
    return 0;
}
