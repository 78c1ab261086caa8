"""CRM faults end to end (SPEC section 7a: every chat and call record written, through a
durable outbox, idempotent, in order per interaction): real web chats through
chat-gateway and real calls through call-router's PBX API, their records through RECORDS
and crm-sync into the stand-in Creatio, while the CRM is unreachable for a while
(CC_TEST_CRM_DOWN_S, 10 s in make test; a minute is the case this stands for), while
crm-sync is killed with kill -9 in the middle of the backlog, and while the CRM's
sessions expire. Checked in the stand-in's store and its request log: one row per
interaction, created once, every write of it in the order of its versions, the last
one the final state."""
import os
import time

import pytest

import creatio_standin as cs
from crm_helpers import crm_env, rows, wait_for
from harness import Api, PBX_TOKEN, start_stack
from test_calls_pbx import Pbx
from test_chat_webchat import Customer
from test_registry_objects import make, skill, team, user
from test_routing import Bus, wait_until

DOWN_S = float(os.environ.get("CC_TEST_CRM_DOWN_S", "10"))
CHAT_RANK = {"New": 0, "In progress": 1, "Completed": 2}


@pytest.fixture
def standin():
    st = cs.Standin().start()
    yield st
    st.stop()


@pytest.fixture
def stack(cluster, standin):
    admin = start_stack(cluster)
    cluster.start("skill-router")
    chat = cluster.start("chat-gateway", env={"CC_PUBLIC_URL": "self", "CC_CRM_IDENTIFY_MS": "300"})
    cr = cluster.start("call-router")
    crm = cluster.start("crm-sync", env=crm_env(standin))
    t = team(admin, "Chat team", chat_invite_timeout_s=30, wrap_up_time_s=0)
    s = skill(admin, "Web")
    q = make(admin, "/api/v1/queues", {"name": "Web", "channel": "chat", "skill_id": s["id"]})
    ch = make(admin, "/api/v1/channels", {"type": "webchat", "name": "Site", "queue_id": q["id"],
                                         "credentials": {}})
    cq = make(admin, "/api/v1/queues", {"name": "Line", "channel": "call",
                                        "skill_id": skill(admin, "Voice")["id"]})
    u = user(admin, "wanda", agent={"enabled": True, "team_id": t["id"]})
    admin.put(f"/api/v1/agents/{u['id']}/skills/{s['id']}", {"capacity": 100})
    agent = Api(admin.base).login("wanda", "password-wanda")
    agent.put("/api/v1/me/status", {"status": "callcenter"})
    bus = Bus(cluster)
    wait_until(lambda: bus("cc.router.enqueue", "Interaction", "Interaction",
                           {"id": "probe", "queue_id": cq["id"], "kind": "call"}, ok=None)
               .get("state"), timeout=20)  # skill-router learnt the call queue
    bus.act("abandon", "probe")
    return {"agent": agent, "chat": chat, "channel": ch, "pbx": Pbx(cr), "call_queue": cq["id"],
            "crm": crm, "cluster": cluster}


def run_chat(stack, n):
    """A web chat offered, accepted and ended: its id."""
    agent = stack["agent"]
    Customer(stack["chat"].base, stack["channel"]["id"], name=f"cust{n}").say(f"hello {n}")
    chat_id = wait_until(lambda: next((o["chat_id"] for o in agent.get("/api/v1/me/offers")
                                       .json()["items"]), None), timeout=15)
    assert agent.post(f"/api/v1/chats/{chat_id}/accept").status_code == 200
    assert agent.patch(f"/api/v1/chats/{chat_id}", {"result_details": f"done {n}"}
                       ).status_code == 200
    assert agent.post(f"/api/v1/chats/{chat_id}/end").status_code == 200
    return chat_id


def run_call(stack, n):
    """A call that waits in the queue and is abandoned: its call-router id."""
    pbx = stack["pbx"]
    r = pbx.create(f"sip-fault-{n}-{time.time()}", stack["call_queue"], frm=f"+4860010{n:04d}")
    assert r.status_code in (200, 201), r.text
    cid = r.json()["call_id"]
    assert pbx.event(cid, "abandoned").status_code == 200
    return r.json()["interaction_id"]


