/* libFuzzer target: what a PBX sends call-router's /pbx/v1 API
 * (services/call-router/pbx_body.c). First byte: which request; the rest is
 * its body, strictly parsed as every JSON route's body is
 * (cc_json_parse_strict), or for the path segment ({call_id}, {agent},
 * {id}) the raw text to percent-decode. */
#include "callrouter.h"
#include "cc_http.h"
#include "fuzz.h"

#include <ctype.h>

/* 1..max printable characters (spaces allowed when `spaces`). */
static int printable(const char *s, size_t max, int spaces)
{
    size_t n = s ? strlen(s) : 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < (spaces ? 0x20 : 0x21) || s[i] > 0x7e)
            return 0;
    return n > 0 && n <= max;
}

static void segment(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    char *out = malloc(strlen(s) + 1);
    FUZZ_CHECK(out != NULL);
    if (pbx_decode_segment(s, out)) {
        FUZZ_CHECK(printable(out, 255, 0));
        /* every escape was '%' and two hex digits */
        for (const char *p = s; *p; p++)
            if (*p == '%') {
                FUZZ_CHECK(isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2]));
                p += 2;
            }
    }
    free(out);
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned which = data[0] % 5;
    if (which == 4) {
        segment(data + 1, size - 1);
        return 0;
    }
    cJSON *json = NULL;
    if (size > 1 && cc_json_parse_strict((const char *)data + 1, size - 1, &json))
        return 0;
    if (which == 0) {
        struct new_call nc;
        if (!pbx_read_new_call(json, &nc)) {
            FUZZ_CHECK(printable(nc.call_id, 255, 0) && printable(nc.queue_id, 64, 0));
            FUZZ_CHECK(printable(nc.from, 128, 1) && (!nc.to || printable(nc.to, 128, 1)));
            FUZZ_CHECK(!nc.has_priority || (nc.priority >= 0 && nc.priority <= 100));
        }
    } else if (which == 1) {
        struct call_event ev;
        if (!pbx_read_event(json, &ev))
            FUZZ_CHECK(printable(ev.type, 24, 0));
    } else if (which == 2) {
        struct direct_call dc;
        if (!pbx_read_direct_call(json, &dc))
            FUZZ_CHECK(printable(dc.call_id, 255, 0) && printable(dc.to, 128, 1));
    } else {
        int done;
        const char *reason;
        if (!pbx_read_command_result(json, &done, &reason))
            FUZZ_CHECK(!reason || printable(reason, 256, 1));
    }
    cJSON_Delete(json);
    return 0;
}
