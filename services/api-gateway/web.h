/* web.h - the web desktop (agents, supervisors, administrators): static
 * files from services/api-gateway/web/, embedded in the binary at build time
 * and served at the site root, outside /api/v1. */
#ifndef WEB_H
#define WEB_H

#include "cc_http.h"

/* Handler (arg unused) of GET / and GET /<file>: the embedded file whose
 * path is the request's, with its Content-Type, `Cache-Control: no-cache`
 * and a strict Content-Security-Policy (docs/desktop.md); 404 for a path
 * that names no file. */
void web_serve(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);

#endif
