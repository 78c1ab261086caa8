/* cc_nats.h - the NATS adapter every service uses: one connection that
 * reconnects forever with backoff and sends at once (request/reply latency),
 * subscriptions (queue groups for replicas), protobuf request/reply with
 * timeouts, and JetStream streams and durable pull consumers.
 *
 * Errors travel in reply headers (Cc-Status / Cc-Message) so that reply
 * messages stay plain protobuf. Only this adapter sees natsStatus. */
#ifndef CC_NATS_H
#define CC_NATS_H

#include "cc_status.h"

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

struct cc_nats;

/* protobuf-c declares string fields `char *` though packing never writes
 * through them; this lets a literal or a borrowed const string be set. */
#define CC_PB_STR(s) ((char *)(s))

/* A received message. Every pointer is valid only during the callback. */
struct cc_nats_msg {
    const char *subject;
    const char *reply; /* NULL when no reply is expected */
    const uint8_t *data;
    size_t len;
    int delivered; /* JetStream: 1 on first delivery, more on redelivery; else 0 */
    uint64_t seq;  /* JetStream: the message's sequence in its stream; else 0 */
    void *raw;     /* the adapter's message, for cc_nats_respond */
};

typedef void (*cc_nats_handler)(void *arg, const struct cc_nats_msg *m);

/* Connects to `url` under the client name `name`. `url` is one server or a
 * comma-separated list of a cluster's servers: the connection moves to
 * another server when its own fails. Succeeds while NATS is down
 * (the connection keeps trying in the background). Returns CC_OK,
 * CC_ERR_INVALID for a bad URL or CC_ERR_NOMEM. */
enum cc_status cc_nats_connect(struct cc_nats **out, const char *url, const char *name);

/* Stops consumers, drains subscriptions (up to `timeout_ms`), flushes what was
 * published and closes. Handlers may still run while it drains. */
void cc_nats_drain(struct cc_nats *n, int64_t timeout_ms);

/* Closes (if still open) and frees. */
void cc_nats_free(struct cc_nats *n);

/* Releases the NATS library's global state; call once at process exit, after
 * every connection is freed. */
void cc_nats_library_close(void);

/* 1 when connected to a server now, else 0. */
int cc_nats_connected(struct cc_nats *n);

/* Subscribes `fn` to `subject`; with `queue` set, replicas share the messages.
 * Messages of one subscription are handled one at a time, in order. */
enum cc_status cc_nats_subscribe(struct cc_nats *n, const char *subject, const char *queue,
                                 cc_nats_handler fn, void *arg);

/* Publishes `msg` packed (NULL for an empty payload). */
enum cc_status cc_nats_publish(struct cc_nats *n, const char *subject, const ProtobufCMessage *msg);

/* Publishes raw bytes. */
enum cc_status cc_nats_publish_raw(struct cc_nats *n, const char *subject, const void *data,
                                   size_t len);

/* Sends `req` and waits up to `timeout_ms` for the reply, unpacked with
 * `reply_desc` into *reply (free with protobuf_c_message_free_unpacked).
 * When the responder answered an error, returns its status and copies its
 * message into `errmsg` (may be NULL). No responder gives
 * CC_ERR_UNAVAILABLE, no answer in time CC_ERR_TIMEOUT, an unreadable reply
 * CC_ERR_INTERNAL. */
enum cc_status cc_nats_request(struct cc_nats *n, const char *subject, const ProtobufCMessage *req,
                               const ProtobufCMessageDescriptor *reply_desc, int64_t timeout_ms,
                               ProtobufCMessage **reply, char *errmsg, size_t errcap);

/* Answers request `m` with `reply` packed (NULL for an empty payload). */
enum cc_status cc_nats_respond(struct cc_nats *n, const struct cc_nats_msg *m,
                               const ProtobufCMessage *reply);

/* Answers request `m` with an error status and a message for the user. */
enum cc_status cc_nats_respond_error(struct cc_nats *n, const struct cc_nats_msg *m,
                                     enum cc_status st, const char *message);

/* A JetStream stream to create or update to this shape (file storage). */
struct cc_nats_stream {
    const char *name;
    const char **subjects;
    int nsubjects;
    int64_t max_age_s;          /* 0 = keep forever */
    int64_t duplicate_window_s; /* Nats-Msg-Id de-duplication window; 0 = server default */
    int replicas;               /* 0: CC_NATS_STREAM_REPLICAS (default 1; 3 in a cluster) */
};

/* Creates the stream, or updates it when it exists. Waits for JetStream. */
enum cc_status cc_nats_stream_ensure(struct cc_nats *n, const struct cc_nats_stream *cfg);

/* Publishes to JetStream and waits for the stream's acknowledgement, so the
 * message is stored when CC_OK is returned. `msg_id` (may be NULL) lets the
 * server drop a duplicate; *duplicate (may be NULL) is set to 1 then. */
enum cc_status cc_nats_js_publish(struct cc_nats *n, const char *subject, const void *data,
                                  size_t len, const char *msg_id, int64_t timeout_ms,
                                  int *duplicate);

/* What a consumer handler decided for one message. */
enum cc_nats_verdict {
    CC_NATS_ACK,   /* done, never deliver again */
    CC_NATS_RETRY, /* deliver again after *retry_ms */
    CC_NATS_TERM   /* give up on it: permanent failure */
};

typedef enum cc_nats_verdict (*cc_nats_consume_fn)(void *arg, const struct cc_nats_msg *m,
                                                   int64_t *retry_ms);

/* A durable pull consumer on `stream` filtered to `subject`. */
struct cc_nats_consumer {
    const char *stream;
    const char *subject;
    const char *durable; /* replicas with the same name share the messages */
    int64_t ack_wait_ms; /* redelivered when not acknowledged in this time */
    int max_deliver;     /* -1 = unlimited */
    int batch;           /* messages fetched at once */
};

/* Starts a thread that fetches from the consumer and calls `fn` for each
 * message, then acks, naks with delay or terms it. The thread ends in
 * cc_nats_drain. `cfg` strings must outlive the connection. */
enum cc_status cc_nats_consume(struct cc_nats *n, const struct cc_nats_consumer *cfg,
                               cc_nats_consume_fn fn, void *arg);

/* A batch consumer: `fn` gets every message of one fetch (up to cfg->batch)
 * at once and sets verdicts[i] (and retry_ms[i] for CC_NATS_RETRY) for each;
 * they start as CC_NATS_RETRY after 1000 ms. Messages and arrays are valid
 * only during the call. Otherwise as cc_nats_consume. */
typedef void (*cc_nats_consume_batch_fn)(void *arg, const struct cc_nats_msg *msgs, int n,
                                         enum cc_nats_verdict *verdicts, int64_t *retry_ms);
enum cc_status cc_nats_consume_batch(struct cc_nats *n, const struct cc_nats_consumer *cfg,
                                     cc_nats_consume_batch_fn fn, void *arg);

/* Messages of durable consumer `durable` on `stream` not yet acknowledged
 * (waiting plus in flight) into *pending. CC_ERR_NOT_FOUND before the
 * consumer exists. */
enum cc_status cc_nats_consumer_pending(struct cc_nats *n, const char *stream, const char *durable,
                                        int64_t *pending);

#endif
