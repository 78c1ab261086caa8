"""crm-sync provisioning: Creatio's agent records (the stand-in's outbound hook, as a
business process calls POST /crm/v1/provisioning) applied through agent-registry: user
created and linked, agent enabled in the team, skills mirrored, unticked = deactivated,
refusals reported with nothing half-applied; the generic JSON shape; the secret."""
import uuid

import pytest
import requests

import creatio_standin as cs
from crm_helpers import crm_env, request, wait_for
from harness import start_stack

TOKEN = "prov-secret-0123456789"


@pytest.fixture
def world(cluster):
    api = start_stack(cluster)
    team = api.post("/api/v1/teams", {"name": "Support"}).json()["id"]
    s1 = api.post("/api/v1/skills", {"name": "English"}).json()["id"]
    s2 = api.post("/api/v1/skills", {"name": "Billing"}).json()["id"]
    st = cs.Standin().start()
    st.seed({"UsrWebitelTeam": [{"Id": "a1f0c2d3-4e5f-4a6b-8c7d-9e0f1a2b3c99",
                                 "UsrName": "Support", "UsrExternalId": team}],
             "UsrWebitelSkill": [
                 {"Id": "b2e1d3c4-5f6a-4b7c-8d9e-0f1a2b3c4d98", "UsrName": "English",
                  "UsrExternalId": s1},
                 {"Id": "b2e1d3c4-5f6a-4b7c-8d9e-0f1a2b3c4d99", "UsrName": "Billing",
                  "UsrExternalId": s2}]})
    crm = cluster.start("crm-sync", env=crm_env(st, CC_CRM_PROVISIONING_TOKEN=TOKEN))
    st.hook_url, st.hook_token = crm.url("/crm/v1/provisioning"), TOKEN
    yield {"api": api, "st": st, "crm": crm, "team": team, "skills": (s1, s2)}
    st.stop()


def crm_user(st, agent=True, team="a1f0c2d3-4e5f-4a6b-8c7d-9e0f1a2b3c99"):
    uid = str(uuid.uuid4())
    st.seed({"UsrWebitelUser": [{"Id": uid, "UsrName": "Olena Kovalenko", "UsrIsAgent": agent,
                                 "UsrTeamId": team}]})
    return uid


def our_user(api, crm_id):
    login = "crm-" + crm_id.replace("-", "")[:16]
    users = api.get("/api/v1/users", limit=100).json()["items"]
    return next((u for u in users if u["login"] == login), None)


def hook(world, uid, entity="UsrWebitelUser"):
    return requests.post(world["crm"].url("/crm/v1/provisioning"), timeout=20,
                         headers={"Authorization": "Bearer " + TOKEN},
                         json={"EntityName": entity, "Action": "Updated", "Id": uid,
                               "ModifiedOn": "2024-05-02T09:15:00.000Z"})


def test_agent_ticked_with_team_and_skills_is_created_linked_and_mirrored(world):
    api, st = world["api"], world["st"]
    uid = crm_user(st)
    st.seed({"UsrWebitelAgentSkill": [
        {"Id": str(uuid.uuid4()), "UsrWebitelUserId": uid,
         "UsrSkillId": "b2e1d3c4-5f6a-4b7c-8d9e-0f1a2b3c4d98", "UsrCapacity": 80, "UsrActive": True},
        {"Id": str(uuid.uuid4()), "UsrWebitelUserId": uid,
         "UsrSkillId": "b2e1d3c4-5f6a-4b7c-8d9e-0f1a2b3c4d99", "UsrCapacity": 20,
         "UsrActive": False}]})
    r = hook(world, uid)
    assert r.status_code == 200, r.text
    u = our_user(api, uid)
    assert u and u["agent"] == {"enabled": True, "team_id": world["team"]} and u["role"] == "agent"
    skills = {s["skill_id"]: (s["capacity"], s["active"])
              for s in api.get(f"/api/v1/agents/{u['id']}/skills").json()["items"]}
    assert skills == {world["skills"][0]: (80, True), world["skills"][1]: (20, False)}
    with st.lock:
        assert st.store.rows["UsrWebitelUser"][uid]["UsrExternalUserId"] == u["id"]
    # unticked: out of routing, kept; a second notification creates no second user
    with st.lock:
        st.store.rows["UsrWebitelUser"][uid]["UsrIsAgent"] = False
    assert hook(world, uid).status_code == 200
    u2 = our_user(api, uid)
    assert u2["id"] == u["id"] and u2["agent"]["enabled"] is False
    assert len([x for x in api.get("/api/v1/users", limit=100).json()["items"]
                if x["login"] == u["login"]]) == 1


