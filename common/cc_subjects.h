/* cc_subjects.h - every NATS subject of the engine, grouped by the service
 * that serves it, each with its message types, so that the flow of a message
 * can be followed with grep. Request subjects answer with the reply type or a
 * cc.v1.Error; "published" subjects have no reply; "stream" subjects are
 * JetStream's (at-least-once, acknowledged). `%s` is an id or a verb; a
 * _PREFIX is followed by one, an _ALL / _ANY is a subscription wildcard. */
#ifndef CC_SUBJECTS_H
#define CC_SUBJECTS_H

/* --- agent-registry: presence (docs/presence.md) --------------------------------------- */
#define SUBJ_PRESENCE_ALL "cc.presence.*" /* the registry's subscription */
#define SUBJ_PRESENCE_PREFIX "cc.presence."
#define SUBJ_PRESENCE_GET "cc.presence.get"     /* AgentQuery -> AgentStatus */
#define SUBJ_PRESENCE_LIST "cc.presence.list"   /* AgentQuery -> AgentList */
#define SUBJ_PRESENCE_SET "cc.presence.set"     /* StatusChange -> AgentStatus */
#define SUBJ_PRESENCE_ROUTE "cc.presence.route" /* RoutingEvent -> AgentStatus */
/* published, AgentStatus: every change of an agent's record, by whoever made
 * it (agent-registry, or skill-router for the changes its scripts make) */
#define SUBJ_PRESENCE_CHANGED "cc.presence.changed.%s"
#define SUBJ_PRESENCE_CHANGED_ALL "cc.presence.changed.*"
#define SUBJ_PRESENCE_CHANGED_ANY "cc.presence.changed.>"

/* --- agent-registry: configuration (docs/registry.md) ----------------------------------- */
#define SUBJ_REGISTRY_PREFIX "cc.registry." /* every agent-registry request but presence */
/* cc.registry.obj.<kind>.<verb>, ObjectRequest -> ObjectReply; kind: users, teams, skills,
 * queues, pause_causes, quick_replies, results, channels; verb: create, get, list, update,
 * delete, archive, unarchive */
#define SUBJ_REGISTRY_OBJ_PREFIX "cc.registry.obj."
#define SUBJ_REGISTRY_OBJ_ALL "cc.registry.obj.*.*"           /* the registry's subscription */
#define SUBJ_REGISTRY_OBJ_SCAN "cc.registry.obj.%63[^.].%31s" /* sscanf: kind, verb */
#define SUBJ_REGISTRY_OBJ_CREATE "cc.registry.obj.%s.create"  /* ObjectRequest -> ObjectReply */
#define SUBJ_REGISTRY_OBJ_GET "cc.registry.obj.%s.get"        /* ObjectRequest -> ObjectReply */
#define SUBJ_REGISTRY_OBJ_LIST "cc.registry.obj.%s.list"      /* ObjectRequest -> ObjectReply */
#define SUBJ_REGISTRY_USERS_GET "cc.registry.obj.users.get"   /* ObjectRequest -> ObjectReply */
/* ObjectRequest -> ObjectReply */
#define SUBJ_REGISTRY_USERS_CREATE "cc.registry.obj.users.create"
#define SUBJ_REGISTRY_USERS_UPDATE "cc.registry.obj.users.update"
#define SUBJ_REGISTRY_QUEUES_GET "cc.registry.obj.queues.get"   /* ObjectRequest -> ObjectReply */
#define SUBJ_REGISTRY_RESULTS_GET "cc.registry.obj.results.get" /* ObjectRequest -> ObjectReply */
/* an agent's skills: ObjectRequest {parent_id = user, id = skill, body = AgentSkill} ->
 * ObjectReply */
#define SUBJ_AGENT_SKILLS_PREFIX "cc.registry.agent_skills."
#define SUBJ_AGENT_SKILLS_ALL "cc.registry.agent_skills.*"
#define SUBJ_AGENT_SKILLS_LIST "cc.registry.agent_skills.list"
#define SUBJ_AGENT_SKILLS_PUT "cc.registry.agent_skills.put"
#define SUBJ_AGENT_SKILLS_DELETE "cc.registry.agent_skills.delete"
/* permissions: ObjectRequest {body = Permissions} -> ObjectReply {body = Permissions} */
#define SUBJ_SETTINGS_ALL "cc.registry.settings.*"
#define SUBJ_SETTINGS_GET "cc.registry.settings.get"
#define SUBJ_SETTINGS_PUT "cc.registry.settings.put"
/* sign-in */
#define SUBJ_AUTH_PREFIX "cc.registry.auth."
#define SUBJ_AUTH_ALL "cc.registry.auth.*"
#define SUBJ_AUTH_LOGIN "cc.registry.auth.login"       /* LoginRequest -> LoginReply */
#define SUBJ_AUTH_LOGOUT "cc.registry.auth.logout"     /* ObjectRequest {caller} -> empty */
#define SUBJ_AUTH_PASSWORD "cc.registry.auth.password" /* PasswordChange -> empty */
/* reports (docs/reports.md) */
#define SUBJ_REPORTS_QUEUES "cc.reports.queues" /* ReportRequest -> QueueReport */
#define SUBJ_REPORTS_AGENTS "cc.reports.agents" /* ReportRequest -> AgentReport */

