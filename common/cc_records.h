/* cc_records.h - the RECORDS stream: every version of every call and chat
 * record (proto/cc/v1/records.proto), published by call-router and
 * chat-gateway, read by crm-sync. One definition so that every service
 * creates it the same way. */
#ifndef CC_RECORDS_H
#define CC_RECORDS_H

#include "cc_nats.h"
#include "cc_subjects.h"

#define CC_RECORDS_STREAM "RECORDS"
#define CC_RECORDS_SUBJECTS SUBJ_RECORDS_ANY   /* cc.records.<kind>.<id> */
#define CC_RECORDS_MAX_AGE_S (14 * 86400)      /* a consumer down this long loses records */
#define CC_RECORDS_DUPLICATE_WINDOW_S (2 * 60) /* Nats-Msg-Id "<id>:<version>" */

/* Creates the RECORDS stream or brings it to this shape (file storage). */
enum cc_status cc_records_stream_ensure(struct cc_nats *n);

#endif
