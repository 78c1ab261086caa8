/* names.c - the table of CRM object and field names with their defaults
 * (creatio.md section 3 and 8; docs/crm.md lists them). */
#include "names.h"
#include "odata.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *key, *def;
    int guid; /* a lookup id rather than a name */
} table[N_COUNT] = {
    [N_CHAT_OBJECT] = {"chat.object", "UsrChat", 0},
    [N_CHAT_EXTERNAL_ID] = {"chat.external_id", "UsrExternalId", 0},
    [N_CHAT_NAME] = {"chat.name", "UsrName", 0},
    [N_CHAT_FROM] = {"chat.from", "UsrFrom", 0},
    [N_CHAT_TO] = {"chat.to", "UsrTo", 0},
    [N_CHAT_SOURCE] = {"chat.source", "UsrSource", 0},
    [N_CHAT_QUEUE] = {"chat.queue", "UsrQueue", 0},
    [N_CHAT_START] = {"chat.start", "UsrStartDate", 0},
    [N_CHAT_END] = {"chat.end", "UsrEndDate", 0},
    [N_CHAT_STATE] = {"chat.state", "UsrState", 0},
    [N_CHAT_RESULT] = {"chat.result", "UsrResult", 0},
    [N_CHAT_RESULT_DETAILS] = {"chat.result_details", "UsrResultDetails", 0},
    [N_CHAT_ACCOUNT] = {"chat.account", "UsrAccountId", 0},
    [N_CHAT_CONTACT] = {"chat.contact", "UsrContactId", 0},
    [N_CHAT_ACTIVITY] = {"chat.activity", "UsrActivityId", 0},
    [N_CHAT_CASE] = {"chat.case", "UsrCaseId", 0},
    [N_CALL_OBJECT] = {"call.object", "Call", 0},
    [N_CALL_EXTERNAL_ID] = {"call.external_id", "IntegrationId", 0},
    [N_CALL_CALLER] = {"call.caller", "CallerId", 0},
    [N_CALL_CALLED] = {"call.called", "CalledId", 0},
    [N_CALL_START] = {"call.start", "StartDate", 0},
    [N_CALL_END] = {"call.end", "EndDate", 0},
    [N_CALL_DURATION] = {"call.duration", "Duration", 0},
    [N_CALL_TALK] = {"call.talk_time", "TalkTime", 0},
    [N_CALL_DIRECTION] = {"call.direction", "DirectionId", 0},
    [N_CALL_CONTACT] = {"call.contact", "ContactId", 0},
    [N_CALL_ACCOUNT] = {"call.account", "AccountId", 0},
    [N_CALL_COMMENT] = {"call.comment", "Comment", 0},
    [N_CALL_DIRECTION_IN] = {"call.direction_in", "1d96a65f-2131-4916-8825-2d142b1000b2", 1},
    [N_CALL_DIRECTION_OUT] = {"call.direction_out", "53f71b5f-7e17-4cf5-bf14-6a59212db422", 1},
    [N_IDENT_OBJECT] = {"identity.object", "ContactCommunication", 0},
    [N_IDENT_FIELD] = {"identity.field", "Number", 0},
    [N_IDENT_CONTACT] = {"identity.contact", "ContactId", 0},
    [N_IDENT_TYPE] = {"identity.type", "CommunicationTypeId", 0},
    [N_IDENT_TYPE_VALUE] = {"identity.type_value", "21c0d693-9a52-43fa-b7f1-c6d8b53975d4", 1},
    [N_PHONE_OBJECT] = {"phone.object", "ContactCommunication", 0},
    [N_PHONE_FIELD] = {"phone.search_field", "SearchNumber", 0},
    [N_PHONE_CONTACT] = {"phone.contact", "ContactId", 0},
    [N_CONTACT_OBJECT] = {"contact.object", "Contact", 0},
    [N_CONTACT_NAME] = {"contact.name", "Name", 0},
    [N_CONTACT_ACCOUNT] = {"contact.account", "AccountId", 0},
    [N_CONTACT_PHONE] = {"contact.phone", "Phone", 0},
    [N_CONTACT_MOBILE] = {"contact.mobile", "MobilePhone", 0},
    [N_CONTACT_EMAIL] = {"contact.email", "Email", 0},
    [N_ACCOUNT_OBJECT] = {"account.object", "Account", 0},
    [N_ACCOUNT_NAME] = {"account.name", "Name", 0},
    [N_USER_OBJECT] = {"user.object", "UsrWebitelUser", 0},
    [N_USER_NAME] = {"user.name", "UsrName", 0},
    [N_USER_IS_AGENT] = {"user.is_agent", "UsrIsAgent", 0},
    [N_USER_TEAM] = {"user.team", "UsrTeamId", 0},
    [N_USER_EXTERNAL] = {"user.external_id", "UsrExternalUserId", 0},
    [N_USER_ADMIN_UNIT] = {"user.admin_unit", "UsrSysAdminUnitId", 0},
    [N_USER_MODIFIED] = {"user.modified", "ModifiedOn", 0},
    [N_ADMIN_UNIT_OBJECT] = {"admin_unit.object", "SysAdminUnit", 0},
    [N_ADMIN_UNIT_NAME] = {"admin_unit.name", "Name", 0},
    [N_TEAM_OBJECT] = {"team.object", "UsrWebitelTeam", 0},
    [N_TEAM_EXTERNAL] = {"team.external_id", "UsrExternalId", 0},
    [N_SKILL_OBJECT] = {"skill.object", "UsrWebitelSkill", 0},
    [N_SKILL_EXTERNAL] = {"skill.external_id", "UsrExternalId", 0},
    [N_ASKILL_OBJECT] = {"agent_skill.object", "UsrWebitelAgentSkill", 0},
    [N_ASKILL_USER] = {"agent_skill.user", "UsrWebitelUserId", 0},
    [N_ASKILL_SKILL] = {"agent_skill.skill", "UsrSkillId", 0},
    [N_ASKILL_CAPACITY] = {"agent_skill.capacity", "UsrCapacity", 0},
    [N_ASKILL_ACTIVE] = {"agent_skill.active", "UsrActive", 0},
    [N_ASKILL_MODIFIED] = {"agent_skill.modified", "ModifiedOn", 0},
    [N_CASE_OBJECT] = {"case.object", "Case", 0},
    [N_CASE_SUBJECT] = {"case.subject", "Subject", 0},
    [N_CASE_SYMPTOMS] = {"case.symptoms", "Symptoms", 0},
    [N_CASE_CONTACT] = {"case.contact", "ContactId", 0},
    [N_CASE_ACCOUNT] = {"case.account", "AccountId", 0},
    [N_CASE_STATUS] = {"case.status", "StatusId", 0},
    [N_CASE_CATEGORY] = {"case.category", "CategoryId", 0},
    [N_CASE_NUMBER] = {"case.number", "Number", 0},
    [N_CASE_STATUS_NEW] = {"case.status_new", "ae5f2f10-f46b-1410-fd9a-0050ba5d6c38", 1},
    [N_CASE_CATEGORY_DEFAULT] = {"case.category_default", "1c0bc159-150a-e111-a31b-00155d04c01d",
                                 1},
    [N_ACTIVITY_OBJECT] = {"activity.object", "Activity", 0},
    [N_ACTIVITY_TITLE] = {"activity.title", "Title", 0},
    [N_ACTIVITY_TYPE] = {"activity.type", "TypeId", 0},
    [N_ACTIVITY_STATUS] = {"activity.status", "StatusId", 0},
    [N_ACTIVITY_CASE] = {"activity.case", "CaseId", 0},
    [N_ACTIVITY_CONTACT] = {"activity.contact", "ContactId", 0},
    [N_ACTIVITY_START] = {"activity.start", "StartDate", 0},
    [N_ACTIVITY_DUE] = {"activity.due", "DueDate", 0},
    [N_ACTIVITY_TYPE_TASK] = {"activity.type_task", "fbe0acdc-cfc0-df11-b00f-001d60e938c6", 1},
    [N_ACTIVITY_STATUS_DONE] = {"activity.status_done", "4bdbb88f-58e6-df11-971b-001d60e938c6", 1},
};