def writes(st, set_name, key_field):
    """Every successful write of `set_name` in the request log, in order, as
    (external id, body), batches unfolded; a PATCH is named through the stored row."""
    by_guid = {r["Id"]: r.get(key_field) for r in rows(st, set_name)}
    out = []
    with st.lock:
        log = list(st.requests)
    for e in log:
        subs = [(e["method"], e["path"], e["body"], e["status"])]
        if e["path"].endswith("/$batch") and isinstance(e["body"], dict):
            subs = [(r.get("method"), r.get("url"), r.get("body"), s)
                    for r, s in zip(e["body"]["requests"], e.get("sub_status", []))]
        for method, url, body, status in subs:
            name = (url or "").split("/")[-1]
            if not name.startswith(set_name) or not 200 <= status < 300:
                continue
            if method == "POST" and name == set_name:
                out.append(("create", body.get(key_field), body))
            elif method == "PATCH" and "(" in name:
                out.append(("update", by_guid.get(name[len(set_name) + 1:-1]), body))
    return out


def check_once_in_order(st, chats, calls):
    chat_writes = writes(st, "UsrChat", "UsrExternalId")
    call_writes = writes(st, "Call", "IntegrationId")
    for cid in chats:
        got = rows(st, "UsrChat", "UsrExternalId", cid)
        assert len(got) == 1 and got[0]["UsrState"] == "Completed", (cid, got)
        mine = [(k, b) for k, i, b in chat_writes if i == cid]
        assert [k for k, _ in mine].count("create") == 1 and mine[0][0] == "create", mine
        ranks = [CHAT_RANK[b["UsrState"]] for _, b in mine if "UsrState" in b]
        assert ranks == sorted(ranks), (cid, ranks)
    for cid in calls:
        got = rows(st, "Call", "IntegrationId", cid)
        assert len(got) == 1 and got[0]["EndDate"], (cid, got)
        mine = [(k, b) for k, i, b in call_writes if i == cid]
        assert [k for k, _ in mine].count("create") == 1 and mine[0][0] == "create", mine
        ended = [bool(b.get("EndDate")) for _, b in mine]
        assert ended == sorted(ended), (cid, ended)  # never back to not ended


def all_written(st, chats, calls):
    return all(any(r["UsrState"] == "Completed" for r in rows(st, "UsrChat", "UsrExternalId", c))
               for c in chats) and \
        all(any(r.get("EndDate") for r in rows(st, "Call", "IntegrationId", c)) for c in calls)


def test_crm_down_for_a_minute_then_back_every_record_once_in_order(stack, standin):
    chats, calls = [run_chat(stack, 0)], [run_call(stack, 0)]
    assert wait_for(lambda: all_written(standin, chats, calls), timeout=30)
    standin.down()
    t0 = time.time()
    n = 1
    while time.time() - t0 < DOWN_S:  # interactions keep coming while the CRM is away
        chats.append(run_chat(stack, n))
        calls.append(run_call(stack, n))
        n += 1
    assert not all_written(standin, chats, calls)
    standin.up()
    assert wait_for(lambda: all_written(standin, chats, calls), timeout=60 + DOWN_S), \
        "records written after the CRM came back"
    check_once_in_order(standin, chats, calls)


def test_crm_sync_killed_mid_backlog_then_restarted_nothing_lost_or_duplicated(stack, standin):
    standin.delay_ms = 300  # a slow CRM: writes are in flight when the process dies
    chats, calls = [], []
    for n in range(8):
        chats.append(run_chat(stack, n))
        calls.append(run_call(stack, n))
        if n == 3:  # some written, more coming: kill -9 and keep the interactions coming
            assert wait_for(lambda: rows(standin, "UsrChat") or rows(standin, "Call"),
                            timeout=30, step=0.02)
            stack["crm"].kill9()
    stack["cluster"].start("crm-sync", env=crm_env(standin), key="crm-sync-2")
    standin.delay_ms = 0
    # what the killed process held comes again after JetStream's ack wait (30 s)
    assert wait_for(lambda: all_written(standin, chats, calls), timeout=120)
    check_once_in_order(standin, chats, calls)


def test_sessions_expiring_mid_run_are_renewed_and_nothing_is_lost(stack, standin):
    chats, calls = [], []
    for n in range(4):
        chats.append(run_chat(stack, n))
        calls.append(run_call(stack, n))
        standin.expire_sessions()
    assert wait_for(lambda: all_written(standin, chats, calls), timeout=60)
    check_once_in_order(standin, chats, calls)
    logins = [e for e in standin.requests if e["path"].endswith("AuthService.svc/Login")
              and e["status"] == 200]
    assert len(logins) >= 2