/* --- agent-registry: configuration events ------------------------------------------------ */
/* published, ConfigChanged {kind, id, op, by, at}: after every change of a kind */
#define SUBJ_REGISTRY_CHANGED "cc.registry.changed.%s"
#define SUBJ_REGISTRY_CHANGED_ALL "cc.registry.changed.*"
#define SUBJ_REGISTRY_CHANGED_AGENT_SKILLS "cc.registry.changed.agent_skills"
#define SUBJ_REGISTRY_CHANGED_USERS "cc.registry.changed.users"
#define SUBJ_REGISTRY_CHANGED_QUEUES "cc.registry.changed.queues"
#define SUBJ_REGISTRY_CHANGED_TEAMS "cc.registry.changed.teams"
#define SUBJ_REGISTRY_CHANGED_CHANNELS "cc.registry.changed.channels"

/* --- skill-router (docs/routing.md) ------------------------------------------------------- */
#define SUBJ_ROUTER_ALL "cc.router.*" /* the router's subscription */
#define SUBJ_ROUTER_PREFIX "cc.router."
#define SUBJ_ROUTER_ENQUEUE "cc.router.enqueue" /* Interaction -> Interaction */
#define SUBJ_ROUTER_ACCEPT "cc.router.accept"   /* OfferAction -> Interaction */
#define SUBJ_ROUTER_DECLINE "cc.router.decline" /* OfferAction -> Interaction */
#define SUBJ_ROUTER_ABANDON "cc.router.abandon" /* OfferAction -> Interaction */
#define SUBJ_ROUTER_END "cc.router.end"         /* OfferAction -> Interaction */
#define SUBJ_ROUTER_VERB "cc.router.%s"         /* OfferAction -> Interaction: a verb above */
#define SUBJ_ROUTER_GET "cc.router.get"         /* OfferAction -> Interaction */
#define SUBJ_ROUTER_TRACE "cc.router.trace"     /* OfferAction -> Trace */
#define SUBJ_ROUTER_OFFERS "cc.router.offers"   /* OfferAction -> OfferList */
#define SUBJ_ROUTER_QUEUES "cc.router.queues"   /* OfferAction -> QueueStatsList */
#define SUBJ_ROUTER_OFFER "cc.router.offer.%s"  /* published, Offer: rings for the agent */
#define SUBJ_ROUTER_OFFER_ALL "cc.router.offer.*"
#define SUBJ_ROUTER_OFFER_ANY "cc.router.offer.>"
#define SUBJ_ROUTER_OFFER_WITHDRAWN "cc.router.offer_withdrawn.%s" /* published, Offer */
#define SUBJ_ROUTER_OFFER_WITHDRAWN_ALL "cc.router.offer_withdrawn.*"
#define SUBJ_ROUTER_EXPIRED "cc.router.expired.%s" /* published, Interaction: call or chat */
#define SUBJ_ROUTER_EXPIRED_CALL "cc.router.expired.call"
/* every replica answers (no queue group): its in-memory view of the agents,
 * for the test that the router and agent-registry agree */
#define SUBJ_ROUTER_VIEW "cc.router.view.agents"                  /* OfferAction -> AgentList */
#define SUBJ_ROUTER_QUEUES_CHANGED "cc.router.queues_changed.all" /* published, QueueStatsList */
#define SUBJ_ROUTER_QUEUES_CHANGED_ALL "cc.router.queues_changed.*"

/* --- chat-gateway (docs/chat-gateway.md) -------------------------------------------------- */
/* ChatRequest -> Chat; list: ChatList, messages: MessageList, quick_replies:
 * QuickReplyList, send and retry: ChatMessage */
