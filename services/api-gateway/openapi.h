/* openapi.h - the OpenAPI document of the staff API, read once at start and
 * served at GET /api/v1/openapi.yaml. */
#ifndef OPENAPI_H
#define OPENAPI_H

#include "cc_http.h"
#include "gateway.h"

/* Reads the document from $CC_OPENAPI_PATH (default docs/openapi.yaml,
 * relative to the working directory), else from OPENAPI_FALLBACK_PATH, into
 * gw->openapi. A missing document is not an error (the route answers 404).
 * Returns CC_OK or CC_ERR_NOMEM. */
enum cc_status openapi_load(struct api_gateway *gw);

/* Handler (arg: struct gw_route): the document as application/yaml, or 404. */
void openapi_serve(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);

#endif
