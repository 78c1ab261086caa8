/* cc_nats.c - nats.c behind the project's status codes. */
#include "cc_nats.h"
#include "cc_config.h"
#include "cc_log.h"

#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MAX_SUBS 256
#define MAX_SERVERS 16
#define MAX_CONSUMERS 16
#define JS_WAIT_MS 5000
#define STREAM_WAIT_MS 30000 /* creating a stream: how long a cluster may take to accept it */
#define STREAM_RETRY_MS 250

struct consumer {
    struct cc_nats *n;
    struct cc_nats_consumer cfg;
    cc_nats_consume_fn fn;
    cc_nats_consume_batch_fn batch_fn; /* set instead of fn for batch consumers */
    void *arg;
    pthread_t thread;
    natsSubscription *left; /* unsubscribed at stop, freed once the connection closed */
};

struct sub {
    struct cc_nats *n;
    cc_nats_handler fn;
    void *arg;
    natsSubscription *ns;
};

struct cc_nats {
    natsConnection *nc;
    jsCtx *js;
    atomic_int stopping; /* set by cc_nats_drain: consumer threads end */
    atomic_int closed;   /* set by the library's closed callback, its last use of us */
    struct sub subs[MAX_SUBS];
    int nsubs;
    struct consumer consumers[MAX_CONSUMERS];
    int nconsumers;
    pthread_mutex_t lock; /* guards nsubs / nconsumers */
};

static enum cc_status map(natsStatus s)
{
    switch (s) {
    case NATS_OK:
        return CC_OK;
    case NATS_TIMEOUT:
        return CC_ERR_TIMEOUT;
    case NATS_NO_RESPONDERS:
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_NOT_YET_CONNECTED:
    case NATS_STALE_CONNECTION:
    case NATS_NO_SERVER:
    case NATS_IO_ERROR:
        return CC_ERR_UNAVAILABLE;
    case NATS_NO_MEMORY:
        return CC_ERR_NOMEM;
    case NATS_INVALID_ARG:
    case NATS_INVALID_SUBJECT:
    case NATS_MAX_PAYLOAD:
        return CC_ERR_INVALID;
    default:
        return CC_ERR_INTERNAL;
    }
}

/* Backoff between reconnect attempts: 50 ms doubling to 2 s, plus jitter. */
static int64_t reconnect_delay(natsConnection *nc, int attempts, void *closure)
{
    (void)nc, (void)closure;
    int64_t d = 50;
    for (int i = 0; i < attempts && d < 2000; i++)
        d *= 2;
    if (d > 2000)
        d = 2000;
    return d + rand() % 50;
}

static void on_disconnected(natsConnection *nc, void *closure)
{
    struct cc_nats *n = closure;
    (void)nc;
    if (!atomic_load(&n->stopping))
        CC_WARN("nats: disconnected, reconnecting");
}

static void on_reconnected(natsConnection *nc, void *closure)
{
    (void)nc, (void)closure;
    CC_INFO("nats: reconnected");
}

/* Runs on the library's callback thread after every other connection
 * callback, so once it has run nothing of the library touches `n` again. */
static void on_closed(natsConnection *nc, void *closure)
{
    struct cc_nats *n = closure;
    (void)nc;
    atomic_store(&n->closed, 1);
}

static void on_connected(natsConnection *nc, void *closure)
{
    (void)nc, (void)closure;
    CC_INFO("nats: connected");
}

/* TLS: a tls:// URL (or a server that requires TLS) makes the connection
 * secure; the server's certificate is verified against CC_NATS_TLS_CA when
 * set (a private CA), else the system's trusted CAs. */
static natsStatus set_tls(natsOptions *opts, const char *url)
{
    const char *ca = cc_env_str("CC_NATS_TLS_CA", NULL);
    natsStatus s = NATS_OK;
    if (strncasecmp(url, "tls://", 6) == 0 || strstr(url, ",tls://"))
        s = natsOptions_SetSecure(opts, true);
    if (s == NATS_OK && ca)
        s = natsOptions_LoadCATrustedCertificates(opts, ca);
    if (s != NATS_OK)
        CC_ERROR("nats: TLS set-up failed (CC_NATS_TLS_CA=%s): %s", ca ? ca : "",
                 nats_GetLastError(NULL));
    return s;
}

