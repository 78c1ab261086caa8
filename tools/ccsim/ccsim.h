/* ccsim.h - the contact-center simulator's shared types: the scenario, the
 * customers drawn from it, the simulated agents and the run that ties them to
 * the real services over NATS. Modules: scenario.c (JSON in), workload.c
 * (random customers), provision.c (objects and agents in agent-registry),
 * timeline.c (timed events), engine.c (the run), theory.c (Erlang C and the
 * ideal replay), report.c (figures out). See docs/ccsim.md. */
#ifndef CCSIM_H
#define CCSIM_H

#include "cc_status.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_MAX_QUEUES 32
#define SIM_MAX_GROUPS 32
#define SIM_MAX_GROUP_SKILLS 16
#define SIM_MAX_SKILLS (SIM_MAX_QUEUES + SIM_MAX_GROUPS * SIM_MAX_GROUP_SKILLS)
#define SIM_MAX_AGENTS 5000
#define SIM_NAME_MAX 64
#define SIM_ID_MAX 48

/* --- scenario.c ------------------------------------------------------------------- */

struct sim_queue_cfg {
    char name[SIM_NAME_MAX];
    char kind[8];             /* "chat" or "call" */
    char strategy[24];        /* skill-router strategy */
    char skill[SIM_NAME_MAX]; /* skill the queue asks for; default its name */
    int64_t min_capacity;     /* 1..100 */
    int64_t max_chats;        /* max_concurrent_chats, chat queues */
    int64_t priority;         /* 0..100 */
    double arrivals_per_hour; /* Poisson rate */
    double handling_s;        /* mean of the exponential handling time, simulated s */
    double patience_s;        /* mean of the exponential patience; 0 = never abandons */
};

struct sim_group_skill {
    char skill[SIM_NAME_MAX];
    int64_t capacity; /* 1..100 */
};

struct sim_group_cfg {
    char name[SIM_NAME_MAX];
    int count;
    struct sim_group_skill skills[SIM_MAX_GROUP_SKILLS];
    size_t n_skills;
};

struct scenario {
    char name[128];
    double scale;      /* simulated seconds per real second */
    double duration_s; /* arrivals happen in [0, duration_s) */
    double warmup_s;   /* arrivals before it are not measured */
    double drain_s;    /* after duration_s, wait at most this for measured customers */
    double sl_s;       /* service level threshold T */
    double wrap_up_s;  /* wrap-up after the last interaction ends */
    uint64_t seed;
    struct sim_queue_cfg queues[SIM_MAX_QUEUES];
    size_t n_queues;
    struct sim_group_cfg groups[SIM_MAX_GROUPS];
    size_t n_groups;
    char skills[SIM_MAX_SKILLS][SIM_NAME_MAX]; /* distinct skill names, derived */
    size_t n_skills;
};

/* --- workload.c and engine.c: customers ------------------------------------------- */

enum sim_outcome {
    SIM_PENDING,   /* not arrived yet */
    SIM_WAITING,   /* enqueued, not answered */
    SIM_ACCEPTING, /* an agent is accepting it now */
    SIM_ANSWERED,  /* connected to an agent */
    SIM_ENDED,     /* handled and ended */
    SIM_ABANDONED, /* hung up before an answer */
    SIM_FAILED     /* the system refused or lost it (an error, reported) */
};

struct sim_customer {
    /* drawn by workload.c, simulated seconds */
    uint32_t queue;
    double arrive_s;   /* scheduled arrival */
    double handle_s;   /* handling time once answered */
    double patience_s; /* 0 = never abandons */
    int measured;      /* arrived inside [warmup_s, duration_s) */
    /* filled by engine.c under sim->lock; monotonic microseconds */
    enum sim_outcome state;
    int agent;           /* index into sim->agents, -1 when none */
    int64_t t_arrive;    /* enqueue sent */
    int64_t t_offer;     /* offer received */
    int64_t t_answer;    /* accept confirmed */
    int64_t t_end;       /* end confirmed */
    int64_t t_abandon;   /* abandon sent */
    int64_t route_delay; /* offer minus when both customer and agent were free; -1 unknown */
    int found_free;      /* the agent who answered was free when the customer arrived */
};

/* --- provision.c and engine.c: agents --------------------------------------------- */

struct sim_agent {
    char id[SIM_ID_MAX]; /* user id in agent-registry */
    int group;           /* index into scenario groups */
    /* engine.c, under sim->lock */
    int open;           /* offers, interactions and wrap-up held now */
    int64_t busy_since; /* when open went from 0 to 1 */
    int64_t busy_us;    /* busy time inside the measurement window */
    int64_t freed;      /* when open last went to 0 */
    int handled;
};

/* One simulation run. */
struct sim {
    const struct scenario *sc;
    struct cc_nats *nats;
    struct timeline *timeline;
    char tag[16]; /* names this run's objects and ids */
    char team_id[SIM_ID_MAX];
    char queue_ids[SIM_MAX_QUEUES][SIM_ID_MAX];
    char skill_ids[SIM_MAX_SKILLS][SIM_ID_MAX];
    struct sim_agent *agents; /* sorted by id after provisioning */
    size_t n_agents;
    struct sim_customer *customers; /* by scheduled arrival */
    size_t n_customers;
    pthread_mutex_t lock; /* customers' and agents' run fields */
    int64_t t0, w0, w1;   /* start, window start and end (mono us) */
    int64_t end;          /* when the run stopped (mono us) */
    size_t unresolved;    /* measured customers not answered/abandoned */
    int stopped;          /* the run is over: offers are ignored */
    /* anomalies, under lock: each one makes figures less trustworthy */
    long failed_requests; /* enqueue, accept, end, abandon or status refused or lost */
    long offer_timeouts;  /* registry reported an offer nobody answered */
    long stale_offers;    /* offers for customers already abandoned or unknown */
    long wrap_refused;    /* wrap-up end refused (state moved meanwhile) */
    long wrap_timer;      /* registry's wrap-up timer ended one first: the simulator lagged */
    long lost_events;     /* events that could not be scheduled (out of memory) */
    long audit_checked, audit_mismatch; /* router's record against ours, after the run */
};

#endif
