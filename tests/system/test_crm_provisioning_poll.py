"""crm-sync finds what the CRM's business process did not send: agent records
present before crm-sync started are reconciled at start, and records changed
later without a notification (ModifiedOn newer than the last poll) are found
by the next poll."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest

import creatio_standin as cs
from crm_helpers import crm_env, wait_for
from harness import start_stack
from test_crm_provisioning import our_user

TEAM_CRM = "a1f0c2d3-4e5f-4a6b-8c7d-9e0f1a2b3c99"
SKILL_CRM = "b2e1d3c4-5f6a-4b7c-8d9e-0f1a2b3c4d98"


def stamp(offset_s=0):
    t = datetime.now(timezone.utc) + timedelta(seconds=offset_s)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


@pytest.fixture
def world(cluster):
    api = start_stack(cluster)
    team = api.post("/api/v1/teams", {"name": "Support"}).json()["id"]
    skill = api.post("/api/v1/skills", {"name": "English"}).json()["id"]
    st = cs.Standin().start()
    st.seed({"UsrWebitelTeam": [{"Id": TEAM_CRM, "UsrName": "Support", "UsrExternalId": team}],
             "UsrWebitelSkill": [{"Id": SKILL_CRM, "UsrName": "English",
                                  "UsrExternalId": skill}]})
    yield {"api": api, "st": st, "team": team, "skill": skill, "cluster": cluster}
    st.stop()


def crm_agent(st, modified, capacity=40):
    uid = str(uuid.uuid4())
    st.seed({"UsrWebitelUser": [{"Id": uid, "UsrName": "Ivan Petrenko", "UsrIsAgent": True,
                                 "UsrTeamId": TEAM_CRM, "ModifiedOn": modified}],
             "UsrWebitelAgentSkill": [{"Id": str(uuid.uuid4()), "UsrWebitelUserId": uid,
                                       "UsrSkillId": SKILL_CRM, "UsrCapacity": capacity,
                                       "UsrActive": True, "ModifiedOn": modified}]})
    return uid


def test_agents_present_before_start_are_reconciled_and_later_changes_are_polled(world):
    api, st = world["api"], world["st"]
    before = crm_agent(st, stamp(-3600))
    world["cluster"].start("crm-sync", env=crm_env(st, CC_CRM_POLL_S="5"))
    u = wait_for(lambda: our_user(api, before), timeout=20)
    assert u["agent"] == {"enabled": True, "team_id": world["team"]}
    assert wait_for(lambda: [(s["skill_id"], s["capacity"]) for s in api.get(
        f"/api/v1/agents/{u['id']}/skills").json()["items"]] == [(world["skill"], 40)], timeout=10)
    # a change the CRM never announced: found by the next poll (every 5 s here)
    later = crm_agent(st, stamp(1), capacity=70)
    u2 = wait_for(lambda: our_user(api, later), timeout=20)
    # the user is created first, its skills right after (each record whole)
    assert wait_for(lambda: [s["capacity"] for s in api.get(
        f"/api/v1/agents/{u2['id']}/skills").json()["items"]] == [70], timeout=10)
    with st.lock:
        row = st.store.rows["UsrWebitelUser"][before]
        row["UsrIsAgent"], row["ModifiedOn"] = False, stamp(2)
    assert wait_for(lambda: our_user(api, before)["agent"]["enabled"] is False, timeout=20)