/* Splits "url[,url...]" (spaces around commas allowed) into `out` (strings
 * inside `buf`). Returns how many, or -1 for an empty list or too many. */
static int split_servers(const char *list, char *buf, size_t cap, const char **out)
{
    int n = 0;
    if (strlen(list) >= cap)
        return -1;
    memcpy(buf, list, strlen(list) + 1);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        size_t len = strlen(tok);
        while (len && tok[len - 1] == ' ')
            tok[--len] = '\0';
        if (!len)
            continue;
        if (n == MAX_SERVERS)
            return -1;
        out[n++] = tok;
    }
    return n ? n : -1;
}

static natsStatus make_options(struct cc_nats *n, natsOptions **opts, const char *url,
                               const char *name)
{
    char buf[1024];
    const char *servers[MAX_SERVERS];
    int nservers = split_servers(url, buf, sizeof buf, servers);
    if (nservers < 0)
        return NATS_INVALID_ARG;
    natsStatus s = natsOptions_Create(opts);
    /* one URL or a cluster's comma-separated list, each server given apart
     * (natsOptions_SetURL of nats.c 3.4 takes a list as one bad URL): the
     * client moves to another server when one fails and learns the rest of
     * the cluster from the one it reaches */
    if (s == NATS_OK)
        s = natsOptions_SetServers(*opts, servers, nservers);
    if (s == NATS_OK)
        s = natsOptions_SetName(*opts, name);
    if (s == NATS_OK)
        s = natsOptions_SetSendAsap(*opts, true); /* request/reply latency */
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(*opts, -1);
    if (s == NATS_OK)
        s = natsOptions_SetCustomReconnectDelay(*opts, reconnect_delay, NULL);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectBufSize(*opts, 8 * 1024 * 1024);
    if (s == NATS_OK)
        s = natsOptions_SetRetryOnFailedConnect(*opts, true, on_connected, NULL);
    if (s == NATS_OK)
        s = natsOptions_SetDisconnectedCB(*opts, on_disconnected, n);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectedCB(*opts, on_reconnected, NULL);
    if (s == NATS_OK)
        s = natsOptions_SetClosedCB(*opts, on_closed, n);
    if (s == NATS_OK)
        s = natsOptions_SetPingInterval(*opts, 5000);
    if (s == NATS_OK)
        s = natsOptions_SetMaxPingsOut(*opts, 2);
    if (s == NATS_OK)
        s = set_tls(*opts, url);
    return s;
}

enum cc_status cc_nats_connect(struct cc_nats **out, const char *url, const char *name)
{
    natsOptions *opts = NULL;
    struct cc_nats *n = calloc(1, sizeof *n);
    if (!n)
        return CC_ERR_NOMEM;
    pthread_mutex_init(&n->lock, NULL);
    natsStatus s = make_options(n, &opts, url, name);
    if (s == NATS_OK) {
        s = natsConnection_Connect(&n->nc, opts);
        if (s == NATS_NOT_YET_CONNECTED) /* retried in the background */
            s = NATS_OK;
    }
    if (s == NATS_OK)
        s = natsConnection_JetStream(&n->js, n->nc, NULL);
    natsOptions_Destroy(opts);
    if (s != NATS_OK) {
        CC_ERROR("nats: cannot connect to %s: %s", url, natsStatus_GetText(s));
        cc_nats_free(n);
        return s == NATS_NO_MEMORY ? CC_ERR_NOMEM : CC_ERR_INVALID;
    }
    *out = n;
    return CC_OK;
}

void cc_nats_drain(struct cc_nats *n, int64_t timeout_ms)
{
    if (!n || atomic_exchange(&n->stopping, 1))
        return;
    for (int i = 0; i < n->nconsumers; i++)
        pthread_join(n->consumers[i].thread, NULL);
    if (n->nc && natsConnection_DrainTimeout(n->nc, timeout_ms) == NATS_OK) {
        int64_t deadline = timeout_ms;
        while (natsConnection_Status(n->nc) != NATS_CONN_STATUS_CLOSED && deadline > 0) {
            usleep(10000);
            deadline -= 10;
        }
    }
}

