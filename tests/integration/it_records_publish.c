/* Test helper: publishes records to the RECORDS stream the way chat-gateway
 * and call-router do, one per line of stdin: a JSON cc.v1.Record
 * ({"kind","id","version","changed_at","chat":{...}} or "call"), to
 * cc.records.<kind>.<id> with Nats-Msg-Id "<id>:<version>", each stored by
 * JetStream before the next. Prints how many were stored.
 * Usage: CC_TEST_NATS_URL=nats://... it_records_publish < records.jsonl */
#include "cc/v1/records.pb-c.h"
#include "cc_config.h"
#include "cc_nats.h"
#include "cc_pbjson.h"
#include "cc_records.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static enum cc_status publish(struct cc_nats *n, const char *line, char *why, size_t cap)
{
    ProtobufCMessage *m = NULL;
    cJSON *j = cJSON_Parse(line);
    char subject[192], msg_id[192];
    enum cc_status st =
        j ? cc_pbjson_from_json(&cc__v1__record__descriptor, j, &m, why, cap) : CC_ERR_INVALID;
    cJSON_Delete(j);
    if (st != CC_OK)
        return st;
    const Cc__V1__Record *r = (const Cc__V1__Record *)m;
    snprintf(subject, sizeof subject, "cc.records.%s.%s", r->kind ? r->kind : "x",
             r->id ? r->id : "x");
    snprintf(msg_id, sizeof msg_id, "%s:%lld", r->id ? r->id : "x", (long long)r->version);
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(len + 1);
    if (!buf) {
        protobuf_c_message_free_unpacked(m, NULL);
        return CC_ERR_NOMEM;
    }
    protobuf_c_message_pack(m, buf);
    st = cc_nats_js_publish(n, subject, buf, len, msg_id, 5000, NULL);
    free(buf);
    protobuf_c_message_free_unpacked(m, NULL);
    return st;
}

int main(void)
{
    struct cc_nats *n;
    char why[256] = "", *line = NULL;
    size_t cap = 0;
    long stored = 0;
    const char *url = cc_env_str("CC_TEST_NATS_URL", NULL);
    if (!url || cc_nats_connect(&n, url, "it_records_publish") != CC_OK)
        return 2;
    for (int i = 0; i < 200 && !cc_nats_connected(n); i++)
        usleep(10000);
    enum cc_status st = cc_records_stream_ensure(n);
    while (st == CC_OK && getline(&line, &cap, stdin) > 0) {
        if (line[0] == '\n')
            continue;
        if ((st = publish(n, line, why, sizeof why)) == CC_OK)
            stored++;
    }
    free(line);
    printf("%ld\n", stored);
    if (st != CC_OK)
        fprintf(stderr, "it_records_publish: %s %s\n", cc_status_str(st), why);
    cc_nats_drain(n, 500);
    cc_nats_free(n);
    cc_nats_library_close();
    return st == CC_OK ? 0 : 1;
}
