/* cc_subjects.h - the NATS subjects of agent status and routing, each with
 * its message types, so that the flow of a message can be followed with
 * grep. Request subjects answer with the reply type or a cc.v1.Error;
 * "published" subjects have no reply. `%s` is an id or a verb. */
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

/* --- agent-registry: configuration events ------------------------------------------------ */
#define SUBJ_REGISTRY_CHANGED "cc.registry.changed.%s" /* published, empty: a kind changed */
#define SUBJ_REGISTRY_CHANGED_AGENT_SKILLS "cc.registry.changed.agent_skills"
#define SUBJ_REGISTRY_CHANGED_USERS "cc.registry.changed.users"
#define SUBJ_REGISTRY_CHANGED_QUEUES "cc.registry.changed.queues"
#define SUBJ_REGISTRY_CHANGED_TEAMS "cc.registry.changed.teams"

/* --- skill-router (docs/routing.md) ------------------------------------------------------- */
#define SUBJ_ROUTER_ALL "cc.router.*" /* the router's subscription */
#define SUBJ_ROUTER_PREFIX "cc.router."
#define SUBJ_ROUTER_ENQUEUE "cc.router.enqueue" /* Interaction -> Interaction */
#define SUBJ_ROUTER_ACCEPT "cc.router.accept"   /* OfferAction -> Interaction */
#define SUBJ_ROUTER_DECLINE "cc.router.decline" /* OfferAction -> Interaction */
#define SUBJ_ROUTER_ABANDON "cc.router.abandon" /* OfferAction -> Interaction */
#define SUBJ_ROUTER_END "cc.router.end"         /* OfferAction -> Interaction */
#define SUBJ_ROUTER_GET "cc.router.get"         /* OfferAction -> Interaction */
#define SUBJ_ROUTER_TRACE "cc.router.trace"     /* OfferAction -> Trace */
#define SUBJ_ROUTER_OFFERS "cc.router.offers"   /* OfferAction -> OfferList */
#define SUBJ_ROUTER_QUEUES "cc.router.queues"   /* OfferAction -> QueueStatsList */
#define SUBJ_ROUTER_OFFER "cc.router.offer.%s"  /* published, Offer: rings for the agent */
#define SUBJ_ROUTER_OFFER_ALL "cc.router.offer.*"
#define SUBJ_ROUTER_OFFER_WITHDRAWN "cc.router.offer_withdrawn.%s" /* published, Offer */
#define SUBJ_ROUTER_OFFER_WITHDRAWN_ALL "cc.router.offer_withdrawn.*"
#define SUBJ_ROUTER_EXPIRED "cc.router.expired.%s" /* published, Interaction: call or chat */
/* every replica answers (no queue group): its in-memory view of the agents,
 * for the test that the router and agent-registry agree */
#define SUBJ_ROUTER_VIEW "cc.router.view.agents"                  /* OfferAction -> AgentList */
#define SUBJ_ROUTER_QUEUES_CHANGED "cc.router.queues_changed.all" /* published, QueueStatsList */

#endif