void cc_nats_free(struct cc_nats *n)
{
    if (!n)
        return;
    if (!atomic_load(&n->stopping)) {
        atomic_store(&n->stopping, 1);
        for (int i = 0; i < n->nconsumers; i++)
            pthread_join(n->consumers[i].thread, NULL);
    }
    if (n->nc) {
        natsConnection_Close(n->nc);
        for (int i = 0; i < 500 && !atomic_load(&n->closed); i++)
            usleep(2000); /* callbacks still queued would use freed memory */
    }
    for (int i = 0; i < n->nsubs; i++)
        natsSubscription_Destroy(n->subs[i].ns);
    for (int i = 0; i < n->nconsumers; i++)
        natsSubscription_Destroy(n->consumers[i].left);
    jsCtx_Destroy(n->js);
    natsConnection_Destroy(n->nc);
    pthread_mutex_destroy(&n->lock);
    free(n);
}

void cc_nats_library_close(void)
{
    nats_CloseAndWait(2000);
}

int cc_nats_connected(struct cc_nats *n)
{
    return n && n->nc && natsConnection_Status(n->nc) == NATS_CONN_STATUS_CONNECTED;
}

static void fill_msg(struct cc_nats_msg *m, natsMsg *msg)
{
    m->subject = natsMsg_GetSubject(msg);
    m->reply = natsMsg_GetReply(msg);
    m->data = (const uint8_t *)natsMsg_GetData(msg);
    m->len = (size_t)natsMsg_GetDataLength(msg);
    m->delivered = 0;
    m->seq = 0;
    m->raw = msg;
}

static void on_msg(natsConnection *nc, natsSubscription *ns, natsMsg *msg, void *closure)
{
    struct sub *s = closure;
    struct cc_nats_msg m;
    (void)nc, (void)ns;
    fill_msg(&m, msg);
    s->fn(s->arg, &m);
    natsMsg_Destroy(msg);
}

enum cc_status cc_nats_subscribe(struct cc_nats *n, const char *subject, const char *queue,
                                 cc_nats_handler fn, void *arg)
{
    pthread_mutex_lock(&n->lock);
    if (n->nsubs == MAX_SUBS) {
        pthread_mutex_unlock(&n->lock);
        return CC_ERR_NOMEM;
    }
    struct sub *s = &n->subs[n->nsubs];
    s->n = n, s->fn = fn, s->arg = arg;
    natsStatus st = queue ? natsConnection_QueueSubscribe(&s->ns, n->nc, subject, queue, on_msg, s)
                          : natsConnection_Subscribe(&s->ns, n->nc, subject, on_msg, s);
    if (st == NATS_OK) {
        /* a slow handler must not lose requests: allow a deep backlog */
        natsSubscription_SetPendingLimits(s->ns, 1000000, 1024 * 1024 * 1024);
        n->nsubs++;
    }
    pthread_mutex_unlock(&n->lock);
    if (st != NATS_OK)
        CC_ERROR("nats: subscribe %s: %s", subject, natsStatus_GetText(st));
    return map(st);
}

/* Packs `msg` into a new buffer (the caller frees it); empty for NULL. */
static enum cc_status pack(const ProtobufCMessage *msg, uint8_t **buf, size_t *len)
{
    *len = msg ? protobuf_c_message_get_packed_size(msg) : 0;
    *buf = malloc(*len ? *len : 1);
    if (!*buf)
        return CC_ERR_NOMEM;
    if (msg)
        protobuf_c_message_pack(msg, *buf);
    return CC_OK;
}

enum cc_status cc_nats_publish_raw(struct cc_nats *n, const char *subject, const void *data,
                                   size_t len)
{
    return map(natsConnection_Publish(n->nc, subject, data, (int)len));
}

enum cc_status cc_nats_publish(struct cc_nats *n, const char *subject, const ProtobufCMessage *msg)
{
    uint8_t *buf;
    size_t len;
    enum cc_status st = pack(msg, &buf, &len);
    if (st == CC_OK)
        st = cc_nats_publish_raw(n, subject, buf, len);
    free(buf);
    return st;
}

