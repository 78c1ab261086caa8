/* crm.h - the CRM over HTTP (SPEC sections 7a and 9), answered by crm-sync
 * behind cc.crm.*: settings and the sync status (admin), contact search
 * and record links (staff), and the desk's actions on a chat or call. */
#ifndef GW_CRM_H
#define GW_CRM_H

#include "cc_http.h"

/* GET /crm/settings: 200 settings (secrets never answered: has_password,
 * has_client_secret, has_webhook_secret, has_provisioning_token). */
void crm_settings_get(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);

/* PUT /crm/settings {type, url, ..., names}: the members given are set
 * (a secret only when given); 200 settings as GET answers them. */
void crm_settings_put(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);

/* GET /crm/status and POST /crm/status/retry (the route's subject): 200
 * the sync status. */
void crm_status(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);

/* GET /crm/contacts?q=: 200 {"items": [contact], "next_cursor": null}. */
void crm_contacts(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);

/* GET /crm/links?contact_id&account_id&case_id&activity_id: 200 the ids
 * with their links in the CRM's UI. */
void crm_links(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);

/* POST /chats/{id}/case, /calls/{id}/case: {subject, category_id?} creates
 * a case (201), {case_id} adds a consultation to it (200); the answer is
 * {case_id, number, url, activity_id} and the chat or call is linked. */
void crm_case(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);

/* POST /chats/{id}/contact, /calls/{id}/contact: {contact_id} links (200),
 * {create: true, name?, phone?, email?} creates the contact from the
 * interaction's customer and links it (201); the answer is the contact. */
void crm_contact(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);

#endif
