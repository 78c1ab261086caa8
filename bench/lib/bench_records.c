/* bench_records.c - publishing to RECORDS for the benchmarks (bench_records.h). */
#include "bench_records.h"
#include "cc_records.h"
#include "cc_subjects.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct cc_nats *bench_records_connect(const char *url, const char *name)
{
    struct cc_nats *n;
    if (cc_nats_connect(&n, url, name) != CC_OK)
        return NULL;
    for (int i = 0; i < 200 && !cc_nats_connected(n); i++)
        usleep(10000);
    if (cc_records_stream_ensure(n) == CC_OK)
        return n;
    cc_nats_free(n);
    return NULL;
}

enum cc_status bench_publish_record(struct cc_nats *n, const Cc__V1__Record *r)
{
    char subject[192], msg_id[192];
    size_t len = protobuf_c_message_get_packed_size(&r->base);
    uint8_t *buf = malloc(len + 1);
    if (!buf)
        return CC_ERR_NOMEM;
    protobuf_c_message_pack(&r->base, buf);
    snprintf(subject, sizeof subject, SUBJ_RECORDS, r->kind, r->id);
    snprintf(msg_id, sizeof msg_id, "%s:%lld", r->id, (long long)r->version);
    enum cc_status st = cc_nats_js_publish(n, subject, buf, len, msg_id, 5000, NULL);
    free(buf);
    return st;
}
