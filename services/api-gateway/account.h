/* account.h - the routes of a staff member's own account that do not fit
 * the generic object forwarding: sign-in and password change. */
#ifndef ACCOUNT_H
#define ACCOUNT_H

#include "cc_http.h"

/* POST /api/v1/auth/login {login, password} (arg: struct gw_route whose
 * spec names the subject): asks agent-registry for a session and answers
 * {token, user, idle_timeout_s}. Needs no bearer token. */
void account_login(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);

/* PUT /api/v1/me/password {old_password, new_password} (arg: struct
 * gw_route): forwards a cc.v1.PasswordChange and answers {"status":"ok"}. */
void account_password(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);

#endif
