/* pbx_body.c - what the PBX sends in /pbx/v1 requests (bodies and path
 * segments), checked without I/O: pbx.c answers with these,
 * tests/fuzz/pbx.c fuzzes them. Every text is printable ASCII of bounded
 * length (spaces only where a person's words go), but for the caller's
 * display name (UTF-8 without control characters). */
#include "callrouter.h"

#include <ctype.h>
#include <string.h>

#define MAX_CALL_ID 255
#define MAX_NUMBER 128
#define MAX_NAME 255 /* a caller's display name, bytes */

/* 1 when `s` is 1..max printable ASCII characters (spaces when `spaces`). */
static int printable(const char *s, size_t max, int spaces)
{
    size_t n = s ? strlen(s) : 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < (spaces ? 0x20 : 0x21) || s[i] > 0x7e)
            return 0;
    return n > 0 && n <= max;
}

/* Field `name` of the body: NULL when absent; *bad set when present but wrong. */
static const char *field(const cJSON *json, const char *name, size_t max, int spaces, int *bad)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(json, name);
    if (!v || cJSON_IsNull(v))
        return NULL;
    if (!cJSON_IsString(v) || !printable(v->valuestring, max, spaces)) {
        *bad = 1;
        return NULL;
    }
    return v->valuestring;
}

/* Text field `name` (a display name, UTF-8, no control characters, at
 * most `max` bytes): NULL when absent or only spaces; *bad set when wrong. */
static const char *name_field(const cJSON *json, const char *name, size_t max, int *bad)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(json, name);
    if (!v || cJSON_IsNull(v))
        return NULL;
    if (!cJSON_IsString(v) || strlen(v->valuestring) > max) {
        *bad = 1;
        return NULL;
    }
    int blank = 1;
    for (const unsigned char *p = (const unsigned char *)v->valuestring; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            *bad = 1;
            return NULL;
        }
        blank = blank && *p == ' ';
    }
    return blank ? NULL : v->valuestring;
}

static int hexval(char c)
{
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

int pbx_decode_segment(const char *s, char *out)
{
    char *o = out;
    for (; *s; s++) {
        if (*s != '%') {
            *o++ = *s;
            continue;
        }
        /* exactly two hex digits: sscanf's %2x would also take a sign or a space */
        if (!isxdigit((unsigned char)s[1]) || !isxdigit((unsigned char)s[2]))
            return 0;
        int v = hexval(s[1]) << 4 | hexval(s[2]);
        if (v == 0)
            return 0;
        *o++ = (char)v, s += 2;
    }
    *o = '\0';
    return printable(out, MAX_CALL_ID, 0);
}

const char *pbx_read_new_call(const cJSON *json, struct new_call *nc)
{
    int bad = 0;
    memset(nc, 0, sizeof *nc);
    if (!cJSON_IsObject(json))
        return "a JSON body is required";
    nc->call_id = field(json, "call_id", MAX_CALL_ID, 0, &bad);
    nc->queue_id = field(json, "queue_id", 64, 0, &bad);
    nc->from = field(json, "from", MAX_NUMBER, 1, &bad);
    nc->to = field(json, "to", MAX_NUMBER, 1, &bad);
    nc->from_name = name_field(json, "from_name", MAX_NAME, &bad);
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(json, "priority");
    /* range first: converting a double beyond int's range is undefined */
    if (p && (!cJSON_IsNumber(p) || !(p->valuedouble >= 0 && p->valuedouble <= 100) ||
              p->valuedouble != (double)(int)p->valuedouble))
        return "priority: an integer 0..100";
    nc->has_priority = p != NULL, nc->priority = p ? p->valueint : 0;
    if (bad || !nc->call_id || !nc->queue_id || !nc->from)
        return "call_id, queue_id and from are required: printable text, call_id at most 255 "
               "bytes, numbers at most 128; from_name: text of at most 255 bytes";
    return NULL;
}

const char *pbx_read_event(const cJSON *json, struct call_event *ev)
{
    int bad = 0;
    memset(ev, 0, sizeof *ev);
    if (!cJSON_IsObject(json))
        return "a JSON body is required";
    ev->type = field(json, "type", 24, 0, &bad);
    ev->offer_id = field(json, "offer_id", 160, 0, &bad);
    ev->by = field(json, "by", 16, 0, &bad);
    ev->reason = field(json, "reason", 256, 1, &bad);
    if (bad || !ev->type)
        return "type is required; offer_id, by and reason are printable text";
    if (ev->by && strcmp(ev->by, "caller") && strcmp(ev->by, "agent"))
        return "by: caller or agent";
    return NULL;
}

const char *pbx_read_direct_call(const cJSON *json, struct direct_call *dc)
{
    int bad = 0;
    memset(dc, 0, sizeof *dc);
    if (!cJSON_IsObject(json))
        return "an agent and a JSON body are required";
    dc->call_id = field(json, "call_id", MAX_CALL_ID, 0, &bad);
    dc->direction = field(json, "direction", 16, 0, &bad);
    dc->from = field(json, "from", MAX_NUMBER, 1, &bad);
    dc->to = field(json, "to", MAX_NUMBER, 1, &bad);
    dc->from_name = name_field(json, "from_name", MAX_NAME, &bad);
    if (bad || !dc->call_id || !dc->direction || !dc->from || !dc->to ||
        (strcmp(dc->direction, "inbound") && strcmp(dc->direction, "outbound")))
        return "call_id, direction (inbound or outbound), from and to are required printable "
               "text; from_name: text of at most 255 bytes";
    return NULL;
}

const char *pbx_read_command_result(const cJSON *json, int *done, const char **reason)
{
    int bad = 0;
    *done = 0, *reason = NULL;
    if (!cJSON_IsObject(json))
        return "a command id and a JSON body are required";
    const char *status = field(json, "status", 16, 0, &bad);
    *reason = field(json, "reason", 256, 1, &bad);
    if (bad || !status || (strcmp(status, "done") && strcmp(status, "failed")))
        return "status: done or failed; reason: text";
    *done = !strcmp(status, "done");
    return NULL;
}
