/* libFuzzer target: what crm-sync reads from outside. Creatio's answers,
 * through services/crm-sync/odata.c: OData lists (each record's fields read
 * as identify.c and provisioning.c read them), error answers, the login
 * answer, OAuth tokens, $batch answers, Set-Cookie lines and Retry-After;
 * the generic webhook CRM's answers (identify.c, deskcrm.c: cJSON_Parse then
 * cc_pbjson_from_json); and the chat and call records from the RECORDS
 * stream mapped to CRM fields (recmap.c). First byte: which; the rest: the
 * answer (or the record's protobuf). */
#include "cc/v1/crm.pb-c.h"
#include "cc_pbjson.h"
#include "fuzz.h"
#include "names.h"
#include "odata.h"
#include "recmap.h"

static void list(const char *body, size_t len)
{
    cJSON *root = NULL, *values = NULL;
    const char *next = NULL;
    if (odata_parse_list(body, len, &root, &values, &next) != CC_OK) {
        FUZZ_CHECK(root == NULL);
        return;
    }
    FUZZ_CHECK(cJSON_IsArray(values));
    const cJSON *v;
    cJSON_ArrayForEach(v, values)
    {
        FUZZ_CHECK(cJSON_IsObject(v));
        const char *id = odata_guid(v, "Id");
        FUZZ_CHECK(!id || odata_guid_valid(id));
        const char *name = odata_str(v, "Name", 250);
        FUZZ_CHECK(!name || strlen(name) <= 250);
    }
    FUZZ_CHECK(!next || strlen(next) < len);
    cJSON_Delete(root);
}

static void batch(const char *body, size_t len, int n)
{
    long status[ODATA_BATCH_MAX];
    cJSON *bodies[ODATA_BATCH_MAX], *root = NULL;
    if (odata_batch_parse(body, len, n, status, bodies, &root) == CC_OK)
        for (int i = 0; i < n; i++)
            FUZZ_CHECK(status[i] >= 0 && status[i] <= 999);
    cJSON_Delete(root);
}

static void cookies(const char *text, size_t len)
{
    struct odata_cookies jar = {0};
    struct cc_buf b = CC_BUF_INIT;
    const char *p = text, *end = text + len;
    while (p < end) { /* one header line at a time, as curl hands them over */
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p + 1) : (size_t)(end - p);
        char *line = malloc(n);
        FUZZ_CHECK(line != NULL);
        memcpy(line, p, n); /* not NUL-terminated, as curl's buffer */
        odata_cookie_take(&jar, line, n);
        free(line);
        p += n;
    }
    FUZZ_CHECK(jar.n >= 0 && jar.n <= ODATA_MAX_COOKIES);
    for (int i = 0; i < jar.n; i++) {
        FUZZ_CHECK(memchr(jar.name[i], '\0', sizeof jar.name[i]));
        FUZZ_CHECK(memchr(jar.value[i], '\0', sizeof jar.value[i]));
        FUZZ_CHECK(odata_cookie_get(&jar, jar.name[i]) != NULL);
    }
    FUZZ_CHECK(odata_cookie_header(&jar, &b) == CC_OK);
    cc_buf_release(&b);
}

/* the generic webhook's answers: read as identify.c and deskcrm.c read them */
static void webhook_answer(const char *text, unsigned which)
{
    static const ProtobufCMessageDescriptor *const types[] = {&cc__v1__contact_list__descriptor,
                                                              &cc__v1__contact__descriptor,
                                                              &cc__v1__case_reply__descriptor};
    cJSON *ans = cJSON_Parse(text);
    ProtobufCMessage *m = NULL;
    char why[256];
    if (cc_pbjson_from_json(types[which % 3], ans, &m, why, sizeof why) == CC_OK)
        protobuf_c_message_free_unpacked(m, NULL);
    else
        FUZZ_CHECK(m == NULL && why[0]);
    cJSON_Delete(ans);
}

static void record(const uint8_t *data, size_t size, int call)
{
    static struct crm_names names;
    static int ready;
    if (!ready)
        names_init(&names), ready = 1;
    cJSON *out = cJSON_CreateObject();
    FUZZ_CHECK(out != NULL);
    if (call) {
        Cc__V1__Call *cl = cc__v1__call__unpack(NULL, size, data);
        if (cl) {
            FUZZ_CHECK(recmap_call(&names, cl, "Done", out) == CC_OK);
            cc__v1__call__free_unpacked(cl, NULL);
        }
    } else {
        Cc__V1__Chat *ch = cc__v1__chat__unpack(NULL, size, data);
        if (ch) {
            FUZZ_CHECK(recmap_chat(&names, ch, NULL, out) == CC_OK);
            cc__v1__chat__free_unpacked(ch, NULL);
        }
    }
    char *text = cJSON_PrintUnformatted(out);
    FUZZ_CHECK(text != NULL);
    free(text);
    cJSON_Delete(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned which = data[0] % 14;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    char msg[256], token[1024];
    int64_t expires = 0;
    switch (which) {
    case 0:
        list(body, len);
        break;
    case 1:
        odata_error_message(body, len, msg, sizeof msg);
        FUZZ_CHECK(memchr(msg, '\0', sizeof msg));
        break;
    case 2:
        odata_login_ok(body, len, msg, sizeof msg);
        FUZZ_CHECK(memchr(msg, '\0', sizeof msg));
        break;
    case 3:
        if (odata_token_parse(body, len, token, sizeof token, &expires) == CC_OK)
            FUZZ_CHECK(expires >= 1 && expires <= 86400 * 30 && strlen(token) < sizeof token);
        break;
    case 4:
        batch(body, len, 1);
        break;
    case 5:
        batch(body, len, 3);
        break;
    case 6:
        batch(body, len, ODATA_BATCH_MAX);
        break;
    case 7:
        cookies(body, len);
        break;
    case 8: {
        char *s = fuzz_cstr(data + 1, len);
        int64_t ms = odata_retry_after_ms(s, 1767225600000);
        FUZZ_CHECK(ms >= -1 && ms <= 3600 * 1000);
        free(s);
        break;
    }
    case 9:
    case 10:
    case 11: {
        char *s = fuzz_cstr(data + 1, len);
        webhook_answer(s, which - 9);
        free(s);
        break;
    }
    default:
        record(data + 1, len, which == 13);
    }
    return 0;
}
