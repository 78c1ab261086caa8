/* cc_records.c - the RECORDS stream's one definition (cc_records.h). */
#include "cc_records.h"

enum cc_status cc_records_stream_ensure(struct cc_nats *n)
{
    static const char *subjects[] = {CC_RECORDS_SUBJECTS};
    static const struct cc_nats_stream cfg = {
        CC_RECORDS_STREAM, subjects, 1, CC_RECORDS_MAX_AGE_S, CC_RECORDS_DUPLICATE_WINDOW_S, 0};
    return cc_nats_stream_ensure(n, &cfg);
}
