/* chats.h - chats, their messages and file uploads over HTTP (chat-gateway
 * behind cc.chat.*). */
#ifndef GW_CHATS_H
#define GW_CHATS_H

#include "cc_http.h"

void chats_list(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);
void chats_about(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);
void chats_patch(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);
void chats_send(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);
void files_upload(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);

#endif
