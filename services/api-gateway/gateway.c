/* gateway.c - the life of struct api_gateway: its configuration, the
 * OpenAPI document and the routing table. */
#include "gateway.h"
#include "openapi.h"
#include "routes.h"

#include <stdlib.h>
#include <string.h>

const struct cc_env_var api_gateway_env[] = {
    {"CC_OPENAPI_PATH", "docs/openapi.yaml",
     "OpenAPI document served at /api/v1/openapi.yaml (else /usr/share/cc/openapi.yaml)"},
    {NULL, NULL, NULL},
};

enum cc_status api_gateway_init(struct api_gateway *gw, struct cc_service *svc)
{
    memset(gw, 0, sizeof *gw);
    gw->svc = svc;
    enum cc_status st = openapi_load(gw);
    if (st == CC_OK)
        st = routes_build(gw);
    if (st != CC_OK)
        api_gateway_release(gw);
    return st;
}

void api_gateway_release(struct api_gateway *gw)
{
    routes_release(gw);
    free(gw->openapi);
    gw->openapi = NULL;
    gw->openapi_len = 0;
}
