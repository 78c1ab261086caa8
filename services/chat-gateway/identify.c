/* identify.c - who the customer of a new chat is, in the CRM: crm-sync
 * answers cc.crm.identify (proto/cc/v1/crm.proto) by the channel's customer
 * id, then by phone. One match puts the contact on the chat (name, links)
 * before the chat is offered, so the agent's invitation shows it; none or
 * many leave the chat as it is (the agent identifies). No crm-sync, a slow
 * one or an error only cost at most identify_timeout_ms. */
#include "chatgw.h"
#include "cc/v1/crm.pb-c.h"
#include "cc_log.h"
#include "cc_subjects.h"

#include <string.h>

void identify_chat(struct chatgw *g, const char *chat_id, const Cc__V1__Channel *ch,
                   const char *customer_id, const char *phone)
{
    Cc__V1__ContactQuery q = CC__V1__CONTACT_QUERY__INIT;
    Cc__V1__Caller caller = CC__V1__CALLER__INIT;
    ProtobufCMessage *reply = NULL;
    if (g->identify_timeout_ms <= 0 || !customer_id || !*customer_id)
        return;
    caller.user_id = CC_PB_STR("chat-gateway"), caller.role = CC_PB_STR("admin");
    caller.has_service = 1, caller.service = 1;
    q.caller = &caller, q.channel = ch->type, q.customer_id = CC_PB_STR(customer_id);
    q.phone = phone && *phone ? CC_PB_STR(phone) : NULL;
    enum cc_status st =
        cc_nats_request(g->nats, SUBJ_CRM_IDENTIFY, &q.base, &cc__v1__contact_list__descriptor,
                        g->identify_timeout_ms, &reply, NULL, 0);
    if (st != CC_OK) {
        if (st != CC_ERR_UNAVAILABLE) /* no crm-sync at all is normal */
            CC_WARN("identify: chat %s: crm-sync did not answer: %s", chat_id, cc_status_str(st));
        return;
    }
    const Cc__V1__ContactList *l = (const Cc__V1__ContactList *)reply;
    const Cc__V1__Contact *c = l->n_items == 1 ? l->items[0] : NULL;
    if (c && c->id && *c->id) {
        const char *set[] = {"contact_id", c->id, "account_id", c->account_id,
                             "name", c->name ? c->name : ""};
        size_t n = c->name && *c->name ? 3 : 2; /* keep the channel's name when the CRM has none */
        if (records_chat_set(g, chat_id, set, n) != CC_OK)
            CC_WARN("identify: chat %s: contact %s not stored", chat_id, c->id);
    }
    protobuf_c_message_free_unpacked(reply, NULL);
}
