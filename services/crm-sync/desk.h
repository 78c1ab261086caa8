/* desk.h - the desk's CRM actions (docs/crm.md "Desk actions"), in two
 * halves: desk.c serves the subjects, checks the caller and reads and
 * links the interaction through its owner (chat-gateway, call-router);
 * deskcrm.c performs the CRM side, as OData writes to Creatio with the
 * configured names or as signed webhook events whose answers give the ids. */
#ifndef DESK_H
#define DESK_H

#include "crm.h"

/* The interaction acted on, as its owner answered it to the caller. */
struct desk_ix {
    const char *kind;   /* "chat" or "call" (static) */
    Cc__V1__Chat *chat; /* one of the two, owned */
    Cc__V1__Call *call;
    const char *id;   /* the rest is borrowed from chat/call; may be NULL */
    const char *name; /* the customer's name */
    const char *from; /* the customer's id in the channel, or the caller's number */
    const char *agent_id, *contact_id, *account_id;
};

/* One action: who asks, on what, with which configuration. */
struct desk_act {
    struct crm *c;
    struct crm_conf *conf; /* held for the action */
    const Cc__V1__Caller *who;
    struct desk_ix ix;
    char why[256]; /* why it failed, for the caller */
};

/* Contact `id` of the CRM into *out (free with cc__v1__contact__free_unpacked).
 * CC_ERR_INVALID when the CRM has no such contact; CC_ERR_UNAVAILABLE when
 * the CRM cannot be asked or refused; a->why says why. */
enum cc_status deskcrm_contact_get(struct desk_act *a, const char *id, Cc__V1__Contact **out)
    __attribute__((warn_unused_result));

/* Creates contact `want` (name, phone, email) in the CRM, and for a chat
 * the record that identifies the customer's channel id next time; the
 * contact into *out. Errors as deskcrm_contact_get. */
enum cc_status deskcrm_contact_create(struct desk_act *a, const Cc__V1__Contact *want,
                                      Cc__V1__Contact **out) __attribute__((warn_unused_result));

/* Creates a case (status New) with `subject`, `symptoms`, the
 * interaction's contact and account and `category` (NULL: the configured
 * default); its id, number and link into *out (free with
 * cc__v1__case_reply__free_unpacked). */
enum cc_status deskcrm_case_create(struct desk_act *a, const char *subject, const char *category,
                                   const char *symptoms, Cc__V1__CaseReply **out)
    __attribute__((warn_unused_result));

/* Adds a consultation activity on existing case `case_id` (CC_ERR_INVALID
 * when there is no such case); the case and the activity into *out. */
enum cc_status deskcrm_case_consult(struct desk_act *a, const char *case_id, const char *summary,
                                    Cc__V1__CaseReply **out) __attribute__((warn_unused_result));

#endif
