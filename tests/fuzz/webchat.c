/* libFuzzer target: the web-chat widget's API bodies as chat-gateway reads
 * them: the strict JSON parse (cc_json_parse_strict) then
 * webchat_read_session (POST .../sessions) or webchat_read_message (POST
 * .../messages), chosen by the first byte; the rest is the body. */
#include "cc_http.h"
#include "fuzz.h"
#include "webchat_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    cJSON *json = NULL;
    if (size > 1 && cc_json_parse_strict((const char *)data + 1, size - 1, &json)) {
        FUZZ_CHECK(json == NULL);
        return 0;
    }
    if (data[0] & 1) {
        const char *text, *client;
        const char *bad = webchat_read_message(json, &text, &client);
        if (!bad) {
            size_t n = strlen(text);
            FUZZ_CHECK(n >= 1 && n <= WEBCHAT_MAX_TEXT);
            FUZZ_CHECK(!client || strlen(client) <= WEBCHAT_MAX_CLIENT_ID);
        } else {
            FUZZ_CHECK(!text && !client);
        }
    } else {
        struct webchat_visitor v;
        const char *bad = webchat_read_session(json, &v);
        FUZZ_CHECK(!v.name || (!bad && strlen(v.name) <= WEBCHAT_MAX_NAME));
        FUZZ_CHECK(!v.email ||
                   (!bad && strlen(v.email) <= WEBCHAT_MAX_EMAIL && strchr(v.email, '@')));
        FUZZ_CHECK(!v.language || (!bad && strlen(v.language) <= WEBCHAT_MAX_LANG));
    }
    cJSON_Delete(json);
    return 0;
}
