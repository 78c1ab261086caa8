/* main.c - agent-registry: users, roles, permissions, sessions, configuration objects and the agent state machine.
 *
 * Wiring only: configuration, connections, routes and signal handling come
 * from common/cc_service; behaviour lives in the modules beside this file. */
#include "cc_service.h"

int main(int argc, char **argv)
{
    struct cc_service svc;
    if (cc_service_init(&svc, "agent-registry", "CC_REGISTRY_PORT", 8083, NULL, argc, argv) != CC_OK)
        return 1;
    return cc_service_run(&svc, NULL, 0, 0);
}
