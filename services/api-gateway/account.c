/* account.c - sign-in and password change for api-gateway. Both bodies carry
 * passwords: they are forwarded to agent-registry and never logged. */
#include "account.h"
#include "auth.h"
#include "cc/v1/registry.pb-c.h"
#include "forward.h"

#include <stddef.h>
#include <stdio.h>

/* The string member `name` of the JSON body, or NULL when absent or not a string. */
static char *body_string(const struct cc_http_req *req, const char *name)
{
    const cJSON *v = req->json ? cJSON_GetObjectItemCaseSensitive(req->json, name) : NULL;
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* {token, user, idle_timeout_s} from a cc.v1.LoginReply; NULL on failure. */
static cJSON *login_json(const Cc__V1__LoginReply *rep)
{
    cJSON *j = cJSON_CreateObject();
    cJSON *user = rep->user ? forward_json(&rep->user->base) : cJSON_CreateNull();
    if (!j || !user || !rep->token || !cJSON_AddStringToObject(j, "token", rep->token) ||
        !cJSON_AddItemToObject(j, "user", user)) {
        cJSON_Delete(user);
        cJSON_Delete(j);
        return NULL;
    }
    if (!cJSON_AddNumberToObject(j, "idle_timeout_s", (double)rep->idle_timeout_s)) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

void account_login(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    const struct gw_route *rt = arg;
    Cc__V1__LoginRequest msg = CC__V1__LOGIN_REQUEST__INIT;
    ProtobufCMessage *rep = NULL;
    char peer[64];
    msg.login = body_string(req, "login");
    msg.password = body_string(req, "password");
    if (!msg.login || !msg.password) {
        cc_http_error(resp, CC_ERR_INVALID, "login and password are required strings");
        return;
    }
    cc_http_peer(req, peer, sizeof peer);
    msg.client = peer;
    if (forward_request(rt->gw, rt->spec->subject, &msg.base, &cc__v1__login_reply__descriptor,
                        &rep, resp) != CC_OK)
        return;
    const Cc__V1__LoginReply *lr = (const Cc__V1__LoginReply *)rep;
    if (lr->has_retry_after_s) { /* too many failures of this login from this address */
        char secs[24], msg[96];
        snprintf(secs, sizeof secs, "%lld", (long long)lr->retry_after_s);
        snprintf(msg, sizeof msg, "too many failed sign-ins from this address; try again in %s s",
                 secs);
        protobuf_c_message_free_unpacked(rep, NULL);
        cc_http_add_header(req, resp, "Retry-After", secs);
        cc_http_error(resp, CC_ERR_RATE_LIMITED, msg);
        return;
    }
    cJSON *j = login_json(lr);
    protobuf_c_message_free_unpacked(rep, NULL);
    if (!j) {
        cc_http_error(resp, CC_ERR_INTERNAL, "agent-registry gave an unreadable answer");
        return;
    }
    cc_http_json(resp, 200, j);
}

void account_password(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    const struct gw_route *rt = arg;
    Cc__V1__Caller caller;
    Cc__V1__PasswordChange msg = CC__V1__PASSWORD_CHANGE__INIT;
    ProtobufCMessage *rep = NULL;
    if (auth_require(rt->gw, req, resp, &caller) != CC_OK)
        return;
    msg.caller = &caller;
    msg.old_password = body_string(req, "old_password");
    msg.new_password = body_string(req, "new_password");
    if (!msg.old_password || !msg.new_password) {
        cc_http_error(resp, CC_ERR_INVALID, "old_password and new_password are required strings");
        return;
    }
    if (forward_request(rt->gw, rt->spec->subject, &msg.base, NULL, &rep, resp) == CC_OK)
        forward_ok(resp);
}
