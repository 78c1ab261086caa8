/* forward.h - generic forwarding of HTTP/JSON requests to agent-registry
 * over NATS: a route's static spec names the subject, the object's protobuf
 * message and the verb shape (what the request carries, how the reply is
 * answered), so adding an object kind is a line in routes.c. */
#ifndef FORWARD_H
#define FORWARD_H

#include "cc_http.h"
#include "gateway.h"

#include <protobuf-c/protobuf-c.h>

/* How a route maps to cc.v1.ObjectRequest / ObjectReply (see shapes in forward.c). */
enum fwd_verb {
    FWD_SPECIAL,      /* the route's own handler builds the message (login, password) */
    FWD_LIST,         /* ?limit&cursor&archived -> {"items", "next_cursor"} */
    FWD_CREATE,       /* JSON body -> 201 object */
    FWD_GET,          /* {id} -> object */
    FWD_UPDATE,       /* {id} + JSON body (fields = its keys) -> object */
    FWD_DELETE,       /* {id} -> 204 */
    FWD_ACTION,       /* {id} -> object (archive, unarchive) */
    FWD_CHILD_LIST,   /* {parent} -> {"items", "next_cursor"} */
    FWD_CHILD_PUT,    /* {parent}/{id} + JSON body -> object */
    FWD_CHILD_DELETE, /* {parent}/{id} -> 204 */
    FWD_READ,         /* nothing -> object (settings) */
    FWD_WRITE,        /* JSON body -> object (settings) */
    FWD_SELF,         /* id = the caller's user id -> object (/me) */
    FWD_COMMAND,      /* nothing -> {"status":"ok"} (logout) */
    FWD_VERB_COUNT
};

/* A route's forwarding, defined statically in routes.c. */
struct fwd_spec {
    const char *subject;                    /* agent-registry's NATS subject; NULL when none */
    const ProtobufCMessageDescriptor *type; /* the object's message; NULL when none */
    enum fwd_verb verb;
};

/* Handler (arg: struct gw_route): authenticates the caller, builds the
 * ObjectRequest the spec describes, asks agent-registry and answers. */
void forward_object(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);

/* Sends `msg` on `subject` and waits for the reply, unpacked with
 * `reply_desc` into *reply (NULL desc: the reply is dropped); the caller
 * frees *reply with protobuf_c_message_free_unpacked. On failure the error
 * answer is already set in `resp` and the status is returned. */
enum cc_status forward_request(struct api_gateway *gw, const char *subject,
                               const ProtobufCMessage *msg,
                               const ProtobufCMessageDescriptor *reply_desc,
                               ProtobufCMessage **reply, struct cc_http_resp *resp);

/* Packs `msg` into the pool as `out`. Returns CC_OK or CC_ERR_NOMEM. */
enum cc_status forward_pack(struct cc_pool *pool, const ProtobufCMessage *msg,
                            ProtobufCBinaryData *out);

/* Maps an answered object to JSON (absent strings and messages as null,
 * input-only members such as password left out). The caller deletes the
 * result; NULL when out of memory. */
cJSON *forward_json(const ProtobufCMessage *msg);

/* Checks that `body` is a JSON object whose members are all named in
 * `allowed` (NULL-terminated). Returns CC_OK, or CC_ERR_INVALID with the
 * 400 answer already set in `resp`. */
enum cc_status forward_fields_only(const cJSON *body, const char *const *allowed,
                                   struct cc_http_resp *resp);

/* Answers 200 {"status":"ok"}. */
void forward_ok(struct cc_http_resp *resp);

/* Builds {"items": [...], "next_cursor": null or "..."} from `n` items made
 * by item(ctx, i) (each a new cJSON or NULL on failure). Caller deletes the
 * result; NULL when out of memory. */
cJSON *forward_list(size_t n, cJSON *(*item)(const void *ctx, size_t i), const void *ctx,
                    const char *next);

#endif
