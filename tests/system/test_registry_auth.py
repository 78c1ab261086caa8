"""Sign-in, sessions, roles and permissions, secrets, the uniqueness race,
restarts, and bad HTTP input, through real HTTP."""
import concurrent.futures
import json
import time

import pytest
import requests

from harness import ADMIN_PASSWORD, FAST_HASH, Api, start_stack
from test_registry_objects import err, make, queue, skill, team, user


@pytest.fixture
def admin(cluster):
    return start_stack(cluster, registry_env={"CC_LOGIN_LOCK_S": "2"})


def anon(admin):
    return Api(admin.base)


def test_login_answers_token_user_and_idle_timeout(admin):
    r = anon(admin).post("/api/v1/auth/login", {"login": "admin", "password": ADMIN_PASSWORD})
    body = r.json()
    assert r.status_code == 200
    assert len(body["token"]) >= 43 and body["idle_timeout_s"] == 0
    assert body["user"]["login"] == "admin" and body["user"]["role"] == "admin"
    assert "password" not in body["user"]
    me = Api(admin.base, body["token"]).get("/api/v1/me").json()
    assert me["id"] == body["user"]["id"]


def test_requests_without_a_valid_token_are_401(admin):
    for token in (None, "nonsense", admin.token + "x"):
        err(Api(admin.base, token).get("/api/v1/skills"), 401, "unauthorized")
    err(Api(admin.base).call("GET", "/api/v1/me", headers={"Authorization": "Basic abc"}), 401,
        "unauthorized")


def test_logout_revokes_only_that_token(admin):
    other = anon(admin).login("admin", ADMIN_PASSWORD)
    assert other.post("/api/v1/auth/logout").status_code == 200
    err(other.get("/api/v1/me"), 401, "unauthorized")
    assert admin.get("/api/v1/me").status_code == 200


def test_failed_logins_are_refused_for_a_while_then_allowed(admin):
    user(admin, "victim")
    a = anon(admin)
    for _ in range(5):
        err(a.post("/api/v1/auth/login", {"login": "victim", "password": "wrong-password"}), 401,
            "unauthorized")
    msg = err(a.post("/api/v1/auth/login", {"login": "victim", "password": "password-victim"}),
              429, "rate_limited")
    assert "try again" in msg
    assert a.post("/api/v1/auth/login", {"login": "admin", "password": ADMIN_PASSWORD}).ok
    time.sleep(2.5)  # CC_LOGIN_LOCK_S=2 in this test
    assert a.post("/api/v1/auth/login", {"login": "victim", "password": "password-victim"}).ok


def test_unknown_login_and_archived_user_cannot_sign_in(admin):
    err(anon(admin).post("/api/v1/auth/login", {"login": "ghost", "password": "whatever1"}), 401,
        "unauthorized")
    u = user(admin, "leaver")
    session = anon(admin).login("leaver", "password-leaver")
    assert admin.post(f"/api/v1/users/{u['id']}/archive").json()["archived"] is True
    err(session.get("/api/v1/me"), 401, "unauthorized")
    err(anon(admin).post("/api/v1/auth/login", {"login": "leaver", "password": "password-leaver"}),
        401, "unauthorized")
    assert admin.post(f"/api/v1/users/{u['id']}/unarchive").json()["archived"] is False
    anon(admin).login("leaver", "password-leaver")


def test_idle_timeout_expires_and_each_request_renews_it(admin):
    user(admin, "idler", idle_timeout_s=2)
    s = anon(admin).login("idler", "password-idler")
    for _ in range(4):  # 4 x 1.2 s > 2 s: only renewal keeps it alive
        time.sleep(1.2)
        assert s.get("/api/v1/me").status_code == 200
    time.sleep(3)
    err(s.get("/api/v1/me"), 401, "unauthorized")


def test_password_change_keeps_this_session_and_ends_the_others(admin):
    user(admin, "pw")
    s1 = anon(admin).login("pw", "password-pw")
    s2 = anon(admin).login("pw", "password-pw")
    err(s1.put("/api/v1/me/password", {"old_password": "nope-nope", "new_password": "new-pass-1"}),
        403, "forbidden")
    err(s1.put("/api/v1/me/password", {"old_password": "password-pw", "new_password": "short"}),
        400, "bad_request")
    assert s1.put("/api/v1/me/password",
                  {"old_password": "password-pw", "new_password": "new-pass-1"}).status_code == 200
    assert s1.get("/api/v1/me").status_code == 200
    err(s2.get("/api/v1/me"), 401, "unauthorized")
    anon(admin).login("pw", "new-pass-1")