const char *names_key(enum crm_name n)
{
    return table[n].key;
}

const char *names_default(enum crm_name n)
{
    return table[n].def;
}

void names_init(struct crm_names *t)
{
    for (int i = 0; i < N_COUNT; i++)
        t->v[i] = table[i].def;
    t->buf[0] = 0;
}

enum cc_status names_check(const char *key, const char *value, enum crm_name *which)
{
    for (int i = 0; i < N_COUNT; i++) {
        if (strcmp(table[i].key, key))
            continue;
        *which = (enum crm_name)i;
        return (table[i].guid ? odata_guid_valid(value) : odata_name_valid(value)) ? CC_OK
                                                                                   : CC_ERR_INVALID;
    }
    return CC_ERR_INVALID;
}

enum cc_status names_load(struct crm_names *t, const char *spec, char *why, size_t cap)
{
    size_t len = spec ? strlen(spec) : 0;
    names_init(t);
    if (len >= sizeof t->buf) {
        snprintf(why, cap, "names: too long");
        return CC_ERR_INVALID;
    }
    memcpy(t->buf, spec ? spec : "", len + 1);
    char *save = NULL;
    for (char *item = strtok_r(t->buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        enum crm_name n;
        item += strspn(item, " ");
        if (!eq || (*eq = 0, names_check(item, eq + 1, &n) != CC_OK)) {
            snprintf(why, cap, "names: bad entry '%.64s'", item);
            names_init(t);
            return CC_ERR_INVALID;
        }
        t->v[n] = eq + 1;
    }
    return CC_OK;
}
