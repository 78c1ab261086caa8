/* cc_sse.c - server-sent event streams (cc_sse.h). */
#include "cc_sse.h"
#include "cc_log.h"
#include "cc_time.h"

#include <stdlib.h>
#include <string.h>

#define STOP_POLL_US 250000 /* a waiting stream looks at cc_http_stopping this often */
#define SSE_CONNECTED ": connected\n\n"
#define SSE_KEEPALIVE ": keepalive\n\n"

struct sse {
    struct cc_http_req *req;    /* borrowed: used only by sse_read, while the request lasts */
    struct cc_events_sub *sub;  /* owned */
    cc_sse_check_fn check;
    void *arg;
    void (*arg_free)(void *arg);
    int64_t keepalive_us, next_keepalive_us; /* cc_time_mono_us */
    struct cc_events_msg *msg;  /* owned reference to the frame being sent, or NULL */
    const char *out;            /* the text being sent: msg's frame or a comment line */
    size_t out_len, out_off;
};

/* Sets what sse_read sends next; `m` (may be NULL) is the reference it takes over. */
static void set_output(struct sse *s, struct cc_events_msg *m, const char *text, size_t len)
{
    cc_events_msg_unref(s->msg);
    s->msg = m;
    s->out = text;
    s->out_len = len;
    s->out_off = 0;
}

/* A keepalive, when the check passes. */
static enum cc_status keepalive(struct sse *s, int64_t now)
{
    enum cc_status st = s->check ? s->check(s->arg) : CC_OK;
    if (st != CC_OK)
        return st;
    set_output(s, NULL, SSE_KEEPALIVE, strlen(SSE_KEEPALIVE));
    s->next_keepalive_us = now + s->keepalive_us;
    return CC_OK;
}

/* Waits for what to send next: an event, or a keepalive when one is due.
 * Keepalives keep their pace while events flow, so the check runs on a busy
 * stream too. Returns CC_OK with the output set, or why the stream ends. */
static enum cc_status next_output(struct sse *s)
{
    struct cc_events_msg *m;
    const char *frame;
    size_t len;
    set_output(s, NULL, NULL, 0);
    for (;;) {
        int64_t now = cc_time_mono_us();
        if (cc_http_stopping(s->req))
            return CC_ERR_UNAVAILABLE;
        if (now >= s->next_keepalive_us)
            return keepalive(s, now);
        int64_t until = now + STOP_POLL_US;
        switch (cc_events_sub_next(s->sub, until < s->next_keepalive_us ? until
                                                                          : s->next_keepalive_us,
                                   &m)) {
        case CC_EVENTS_MSG:
            frame = cc_events_msg_frame(m, &len);
            set_output(s, m, frame, len);
            return CC_OK;
        case CC_EVENTS_OVERFLOW:
            CC_WARN("sse: a stream fell behind (queue full), ending it");
            return CC_ERR_TOO_LARGE;
        case CC_EVENTS_TIMEOUT:
            break;
        }
    }
}

/* cc_http_stream_fn: copies the current output, fetching the next when done. */
static ssize_t sse_read(void *arg, char *buf, size_t max)
{
    struct sse *s = arg;
    if (s->out_off == s->out_len && next_output(s) != CC_OK)
        return -1;
    size_t n = s->out_len - s->out_off < max ? s->out_len - s->out_off : max;
    memcpy(buf, s->out + s->out_off, n);
    s->out_off += n;
    return (ssize_t)n;
}

/* Release of the stream (cc_http_stream): unsubscribes and frees. */
static void sse_free(void *arg)
{
    struct sse *s = arg;
    cc_events_msg_unref(s->msg);
    cc_events_sub_close(s->sub);
    if (s->arg_free)
        s->arg_free(s->arg);
    free(s);
}

void cc_sse_answer(struct cc_events *ev, const char *key, int64_t keepalive_us,
                   cc_sse_check_fn check, void *arg, void (*arg_free)(void *arg),
                   struct cc_http_req *req, struct cc_http_resp *resp)
{
    cc_sse_answer_filtered(ev, key, NULL, keepalive_us, check, arg, arg_free, req, resp);
}

void cc_sse_answer_filtered(struct cc_events *ev, const char *key, cc_events_filter_fn filter,
                            int64_t keepalive_us, cc_sse_check_fn check, void *arg,
                            void (*arg_free)(void *arg), struct cc_http_req *req,
                            struct cc_http_resp *resp)
{
    struct sse *s = calloc(1, sizeof *s);
    enum cc_status st =
        s ? cc_events_sub_open_filtered(ev, key, filter, arg, &s->sub) : CC_ERR_NOMEM;
    if (st != CC_OK) {
        free(s);
        if (arg_free)
            arg_free(arg);
        cc_http_error(resp, st, st == CC_ERR_UNAVAILABLE ? "too many event streams are open" : NULL);
        return;
    }
    s->req = req, s->check = check, s->arg = arg, s->arg_free = arg_free;
    s->keepalive_us = keepalive_us;
    s->next_keepalive_us = cc_time_mono_us() + keepalive_us;
    set_output(s, NULL, SSE_CONNECTED, strlen(SSE_CONNECTED));
    cc_http_stream(resp, 200, "text/event-stream", sse_read, s, sse_free);
}
