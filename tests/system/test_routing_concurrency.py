"""Two skill-router replicas, hundreds of agents and a thousand chats, agents
accepting, declining and letting offers time out at random, one replica
killed with kill -9 and restarted mid-run: no chat is offered to two agents
at once, no agent holds more than its capacity, every chat ends, and no agent
is left offering."""
import json
import os
import subprocess
import threading
import time

from harness import FAST_HASH, SAN_ENV, UNIT_DIR, Api, start_stack
from test_registry_objects import make, skill, team, user
from test_routing import Bus


def ix_state(bus, ix_id):
    return bus("cc.router.get", "OfferAction", "Interaction", {"interaction_id": ix_id}, ok=None)

AGENTS = int(os.environ.get("CC_LOAD_AGENTS", "200"))
CHATS = int(os.environ.get("CC_LOAD_CHATS", "1000"))


def test_two_replicas_kill_one_mid_run_nothing_lost_or_offered_twice(cluster):
    admin = start_stack(cluster, registry_env={"CC_REGISTRY_WORKERS": "8"})
    cluster.start("skill-router")
    cluster.start("skill-router", key="skill-router-2")
    t = team(admin, "Load", chat_invite_timeout_s=1, no_answer_delay_s=0)
    s = skill(admin, "Load")
    q = make(admin, "/api/v1/queues", {"name": "Load", "channel": "chat", "skill_id": s["id"],
                                       "max_concurrent_chats": 2})
    ids = []
    for i in range(AGENTS):
        u = user(admin, f"l{i}", agent={"enabled": True, "team_id": t["id"]})
        admin.put(f"/api/v1/agents/{u['id']}/skills/{s['id']}", {"capacity": 10 + i})
        Api(admin.base).login(f"l{i}", f"password-l{i}").put("/api/v1/me/status",
                                                              {"status": "callcenter"})
        ids.append(u["id"])
    env = dict(os.environ, CC_TEST_NATS_URL=cluster.nats.url, LOAD_QUEUE=q["id"],
               LOAD_COUNT=str(CHATS), LOAD_ROOM="2", LOAD_SECONDS="120", **SAN_ENV)
    load = subprocess.Popen([os.path.join(UNIT_DIR, "it_load")], env=env,
                            stdout=subprocess.PIPE, text=True)

    def chaos():
        time.sleep(3)
        cluster.services["skill-router-2"].kill9()
        time.sleep(1)
        cluster.services["skill-router-2"].start().wait_ready()

    killer = threading.Thread(target=chaos)
    killer.start()
    out, _ = load.communicate(timeout=300)
    killer.join()
    summary = json.loads(out)
    if summary["open"]:  # name what was left, for the failure message
        bus = Bus(cluster)
        summary["left"] = {i: ix_state(bus, i) for i in summary["open"].split(",")}
    assert load.returncode == 0 and summary["violations"] == 0, summary
    assert summary["ended"] == CHATS
    assert summary["declined"] > 0 and summary["timed_out"] > 0, summary
    time.sleep(0.5)
    agents = admin.get("/api/v1/monitor/agents").json()["items"]
    stuck = [a for a in agents if a["agent_id"] in ids and
             (a["offers"] or a["state"] == "offering" or a["active_chats"])]
    assert not stuck, stuck
