/* main.c - chat-gateway: provider webhooks, the web-chat widget, chats, messages and files.
 *
 * Wiring only: configuration, connections, routes and signal handling come
 * from common/cc_service; behaviour lives in the modules beside this file. */
#include "cc_service.h"

int main(int argc, char **argv)
{
    struct cc_service svc;
    if (cc_service_init(&svc, "chat-gateway", "CC_CHAT_PORT", 8081, NULL, argc, argv) != CC_OK)
        return 1;
    return cc_service_run(&svc, NULL, 0, 0);
}
