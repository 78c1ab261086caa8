/* main.c - api-gateway: the staff HTTP/JSON API, authenticated by bearer
 * token and forwarded to the owning services over NATS, and the staff event
 * streams (SSE) fed from NATS, and the web desktop's files.
 *
 * Wiring only: configuration, connections, routes and signal handling come
 * from common/cc_service; behaviour lives in the modules beside this file
 * (auth.c, forward.c, account.c, status.c, routing.c, chats.c, sse.c,
 * openapi.c, web.c, the table in routes.c). Order matters at the end:
 * cc_service_run stops HTTP (open streams end at once) and drains NATS before
 * the hub is freed. */
#include "cc_service.h"
#include "gateway.h"

int main(int argc, char **argv)
{
    struct cc_service svc;
    struct api_gateway gw;
    if (cc_service_init(&svc, "api-gateway", "CC_API_PORT", 8080, api_gateway_env, argc, argv) !=
        CC_OK)
        return 1;
    if (api_gateway_init(&gw, &svc) != CC_OK) {
        cc_service_release(&svc);
        return 1;
    }
    int rc = cc_service_run(&svc, gw.routes, gw.nroutes, gw.file_max_bytes);
    api_gateway_release(&gw);
    return rc;
}