def test_two_concurrent_creates_of_one_login_exactly_one_wins(cluster, admin):
    # a second replica: requests are shared through the NATS queue group
    cluster.start("agent-registry", key="agent-registry-2", env={
        "CC_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD, **FAST_HASH})

    def create(login):
        return admin.post("/api/v1/users", {"login": login, "password": "password-1",
                                            "role": "agent"}).status_code
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        for round_ in range(10):
            codes = sorted(pool.map(create, [f"race{round_}"] * 4))
            assert codes == [201, 409, 409, 409], codes
    logins = [u["login"] for u in admin.get("/api/v1/users", limit=500).json()["items"]]
    assert len([l for l in logins if l.startswith("race")]) == 10
    for key in ("agent-registry", "agent-registry-2"):  # both replicas took creates
        metrics = requests.get(cluster.services[key].url("/metrics"), timeout=2).text
        assert 'cc_registry_requests_total{kind="users",verb="create"}' in metrics, key


# --- roles -------------------------------------------------------------------------------

def test_manager_manages_agents_and_users_only(admin):
    user(admin, "mgr", role="manager")
    boss = user(admin, "other-admin", role="admin")
    m = anon(admin).login("mgr", "password-mgr")
    a = make(m, "/api/v1/users", {"login": "hired", "password": "password-1", "role": "agent"})
    err(m.post("/api/v1/users", {"login": "x1", "password": "password-1", "role": "admin"}), 403,
        "forbidden")
    err(m.patch(f"/api/v1/users/{a['id']}", {"role": "supervisor"}), 403, "forbidden")
    roles = {u["role"] for u in m.get("/api/v1/users").json()["items"]}
    assert roles <= {"agent", "user"}
    err(m.get(f"/api/v1/users/{boss['id']}"), 404, "not_found")
    assert m.post(f"/api/v1/users/{a['id']}/archive").status_code == 200
    err(m.get(f"/api/v1/users/{a['id']}"), 404, "not_found")
    b = make(m, "/api/v1/users", {"login": "kept", "password": "password-1", "role": "user"})
    err(m.delete(f"/api/v1/users/{b['id']}"), 403, "forbidden")
    err(m.get("/api/v1/teams"), 403, "forbidden")
    err(m.get("/api/v1/users", archived="true"), 403, "forbidden")
    listed = [u["id"] for u in admin.get("/api/v1/users").json()["items"]]
    assert a["id"] not in listed
    listed = [u["id"] for u in admin.get("/api/v1/users", archived="true").json()["items"]]
    assert a["id"] in listed
    assert admin.delete(f"/api/v1/users/{a['id']}").status_code == 204


def test_supervisor_follows_the_permission_switches_and_assigned_queues(admin):
    sup = user(admin, "sv", role="supervisor")
    s = skill(admin, "Sup")
    mine = queue(admin, "Mine", skill_id=s["id"], supervisor_ids=[sup["id"]])
    t = team(admin, "SupTeam", supervisor_ids=[sup["id"]])
    via_team = queue(admin, "ViaTeam", skill_id=s["id"], team_ids=[t["id"]])
    other = queue(admin, "Other", skill_id=s["id"])
    sv = anon(admin).login("sv", "password-sv")
    assert sv.get("/api/v1/skills").status_code == 200
    err(sv.post("/api/v1/skills", {"name": "New"}), 403, "forbidden")
    names = {q["name"] for q in sv.get("/api/v1/queues").json()["items"]}
    assert names == {"Mine", "ViaTeam"}
    err(sv.get(f"/api/v1/queues/{other['id']}"), 404, "not_found")
    err(sv.patch(f"/api/v1/queues/{mine['id']}", {"priority": 5}), 403, "forbidden")
    admin.put("/api/v1/settings/permissions", {"supervisor": {
        "manage_skills": True, "manage_queue_settings": True, "limit_to_assigned_queues": False}})
    assert sv.post("/api/v1/skills", {"name": "New"}).status_code == 201
    assert sv.patch(f"/api/v1/queues/{via_team['id']}", {"priority": 5}).status_code == 200
    assert len(sv.get("/api/v1/queues").json()["items"]) == 3
    err(sv.get("/api/v1/teams"), 403, "forbidden")
    err(sv.get("/api/v1/channels"), 403, "forbidden")
    err(sv.get("/api/v1/users"), 403, "forbidden")
    err(sv.get("/api/v1/settings/permissions"), 403, "forbidden")


def test_agent_reads_what_it_works_with_and_nothing_else(admin):
    a = user(admin, "ag1")
    make(admin, "/api/v1/quick-replies", {"name": "Hi", "text": "Hello"})
    make(admin, "/api/v1/results", {"name": "Done"})
    make(admin, "/api/v1/pause-causes", {"name": "Coffee", "allow_agent": True})
    make(admin, "/api/v1/pause-causes", {"name": "Training", "allow_agent": False})
    ag = anon(admin).login("ag1", "password-ag1")
    assert len(ag.get("/api/v1/quick-replies").json()["items"]) == 1
    assert len(ag.get("/api/v1/results").json()["items"]) == 1
    names = {p["name"] for p in ag.get("/api/v1/pause-causes").json()["items"]}
    assert names == {"Coffee"}
    err(ag.post("/api/v1/quick-replies", {"name": "x", "text": "y"}), 403, "forbidden")
    admin.put("/api/v1/settings/permissions", {"agent": {"manage_public_canned": True}})
    assert ag.post("/api/v1/quick-replies", {"name": "x", "text": "y"}).status_code == 201
    for path in ("/api/v1/users", "/api/v1/teams", "/api/v1/skills", "/api/v1/queues",
                 "/api/v1/channels", f"/api/v1/users/{admin.get('/api/v1/me').json()['id']}"):
        err(ag.get(path), 403, "forbidden")
    err(ag.post("/api/v1/results", {"name": "Mine"}), 403, "forbidden")
    assert ag.get("/api/v1/me").json()["id"] == a["id"]
    assert ag.get(f"/api/v1/agents/{a['id']}/skills").status_code == 200


def test_user_role_has_its_own_account_and_nothing_else(admin):
    u = user(admin, "plain", role="user")
    p = anon(admin).login("plain", "password-plain")
    assert p.get("/api/v1/me").json()["id"] == u["id"]
    for path in ("/api/v1/users", "/api/v1/skills", "/api/v1/queues", "/api/v1/teams",
                 "/api/v1/pause-causes", "/api/v1/quick-replies", "/api/v1/channels",
                 "/api/v1/settings/permissions"):
        err(p.get(path), 403, "forbidden")
    err(p.post("/api/v1/skills", {"name": "x"}), 403, "forbidden")


# --- secrets, bad input, restarts ----------------------------------------------------------

def test_secrets_and_password_hashes_never_reach_answers_or_logs(cluster, admin):
    s = skill(admin, "Sec")
    q = queue(admin, "SecQ", skill_id=s["id"])
    make(admin, "/api/v1/channels", {
        "type": "whatsapp_cloud", "name": "WA", "queue_id": q["id"],
        "api_base_url": "http://127.0.0.1:9", "credentials": {
            "access_token": "TOPSECRET-access", "app_secret": "TOPSECRET-app",
            "verify_token": "TOPSECRET-verify", "phone_number_id": "123"}})
    user(admin, "secretive")
    anon(admin).login("secretive", "password-secretive")
    answers = admin.get("/api/v1/channels").text + admin.get("/api/v1/users").text
    assert "TOPSECRET" not in answers and "argon2" not in answers
    for svc in cluster.services.values():
        log = svc.log()
        for secret in ("TOPSECRET", "password-secretive", ADMIN_PASSWORD, "$argon2id",
                       admin.token):
            assert secret not in log, (svc.name, secret)


def test_bad_bodies_get_400_or_413_and_the_gateway_stays_healthy(cluster, admin):
    gw = cluster.services["api-gateway"]
    a = anon(admin)
    for raw in ('{"login": "admin", "password": ', "[1,2]", "null", '{"login": 5}',
                b'{"login": "\xff\xfe", "password": "x"}'):
        r = a.call("POST", "/api/v1/auth/login", raw=raw,
                   headers={"Content-Type": "application/json"})
        err(r, 400, "bad_request")
    err(a.call("POST", "/api/v1/auth/login", raw="x" * (2 * 1024 * 1024),
               headers={"Content-Type": "application/json"}), 413, "too_large")
    err(admin.call("POST", "/api/v1/skills", raw="{bad json"), 400, "bad_request")
    err(admin.call("PATCH", "/api/v1/skills/skl_x", raw=""), 400, "bad_request")
    assert requests.get(gw.url("/readyz"), timeout=2).status_code == 200
    assert admin.get("/api/v1/me").status_code == 200


def test_nothing_configured_is_lost_across_restarts_of_every_service_and_redis(cluster, admin):
    s = skill(admin, "Durable")
    q = queue(admin, "DurableQ", skill_id=s["id"])
    u = user(admin, "durable", agent={"enabled": True})
    admin.put(f"/api/v1/agents/{u['id']}/skills/{s['id']}", {"capacity": 42})
    admin.put("/api/v1/settings/permissions", {"supervisor": {"manage_skills": True}})
    before = {p: admin.get(p).json() for p in (
        "/api/v1/skills", "/api/v1/queues", "/api/v1/users", "/api/v1/settings/permissions",
        f"/api/v1/agents/{u['id']}/skills", "/api/v1/pause-causes")}
    time.sleep(1.5)  # AOF appendfsync everysec
    for name in ("agent-registry", "api-gateway"):
        cluster.services[name].kill9()
    cluster.redis.kill9()
    cluster.redis.start()
    for name in ("agent-registry", "api-gateway"):
        cluster.services[name].start().wait_ready()
    fresh = anon(admin).login("admin", ADMIN_PASSWORD)
    for path, body in before.items():
        assert fresh.get(path).json() == body, path
    anon(admin).login("durable", "password-durable")
    assert fresh.get(f"/api/v1/queues/{q['id']}").json()["name"] == "DurableQ"
