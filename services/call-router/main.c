/* main.c - call-router: the PBX-facing call lifecycle.
 *
 * Wiring only: configuration, connections, routes and signal handling come
 * from common/cc_service; behaviour lives in the modules beside this file. */
#include "cc_service.h"

int main(int argc, char **argv)
{
    struct cc_service svc;
    if (cc_service_init(&svc, "call-router", "CC_CALL_PORT", 8082, NULL, argc, argv) != CC_OK)
        return 1;
    return cc_service_run(&svc, NULL, 0, 0);
}