/* Reads the error a responder put in the headers; CC_OK when none. */
static enum cc_status reply_error(natsMsg *msg, char *errmsg, size_t errcap)
{
    const char *code = NULL, *text = NULL;
    if (natsMsgHeader_Get(msg, "Cc-Status", &code) != NATS_OK || !code)
        return CC_OK;
    if (errmsg && errcap) {
        natsMsgHeader_Get(msg, "Cc-Message", &text);
        snprintf(errmsg, errcap, "%s", text ? text : "");
    }
    enum cc_status st = cc_status_from_code(code);
    return st == CC_OK ? CC_ERR_INTERNAL : st;
}

enum cc_status cc_nats_request(struct cc_nats *n, const char *subject, const ProtobufCMessage *req,
                               const ProtobufCMessageDescriptor *reply_desc, int64_t timeout_ms,
                               ProtobufCMessage **reply, char *errmsg, size_t errcap)
{
    natsMsg *resp = NULL;
    uint8_t *buf;
    size_t len;
    *reply = NULL;
    if (errmsg && errcap)
        errmsg[0] = '\0';
    enum cc_status st = pack(req, &buf, &len);
    if (st != CC_OK)
        return st;
    st = map(natsConnection_Request(&resp, n->nc, subject, buf, (int)len, timeout_ms));
    free(buf);
    if (st == CC_OK)
        st = reply_error(resp, errmsg, errcap);
    if (st == CC_OK && reply_desc) {
        *reply = protobuf_c_message_unpack(reply_desc, NULL, (size_t)natsMsg_GetDataLength(resp),
                                           (const uint8_t *)natsMsg_GetData(resp));
        if (!*reply)
            st = CC_ERR_INTERNAL;
    }
    natsMsg_Destroy(resp);
    return st;
}

static enum cc_status respond(struct cc_nats *n, const struct cc_nats_msg *m, const uint8_t *data,
                              size_t len, enum cc_status err, const char *message)
{
    natsMsg *out = NULL;
    if (!m->reply)
        return CC_ERR_INVALID;
    natsStatus s = natsMsg_Create(&out, m->reply, NULL, (const char *)data, (int)len);
    if (s == NATS_OK && err != CC_OK) {
        s = natsMsgHeader_Set(out, "Cc-Status", cc_status_code(err));
        if (s == NATS_OK && message)
            s = natsMsgHeader_Set(out, "Cc-Message", message);
    }
    if (s == NATS_OK)
        s = natsConnection_PublishMsg(n->nc, out);
    natsMsg_Destroy(out);
    return map(s);
}

enum cc_status cc_nats_respond(struct cc_nats *n, const struct cc_nats_msg *m,
                               const ProtobufCMessage *reply)
{
    uint8_t *buf;
    size_t len;
    enum cc_status st = pack(reply, &buf, &len);
    if (st == CC_OK)
        st = respond(n, m, buf, len, CC_OK, NULL);
    free(buf);
    return st;
}

enum cc_status cc_nats_respond_error(struct cc_nats *n, const struct cc_nats_msg *m,
                                     enum cc_status st, const char *message)
{
    return respond(n, m, NULL, 0, st == CC_OK ? CC_ERR_INTERNAL : st, message);
}

/* Copies per stream when its definition leaves it open: CC_NATS_STREAM_REPLICAS
 * (1 on one server, 3 on a three-node JetStream cluster), default 1. */
static int stream_replicas(void)
{
    int64_t v;
    const char *s = cc_env_str("CC_NATS_STREAM_REPLICAS", "1");
    return cc_parse_int(s, 1, 5, &v) == 0 ? (int)v : 1;
}