def test_skill_removed_in_the_crm_is_removed_here(world):
    api, st = world["api"], world["st"]
    uid = crm_user(st)
    ask = str(uuid.uuid4())
    st.seed({"UsrWebitelAgentSkill": [{"Id": ask, "UsrWebitelUserId": uid,
                                       "UsrSkillId": "b2e1d3c4-5f6a-4b7c-8d9e-0f1a2b3c4d98",
                                       "UsrCapacity": 50, "UsrActive": True}]})
    assert hook(world, uid).status_code == 200
    u = our_user(api, uid)
    assert len(api.get(f"/api/v1/agents/{u['id']}/skills").json()["items"]) == 1
    with st.lock:
        del st.store.rows["UsrWebitelAgentSkill"][ask]
    r = requests.post(world["crm"].url("/crm/v1/provisioning"), timeout=20,
                      headers={"Authorization": "Bearer " + TOKEN},
                      json={"EntityName": "UsrWebitelAgentSkill", "Action": "Deleted", "Id": ask})
    assert r.status_code == 200, r.text
    assert api.get(f"/api/v1/agents/{u['id']}/skills").json()["items"] == []


def test_unknown_team_is_reported_and_nothing_is_applied(world, cluster):
    st = world["st"]
    st.seed({"UsrWebitelTeam": [{"Id": "a1f0c2d3-4e5f-4a6b-8c7d-9e0f1a2b3c77", "UsrName": "Old",
                                 "UsrExternalId": "team_nope"}]})
    uid = crm_user(st, team="a1f0c2d3-4e5f-4a6b-8c7d-9e0f1a2b3c77")
    r = hook(world, uid)
    assert r.status_code == 400 and "unknown team" in r.json()["error"]["message"]
    assert our_user(world["api"], uid) is None
    status = request(cluster, "cc.crm.status.get", "SettingsRequest", "CrmStatus",
                     {"caller": {"user_id": "a", "role": "admin"}})
    assert any(f["kind"] == "agent" and f["id"] == uid and "unknown team" in f["reason"]
               for f in status["failures"])
    metrics = world["crm"].url("/metrics")
    assert 'cc_crm_provisioning_total{result="failed"}' in requests.get(metrics, timeout=5).text


def test_the_stand_ins_own_hook_provisions_on_insert(world):
    uid = crm_user(world["st"])  # seed adds rows without hooks: touch sends one
    requests.post(world["st"].url + "/__test/touch", json={"entity": "UsrWebitelUser", "id": uid},
                  timeout=10)
    assert wait_for(lambda: our_user(world["api"], uid), timeout=10)


def test_generic_shape_and_capacity_out_of_range(world):
    api = world["api"]
    post = lambda body: requests.post(world["crm"].url("/crm/v1/provisioning"), json=body,
                                      headers={"Authorization": "Bearer " + TOKEN}, timeout=20)
    bad = post({"user": {"external_id": "ext-7", "is_agent": True, "team_id": world["team"],
                         "skills": [{"skill_id": world["skills"][0], "capacity": 101}]}})
    assert bad.status_code == 400 and "capacity" in bad.json()["error"]["message"]
    assert not [u for u in api.get("/api/v1/users", limit=100).json()["items"]
                if u["login"].startswith("crm-ext7")]
    ok = post({"user": {"external_id": "ext-7", "name": "Ext Agent", "is_agent": True,
                        "team_id": world["team"],
                        "skills": [{"skill_id": world["skills"][1], "capacity": 5}]}})
    assert ok.status_code == 200, ok.text
    u = next(u for u in api.get("/api/v1/users", limit=100).json()["items"]
             if u["login"] == "crm-ext7")
    assert u["agent"]["enabled"] is True


def test_provisioning_needs_the_secret(world):
    url = world["crm"].url("/crm/v1/provisioning")
    body = {"EntityName": "UsrWebitelUser", "Id": str(uuid.uuid4())}
    assert requests.post(url, json=body, timeout=5).status_code == 401
    assert requests.post(url, json=body, headers={"Authorization": "Bearer wrong"},
                         timeout=5).status_code == 401
    assert requests.post(url, json=body, auth=("creatio", TOKEN), timeout=5).status_code != 401
