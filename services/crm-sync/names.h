/* names.h - the CRM's object and field names (and the few lookup ids the
 * writes need), which differ between Creatio installations: one table of
 * keys with the defaults of docs/crm.md, overridden by configuration
 * ("chat.object=UsrChat,..."). Pure; tested in tests/unit/test_crm_odata.c. */
#ifndef NAMES_H
#define NAMES_H

#include "cc_status.h"

#include <stddef.h>

enum crm_name {
    N_CHAT_OBJECT,
    N_CHAT_EXTERNAL_ID,
    N_CHAT_NAME,
    N_CHAT_FROM,
    N_CHAT_TO,
    N_CHAT_SOURCE,
    N_CHAT_QUEUE,
    N_CHAT_START,
    N_CHAT_END,
    N_CHAT_STATE,
    N_CHAT_RESULT,
    N_CHAT_RESULT_DETAILS,
    N_CHAT_ACCOUNT,
    N_CHAT_CONTACT,
    N_CHAT_ACTIVITY,
    N_CHAT_CASE,
    N_CALL_OBJECT,
    N_CALL_EXTERNAL_ID,
    N_CALL_CALLER,
    N_CALL_CALLED,
    N_CALL_START,
    N_CALL_END,
    N_CALL_DURATION,
    N_CALL_TALK,
    N_CALL_DIRECTION,
    N_CALL_CONTACT,
    N_CALL_ACCOUNT,
    N_CALL_COMMENT,
    N_CALL_DIRECTION_IN,
    N_CALL_DIRECTION_OUT,
    N_IDENT_OBJECT,
    N_IDENT_FIELD,
    N_IDENT_CONTACT,
    N_IDENT_TYPE,
    N_IDENT_TYPE_VALUE,
    N_PHONE_OBJECT,
    N_PHONE_FIELD,
    N_PHONE_CONTACT,
    N_CONTACT_OBJECT,
    N_CONTACT_NAME,
    N_CONTACT_ACCOUNT,
    N_CONTACT_PHONE,
    N_CONTACT_MOBILE,
    N_CONTACT_EMAIL,
    N_ACCOUNT_OBJECT,
    N_ACCOUNT_NAME,
    N_USER_OBJECT,
    N_USER_NAME,
    N_USER_IS_AGENT,
    N_USER_TEAM,
    N_USER_EXTERNAL,
    N_USER_ADMIN_UNIT,
    N_USER_MODIFIED,
    N_ADMIN_UNIT_OBJECT,
    N_ADMIN_UNIT_NAME,
    N_TEAM_OBJECT,
    N_TEAM_EXTERNAL,
    N_SKILL_OBJECT,
    N_SKILL_EXTERNAL,
    N_ASKILL_OBJECT,
    N_ASKILL_USER,
    N_ASKILL_SKILL,
    N_ASKILL_CAPACITY,
    N_ASKILL_ACTIVE,
    N_ASKILL_MODIFIED,
    N_CASE_OBJECT,
    N_CASE_SUBJECT,
    N_CASE_SYMPTOMS,
    N_CASE_CONTACT,
    N_CASE_ACCOUNT,
    N_CASE_STATUS,
    N_CASE_CATEGORY,
    N_CASE_NUMBER,
    N_CASE_STATUS_NEW,
    N_CASE_CATEGORY_DEFAULT,
    N_ACTIVITY_OBJECT,
    N_ACTIVITY_TITLE,
    N_ACTIVITY_TYPE,
    N_ACTIVITY_STATUS,
    N_ACTIVITY_CASE,
    N_ACTIVITY_CONTACT,
    N_ACTIVITY_START,
    N_ACTIVITY_DUE,
    N_ACTIVITY_TYPE_TASK,
    N_ACTIVITY_STATUS_DONE,
    N_COUNT
};

/* One configuration of the names. */
struct crm_names {
    const char *v[N_COUNT]; /* each points into the defaults or into `buf` */
    char buf[4096];         /* the overrides' text */
};

/* The key of `n` ("chat.object"). */
const char *names_key(enum crm_name n);

/* The default of `n` ("UsrChat"). */
const char *names_default(enum crm_name n);

/* Sets every name to its default. */
void names_init(struct crm_names *t);

/* Sets the defaults, then the overrides of "key=value,key=value" (may be
 * NULL or empty; a later key wins). A value must be a name
 * ([A-Za-z0-9_]{1,64}) or, for the lookup ids, a GUID. Returns CC_OK, or
 * CC_ERR_INVALID with the offending entry in why (then `t` holds the
 * defaults). */
enum cc_status names_load(struct crm_names *t, const char *spec, char *why, size_t cap)
    __attribute__((warn_unused_result));

/* Checks one override. CC_ERR_INVALID for an unknown key or a bad value. */
enum cc_status names_check(const char *key, const char *value, enum crm_name *which)
    __attribute__((warn_unused_result));

#endif