enum cc_status cc_nats_stream_ensure(struct cc_nats *n, const struct cc_nats_stream *cfg)
{
    jsStreamConfig sc;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    jsStreamConfig_Init(&sc);
    sc.Name = cfg->name;
    sc.Subjects = cfg->subjects;
    sc.SubjectsLen = cfg->nsubjects;
    sc.Storage = js_FileStorage;
    sc.MaxAge = cfg->max_age_s * 1000000000LL;
    sc.Duplicates = cfg->duplicate_window_s * 1000000000LL;
    sc.Replicas = cfg->replicas > 0 ? cfg->replicas : stream_replicas();
    natsStatus s;
    /* a cluster still electing its JetStream leader (or placing a replicated
     * stream) answers late or "temporarily unavailable": ask again a while */
    for (int64_t waited = 0;; waited += STREAM_RETRY_MS) {
        jerr = 0;
        s = js_AddStream(&si, n->js, &sc, NULL, &jerr);
        if (s != NATS_OK && jerr == JSStreamNameExistErr)
            s = js_UpdateStream(&si, n->js, &sc, NULL, &jerr);
        jsStreamInfo_Destroy(si);
        si = NULL;
        int later = s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS || jerr == JSClusterNotAvailErr ||
                    jerr == JSClusterNoPeersErr || jerr == JSClusterNotLeaderErr;
        if (s == NATS_OK || !later || waited >= STREAM_WAIT_MS)
            break;
        CC_INFO("nats: stream %s: %s (js error %d); asking again", cfg->name, natsStatus_GetText(s),
                (int)jerr);
        usleep(STREAM_RETRY_MS * 1000);
    }
    if (s != NATS_OK)
        CC_WARN("nats: stream %s: %s (js error %d)", cfg->name, natsStatus_GetText(s), (int)jerr);
    return map(s);
}

enum cc_status cc_nats_js_publish(struct cc_nats *n, const char *subject, const void *data,
                                  size_t len, const char *msg_id, int64_t timeout_ms,
                                  int *duplicate)
{
    jsPubOptions po;
    jsPubAck *ack = NULL;
    jsErrCode jerr = 0;
    jsPubOptions_Init(&po);
    po.MsgId = msg_id;
    po.MaxWait = timeout_ms;
    natsStatus s = js_Publish(&ack, n->js, subject, data, (int)len, &po, &jerr);
    if (duplicate)
        *duplicate = s == NATS_OK && ack && ack->Duplicate;
    jsPubAck_Destroy(ack);
    return map(s);
}

static natsStatus pull_subscribe(struct consumer *c, natsSubscription **sub)
{
    jsSubOptions so;
    jsErrCode jerr = 0;
    jsSubOptions_Init(&so);
    so.Stream = c->cfg.stream;
    so.Config.Durable = c->cfg.durable;
    so.Config.AckPolicy = js_AckExplicit;
    so.Config.AckWait = c->cfg.ack_wait_ms * 1000000LL;
    so.Config.MaxDeliver = c->cfg.max_deliver;
    so.Config.FilterSubject = c->cfg.subject;
    so.ManualAck = true;
    return js_PullSubscribe(sub, c->n->js, c->cfg.subject, c->cfg.durable, NULL, &so, &jerr);
}

static void settle(natsMsg *msg, enum cc_nats_verdict v, int64_t retry_ms);

static void handle_fetched(struct consumer *c, natsMsg *msg)
{
    struct cc_nats_msg m;
    jsMsgMetaData *meta = NULL;
    int64_t retry_ms = 1000;
    fill_msg(&m, msg);
    if (natsMsg_GetMetaData(&meta, msg) == NATS_OK)
        m.delivered = (int)meta->NumDelivered, m.seq = meta->Sequence.Stream;
    jsMsgMetaData_Destroy(meta);
    enum cc_nats_verdict v = c->fn(c->arg, &m, &retry_ms);
    settle(msg, v, retry_ms);
}

static void settle(natsMsg *msg, enum cc_nats_verdict v, int64_t retry_ms)
{
    switch (v) {
    case CC_NATS_ACK:
        natsMsg_Ack(msg, NULL);
        break;
    case CC_NATS_RETRY:
        natsMsg_NakWithDelay(msg, retry_ms, NULL);
        break;
    case CC_NATS_TERM:
        natsMsg_Term(msg, NULL);
        break;
    }
}

