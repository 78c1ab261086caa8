"""Batched reservations: two skill-router replicas, chats enqueued from 16
threads at once while agents accept, decline and let offers time out, so
that each replica puts several decisions in one reserve.lua call (each
agent-interaction pair still compare-and-set). The batches are seen on
/metrics (more interactions tried than calls made), and the routing
invariants hold all along: no chat offered twice at once, no agent over
capacity, every chat ends (none lost), no agent left offering."""
import requests

from harness import start_stack
from test_routing_concurrency import check_load, finish_load, load_world, start_load, stuck_agents

AGENTS = 60
CHATS = 600


def counter(cluster, key, name):
    text = requests.get(cluster.services[key].url("/metrics"), timeout=5).text
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{name} not in {key}'s /metrics")


def test_batched_reservations_keep_the_invariants_with_two_replicas(cluster):
    admin = start_stack(cluster, registry_env={"CC_REGISTRY_WORKERS": "8"})
    cluster.start("skill-router")
    cluster.start("skill-router", key="skill-router-2")
    queue_id, ids = load_world(admin, agents=AGENTS)
    load = start_load(cluster.nats.url, queue_id, chats=CHATS, enqueuers=16)
    summary = finish_load(cluster, load)
    check_load(summary, chats=CHATS)
    stuck = stuck_agents(admin, ids)
    assert not stuck, stuck
    routers = ("skill-router", "skill-router-2")
    calls = sum(counter(cluster, k, "cc_router_reserve_calls_total") for k in routers)
    tried = sum(counter(cluster, k, "cc_router_reservations_total") for k in routers)
    print("reserve calls", calls, "interactions tried", tried, summary)
    # every offer went through a call; some calls carried several interactions
    assert calls > 0 and tried >= summary["offers"] and tried > calls, (calls, tried, summary)
