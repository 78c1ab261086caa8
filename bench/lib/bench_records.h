/* bench_records.h - records published to the RECORDS stream the way
 * call-router and chat-gateway publish them (cc.records.<kind>.<id>,
 * Nats-Msg-Id "<id>:<version>", stored by JetStream before it returns). */
#ifndef BENCH_RECORDS_H
#define BENCH_RECORDS_H

#include "cc/v1/records.pb-c.h"
#include "cc_nats.h"

/* Connects to `url`, waits for the connection and makes sure RECORDS
 * exists; NULL on failure. */
struct cc_nats *bench_records_connect(const char *url, const char *name);

/* Publishes `r` (kind, id and version set) and waits for its PubAck. */
enum cc_status bench_publish_record(struct cc_nats *n, const Cc__V1__Record *r);

#endif