/* Hands the whole fetched list to a batch consumer, then settles each. */
static void handle_batch(struct consumer *c, natsMsgList *list)
{
    int n = list->Count;
    struct cc_nats_msg *ms = calloc((size_t)n, sizeof *ms);
    enum cc_nats_verdict *vs = calloc((size_t)n, sizeof *vs);
    int64_t *retry = calloc((size_t)n, sizeof *retry);
    if (!ms || !vs || !retry) {
        for (int i = 0; i < n; i++) /* no memory now: let them come again soon */
            natsMsg_NakWithDelay(list->Msgs[i], 1000, NULL);
        goto out;
    }
    for (int i = 0; i < n; i++) {
        jsMsgMetaData *meta = NULL;
        fill_msg(&ms[i], list->Msgs[i]);
        if (natsMsg_GetMetaData(&meta, list->Msgs[i]) == NATS_OK)
            ms[i].delivered = (int)meta->NumDelivered, ms[i].seq = meta->Sequence.Stream;
        jsMsgMetaData_Destroy(meta);
        vs[i] = CC_NATS_RETRY, retry[i] = 1000;
    }
    c->batch_fn(c->arg, ms, n, vs, retry);
    for (int i = 0; i < n; i++)
        settle(list->Msgs[i], vs[i], retry[i]);
out:
    free(ms), free(vs), free(retry);
}

static void *consume_loop(void *arg)
{
    struct consumer *c = arg;
    natsSubscription *sub = NULL;
    while (!atomic_load(&c->n->stopping)) {
        natsMsgList list = {0};
        jsErrCode jerr = 0;
        if (!sub && pull_subscribe(c, &sub) != NATS_OK) {
            sub = NULL;
            usleep(200000);
            continue;
        }
        natsStatus s = natsSubscription_Fetch(&list, sub, c->cfg.batch, 500, &jerr);
        if (s == NATS_OK && c->batch_fn && list.Count > 0)
            handle_batch(c, &list);
        for (int i = 0; s == NATS_OK && !c->batch_fn && i < list.Count; i++)
            handle_fetched(c, list.Msgs[i]);
        natsMsgList_Destroy(&list);
        if (s != NATS_OK && s != NATS_TIMEOUT) {
            if (!natsSubscription_IsValid(sub)) {
                natsSubscription_Destroy(sub);
                sub = NULL;
            }
            usleep(100000);
        }
    }
    /* The last reference goes only after the connection closed: nats.c's
     * reader thread may still be handing this subscription a message. */
    if (sub)
        natsSubscription_Unsubscribe(sub);
    c->left = sub;
    return NULL;
}

static enum cc_status start_consumer(struct cc_nats *n, const struct cc_nats_consumer *cfg,
                                     cc_nats_consume_fn fn, cc_nats_consume_batch_fn batch_fn,
                                     void *arg)
{
    pthread_mutex_lock(&n->lock);
    if (n->nconsumers == MAX_CONSUMERS) {
        pthread_mutex_unlock(&n->lock);
        return CC_ERR_NOMEM;
    }
    struct consumer *c = &n->consumers[n->nconsumers];
    c->n = n, c->cfg = *cfg, c->fn = fn, c->batch_fn = batch_fn, c->arg = arg;
    if (c->cfg.batch < 1)
        c->cfg.batch = 1;
    int rc = pthread_create(&c->thread, NULL, consume_loop, c);
    if (rc == 0)
        n->nconsumers++;
    pthread_mutex_unlock(&n->lock);
    return rc == 0 ? CC_OK : CC_ERR_NOMEM;
}

enum cc_status cc_nats_consume(struct cc_nats *n, const struct cc_nats_consumer *cfg,
                               cc_nats_consume_fn fn, void *arg)
{
    return start_consumer(n, cfg, fn, NULL, arg);
}

enum cc_status cc_nats_consume_batch(struct cc_nats *n, const struct cc_nats_consumer *cfg,
                                     cc_nats_consume_batch_fn fn, void *arg)
{
    return start_consumer(n, cfg, NULL, fn, arg);
}

enum cc_status cc_nats_consumer_pending(struct cc_nats *n, const char *stream, const char *durable,
                                        int64_t *pending)
{
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetConsumerInfo(&ci, n->js, stream, durable, NULL, &jerr);
    *pending = 0;
    if (s == NATS_OK)
        *pending = (int64_t)ci->NumPending + (int64_t)ci->NumAckPending;
    jsConsumerInfo_Destroy(ci);
    return s == NATS_OK ? CC_OK : jerr == JSConsumerNotFoundErr ? CC_ERR_NOT_FOUND : map(s);
}
