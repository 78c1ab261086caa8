/* auth.h - bearer-token authentication of api-gateway requests against the
 * sessions agent-registry keeps in Redis (KEY_SESS of the hex token hash, cc_keys.h),
 * renewing a session's sliding idle timeout on every use. */
#ifndef AUTH_H
#define AUTH_H

#define TOKEN_MAX 512 /* longer tokens are refused */

#include "cc/v1/common.pb-c.h"
#include "cc_http.h"
#include "cc_keys.h"
#include "gateway.h"

#include <stddef.h>

#define AUTH_HASH_HEX 65 /* 32-byte BLAKE2b hash in hex, with the NUL */
#define SESSION_KEY_MAX (CC_TAG_MAX + sizeof ":sess:" + AUTH_HASH_HEX) /* KEY_SESS of a hash */

/* Writes the hex crypto_generichash (32 bytes, no key) of the `len` bytes of
 * `token` into `hex`. Returns CC_OK or CC_ERR_INTERNAL. */
enum cc_status auth_token_hash(const char *token, size_t len, char hex[AUTH_HASH_HEX]);

/* Resolves the request's `Authorization: Bearer <token>` into `out`
 * (user_id, role, session_id = the token hash; strings in req->pool) and
 * renews the session. Returns CC_OK, CC_ERR_UNAUTHORIZED (no, malformed,
 * unknown or expired token), CC_ERR_UNAVAILABLE (Redis down),
 * CC_ERR_INTERNAL or CC_ERR_NOMEM. */
enum cc_status auth_caller(struct api_gateway *gw, struct cc_http_req *req, Cc__V1__Caller *out);

/* auth_caller, and on failure sets the error answer (401, 503...) in `resp`. */
enum cc_status auth_require(struct api_gateway *gw, struct cc_http_req *req,
                            struct cc_http_resp *resp, Cc__V1__Caller *out);

#endif