#define SUBJ_CHAT_PREFIX "cc.chat."
#define SUBJ_CHAT_ALL "cc.chat.*" /* the gateway's subscription */
#define SUBJ_CHAT_VERB "cc.chat.%s"
#define SUBJ_CHAT_LIST "cc.chat.list"
#define SUBJ_CHAT_GET "cc.chat.get"
#define SUBJ_CHAT_UPDATE "cc.chat.update"
#define SUBJ_CHAT_ACCEPT "cc.chat.accept"
#define SUBJ_CHAT_DECLINE "cc.chat.decline"
#define SUBJ_CHAT_END "cc.chat.end"
#define SUBJ_CHAT_READ "cc.chat.read"
#define SUBJ_CHAT_MESSAGES "cc.chat.messages"
#define SUBJ_CHAT_SEND "cc.chat.send"
#define SUBJ_CHAT_QUICK_REPLIES "cc.chat.quick_replies"
#define SUBJ_CHAT_TYPING "cc.chat.typing"
#define SUBJ_CHAT_RETRY "cc.chat.retry"
#define SUBJ_CHAT_SETUP "cc.chat.setup"
/* published; a _PREFIX is followed by ".<id>" */
#define SUBJ_CHAT_CHANGED_PREFIX "cc.chat.changed" /* .<queue>: Chat (id, queue, state, agent) */
#define SUBJ_CHAT_CHANGED_ALL "cc.chat.changed.*"
#define SUBJ_CHAT_UPDATED_PREFIX "cc.chat.updated" /* .<agent>: Chat */
#define SUBJ_CHAT_UPDATED_ALL "cc.chat.updated.*"
#define SUBJ_CHAT_MESSAGE_PREFIX "cc.chat.message" /* .<agent>: ChatMessage */
#define SUBJ_CHAT_MESSAGE_ALL "cc.chat.message.*"
#define SUBJ_CHAT_TYPING_TO "cc.chat.typing.%s" /* .<agent>: Typing (the customer writes) */
#define SUBJ_CHAT_TYPING_ALL "cc.chat.typing.*"
/* .<session>: Chat, the customer's view */
#define SUBJ_WEBCHAT_CHAT_UPDATED_PREFIX "cc.webchat.chat_updated"
#define SUBJ_WEBCHAT_CHAT_UPDATED_ALL "cc.webchat.chat_updated.*"
#define SUBJ_WEBCHAT_MESSAGE_PREFIX "cc.webchat.message" /* .<session>: ChatMessage */
#define SUBJ_WEBCHAT_MESSAGE_ALL "cc.webchat.message.*"
#define SUBJ_WEBCHAT_TYPING_PREFIX "cc.webchat.typing" /* .<session>: Typing (the agent writes) */
#define SUBJ_WEBCHAT_TYPING_ALL "cc.webchat.typing.*"
/* streams CHAT_IN / CHAT_OUT */
#define SUBJ_CHAT_IN "cc.chat.in.%s" /* .<channel>: Inbound, a provider's webhook */
#define SUBJ_CHAT_IN_ANY "cc.chat.in.>"
#define SUBJ_CHAT_OUT "cc.chat.out.%s" /* .<channel>: Outbound, a message to deliver */
#define SUBJ_CHAT_OUT_ANY "cc.chat.out.>"

/* --- call-router (docs/calls.md) ---------------------------------------------------------- */
#define SUBJ_CALL_PREFIX "cc.call."
#define SUBJ_CALL_LIST "cc.call.list"                 /* CallRequest -> CallList */
#define SUBJ_CALL_GET "cc.call.get"                   /* CallRequest -> Call */
#define SUBJ_CALL_UPDATE "cc.call.update"             /* CallRequest -> Call */
#define SUBJ_CALL_SUPERVISE "cc.call.supervise"       /* CallRequest -> Supervision */
#define SUBJ_CALL_SUPERVISIONS "cc.call.supervisions" /* CallRequest -> SupervisionList */
#define SUBJ_CALL_CALLBACK "cc.call.callback"         /* CallRequest -> Callback */
/* published, CallChanged: wakes every replica's long-polls */
#define SUBJ_CALL_CHANGED "cc.call.changed"
#define SUBJ_CALL_UPDATED "cc.call.updated.%s" /* published, Call: .<agent> */
#define SUBJ_CALL_UPDATED_ALL "cc.call.updated.*"
/* published, empty CallChanged: a PBX command was queued */
#define SUBJ_PBX_COMMANDS "cc.pbx.commands"

/* --- crm-sync (docs/crm.md) ---------------------------------------------------------------- */
#define SUBJ_CRM_PREFIX "cc.crm."
#define SUBJ_CRM_IDENTIFY "cc.crm.identify"                 /* ContactQuery -> ContactList */
#define SUBJ_CRM_CONTACTS_SEARCH "cc.crm.contacts.search"   /* ContactQuery -> ContactList */
#define SUBJ_CRM_CONTACTS_LINK "cc.crm.contacts.link"       /* LinkRequest -> Contact */
#define SUBJ_CRM_CASE_CREATE "cc.crm.case.create"           /* CaseRequest -> CaseReply */
#define SUBJ_CRM_LINKS "cc.crm.links"                       /* RecordLinks -> RecordLinks */
#define SUBJ_CRM_SETTINGS_GET "cc.crm.settings.get"         /* SettingsRequest -> CrmSettings */
#define SUBJ_CRM_SETTINGS_PUT "cc.crm.settings.put"         /* SettingsRequest -> CrmSettings */
#define SUBJ_CRM_SETTINGS_CHANGED "cc.crm.settings.changed" /* published, empty: after a put */
#define SUBJ_CRM_STATUS_GET "cc.crm.status.get"             /* SettingsRequest -> CrmStatus */
#define SUBJ_CRM_STATUS_RETRY "cc.crm.status.retry"         /* SettingsRequest -> CrmStatus */

/* --- stream RECORDS (common/cc_records.h): Record, one per version ------------------------- */
#define SUBJ_RECORDS "cc.records.%s.%s"        /* .<kind>.<id> */
#define SUBJ_RECORDS_CALL "cc.records.call.%s" /* .<call id> */
#define SUBJ_RECORDS_CHAT "cc.records.chat.%s" /* .<chat id> */
#define SUBJ_RECORDS_ANY "cc.records.>"

#endif
