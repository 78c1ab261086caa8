"""Configuration objects through real HTTP against api-gateway and
agent-registry: create, read, list with paging, update, delete, and every
validation rule."""
import pytest

from harness import start_stack


@pytest.fixture
def admin(cluster):
    return start_stack(cluster)


def make(api, path, body):
    r = api.post(path, body)
    assert r.status_code == 201, r.text
    obj = r.json()
    assert obj["id"]
    return obj


def skill(api, name="Sales"):
    return make(api, "/api/v1/skills", {"name": name, "description": "sells"})


def team(api, name="Team A", **kw):
    return make(api, "/api/v1/teams", {"name": name, **kw})


def queue(api, name="Q1", skill_id=None, channel="chat", **kw):
    return make(api, "/api/v1/queues",
                {"name": name, "channel": channel, "skill_id": skill_id or skill(api, name + "-s")["id"],
                 **kw})


def user(api, login, role="agent", **kw):
    return make(api, "/api/v1/users", {"login": login, "password": "password-" + login,
                                       "role": role, **kw})


def err(r, status, code):
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code, r.text
    return r.json()["error"]["message"]


# --- lifecycle of every kind -------------------------------------------------------

KINDS = {
    "skills": ({"name": "Billing", "description": "invoices"}, {"description": "bills"}),
    "teams": ({"name": "Night", "wrap_up_time_s": 15, "chat_invite_timeout_s": 40},
              {"wrap_up_time_s": 20}),
    "pause-causes": ({"name": "Lunch", "limit_minutes_per_day": 30}, {"allow_agent": False}),
    "results": ({"name": "Solved"}, {"name": "Resolved"}),
    "quick-replies": ({"name": "Hello", "text": "Dzień dobry! 👋"}, {"text": "¡Hola! 😀"}),
}


@pytest.mark.parametrize("path", list(KINDS))
def test_create_read_update_delete(admin, path):
    body, patch = KINDS[path]
    obj = make(admin, f"/api/v1/{path}", body)
    for k, v in body.items():
        assert obj[k] == v
    assert obj["created_at"].endswith("Z") and obj["updated_at"].endswith("Z")
    got = admin.get(f"/api/v1/{path}/{obj['id']}").json()
    assert got == obj
    first = admin.get(f"/api/v1/{path}", limit=1).json()
    assert len(first["items"]) == 1
    listed = admin.get(f"/api/v1/{path}", limit=500).json()
    assert obj in listed["items"] and listed["next_cursor"] is None
    r = admin.patch(f"/api/v1/{path}/{obj['id']}", patch)
    assert r.status_code == 200, r.text
    for k, v in {**body, **patch}.items():
        assert r.json()[k] == v
    assert admin.get(f"/api/v1/{path}/{obj['id']}").json() == r.json()
    assert admin.delete(f"/api/v1/{path}/{obj['id']}").status_code == 204
    err(admin.get(f"/api/v1/{path}/{obj['id']}"), 404, "not_found")
    err(admin.delete(f"/api/v1/{path}/{obj['id']}"), 404, "not_found")


def test_list_pages_with_limit_and_cursor(admin):
    ids = [skill(admin, f"s{i:02d}")["id"] for i in range(7)]
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        r = admin.get("/api/v1/skills", **params)
        assert r.status_code == 200
        page = r.json()
        assert len(page["items"]) <= 3
        seen += [s["id"] for s in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids and pages == 3
    err(admin.get("/api/v1/skills", limit=0), 400, "bad_request")
    err(admin.get("/api/v1/skills", cursor="abc"), 400, "bad_request")


def test_users_queues_and_channels_list_and_delete(admin):
    s = skill(admin, "ListSkill")
    q = queue(admin, "ListQ", skill_id=s["id"])
    ch = make(admin, "/api/v1/channels", {"type": "webchat", "name": "W", "queue_id": q["id"]})
    u = user(admin, "lister")
    for path, obj in (("users", u), ("queues", q), ("channels", ch)):
        ids = [i["id"] for i in admin.get(f"/api/v1/{path}", limit=500).json()["items"]]
        assert obj["id"] in ids
    for path, obj in (("channels", ch), ("queues", q), ("users", u)):
        assert admin.delete(f"/api/v1/{path}/{obj['id']}").status_code == 204
        err(admin.get(f"/api/v1/{path}/{obj['id']}"), 404, "not_found")
    err(admin.patch("/api/v1/users/usr_nope", {"first_name": "x"}), 404, "not_found")


def test_queue_and_channel_round_trip_with_defaults(admin):
    s = skill(admin)
    t = team(admin)
    q = make(admin, "/api/v1/queues", {
        "name": "Support", "channel": "chat", "skill_id": s["id"], "priority": 10,
        "min_capacity": 50, "team_ids": [t["id"]], "max_concurrent_chats": 3,
        "widening": [{"after_s": 30, "min_capacity": 30}, {"after_s": 60, "min_capacity": 1}]})
    assert q["strategy"] == "longest_idle" and q["max_wait_s"] == 0
    assert q["widening"][1] == {"after_s": 60, "min_capacity": 1}
    r = admin.patch(f"/api/v1/queues/{q['id']}", {"team_ids": [], "strategy": "most_skilled"})
    assert r.json()["team_ids"] == [] and r.json()["strategy"] == "most_skilled"
    assert r.json()["widening"] == q["widening"]
    ch = make(admin, "/api/v1/channels", {
        "type": "telegram", "name": "TG", "queue_id": q["id"],
        "api_base_url": "http://127.0.0.1:9", "credentials": {"bot_token": "123:SECRETBOT",
                                                               "secret_token": "SECRETHOOK"}})
    assert "credentials" not in ch and ch["has_credentials"] is True
    assert ch["api_version"] == "v21.0"
    assert "SECRET" not in admin.get(f"/api/v1/channels/{ch['id']}").text
    assert "SECRET" not in admin.get("/api/v1/channels").text
    r = admin.patch(f"/api/v1/channels/{ch['id']}", {"name": "Telegram"})
    assert r.status_code == 200 and r.json()["has_credentials"] is True


def test_user_fields_round_trip_and_password_is_never_answered(admin):
    t = team(admin)
    sup = user(admin, "sup1", role="supervisor")
    u = user(admin, "anna", first_name="Anna", last_name="Kowalska", email="anna@example.com",
             phone="+48 600 000 000", description="opis", position="Konsultantka",
             agent_number="1001", supervisor_id=sup["id"], idle_timeout_s=900,
             phone_type="browser_softphone", sip_account="sip:1001@pbx", clip_number="+48221234567",
             rights={"contact_history": True, "print": False, "screenshot": True},
             agent={"enabled": True, "team_id": t["id"]})
    assert "password" not in u
    assert u["agent_number"] == "1001" and u["rights"]["screenshot"] is True
    assert u["agent"] == {"enabled": True, "team_id": t["id"]}
    assert u["archived"] is False and u["listen_mode"] == "none"
    r = admin.patch(f"/api/v1/users/{u['id']}", {"rights": {"print": True}, "position": None})
    assert r.status_code == 200, r.text
    assert r.json()["rights"]["print"] is True and r.json()["rights"]["screenshot"] is True
    assert "position" not in r.json() or r.json()["position"] is None
    for resp in (admin.get("/api/v1/users"), admin.get(f"/api/v1/users/{u['id']}")):
        assert "password" not in resp.text and "argon2" not in resp.text


# --- validation ---------------------------------------------------------------------

def test_user_validation(admin):
    base = {"login": "bob", "password": "password-bob", "role": "agent"}
    cases = [
        ({"password": "password-x", "role": "agent"}, "login"),
        ({"login": "bob", "role": "agent"}, "password"),
        ({"login": "bob", "password": "password-bob"}, "role"),
        ({**base, "role": "king"}, "role"),
        ({**base, "password": "short"}, "password"),
        ({**base, "login": "bad login!"}, "login"),
        ({**base, "idle_timeout_s": -1}, "idle_timeout_s"),
        ({**base, "idle_timeout_s": 1.5}, "idle_timeout_s"),
        ({**base, "phone_type": "fax"}, "phone_type"),
        ({**base, "listen_mode": "tel_uri"}, "listen_mode"),
        ({**base, "email": "nope"}, "email"),
        ({**base, "agent_number": "12 34"}, "agent_number"),
        ({**base, "supervisor_id": "usr_0000000000000000"}, "supervisor_id"),
        ({**base, "agent": {"enabled": True, "team_id": "team_nope"}}, "team_id"),
        ({**base, "callbacks_forward_to": "usr_nope"}, "callbacks_forward_to"),
        ({**base, "login": 5}, "login"),
        ({**base, "surname": "x"}, "surname"),
    ]
    for body, field in cases:
        msg = err(admin.post("/api/v1/users", body), 400, "bad_request")
        assert field in msg, (body, msg)
    admin_user = user(admin, "root2", role="admin", listen_mode="tel_uri")
    assert admin_user["listen_mode"] == "tel_uri"
    user(admin, "agent1", agent_number="77")
    err(admin.post("/api/v1/users", {**base, "login": "AGENT1"}), 409, "conflict")
    err(admin.post("/api/v1/users", {**base, "agent_number": "77"}), 409, "conflict")


def test_team_queue_and_catalog_validation(admin):
    s = skill(admin, "Voice")
    cases = [
        ("/api/v1/teams", {}, "name"),
        ("/api/v1/teams", {"name": "T", "wrap_up_time_s": -5}, "wrap_up_time_s"),
        ("/api/v1/teams", {"name": "T", "max_no_answer": 1000}, "max_no_answer"),
        ("/api/v1/teams", {"name": "T", "supervisor_ids": ["usr_x"]}, "supervisor_ids"),
        ("/api/v1/skills", {"description": "x"}, "name"),
        ("/api/v1/skills", {"name": "x" * 101}, "name"),
        ("/api/v1/queues", {"name": "Q", "skill_id": s["id"]}, "channel"),
        ("/api/v1/queues", {"name": "Q", "channel": "fax", "skill_id": s["id"]}, "channel"),
        ("/api/v1/queues", {"name": "Q", "channel": "chat"}, "skill_id"),
        ("/api/v1/queues", {"name": "Q", "channel": "chat", "skill_id": "skl_x"}, "skill_id"),
        ("/api/v1/queues", {"name": "Q", "channel": "chat", "skill_id": s["id"],
                            "strategy": "ring_all"}, "ring_all"),
        ("/api/v1/queues", {"name": "Q", "channel": "chat", "skill_id": s["id"],
                            "min_capacity": 101}, "min_capacity"),
        ("/api/v1/queues", {"name": "Q", "channel": "call", "skill_id": s["id"],
                            "priority": 101}, "priority"),
        ("/api/v1/queues", {"name": "Q", "channel": "call", "skill_id": s["id"],
                            "max_concurrent_chats": 2}, "max_concurrent_chats"),
        ("/api/v1/queues", {"name": "Q", "channel": "chat", "skill_id": s["id"], "min_capacity": 50,
                            "widening": [{"after_s": 30, "min_capacity": 60}]}, "widening"),
        ("/api/v1/queues", {"name": "Q", "channel": "chat", "skill_id": s["id"],
                            "widening": [{"after_s": 30, "min_capacity": 1},
                                         {"after_s": 10, "min_capacity": 1}]}, "widening"),
        ("/api/v1/queues", {"name": "Q", "channel": "chat", "skill_id": s["id"],
                            "team_ids": ["team_x"]}, "team_ids"),
        ("/api/v1/pause-causes", {"name": "P", "limit_minutes_per_day": 2000},
         "limit_minutes_per_day"),
        ("/api/v1/quick-replies", {"name": "Hi"}, "text"),
        ("/api/v1/quick-replies", {"name": "Hi", "text": "t", "queue_ids": ["que_x"]},
         "queue_ids"),
        ("/api/v1/results", {}, "name"),
        ("/api/v1/channels", {"type": "viber", "name": "V"}, "queue_id"),
    ]
    for path, body, field in cases:
        msg = err(admin.post(path, body), 400, "bad_request")
        assert field in msg, (path, body, msg)
    chat_q = queue(admin, "Chat", skill_id=s["id"])
    call_q = queue(admin, "Call", skill_id=s["id"], channel="call", strategy="ring_all")
    ch = {"type": "viber", "name": "V", "queue_id": chat_q["id"],
          "api_base_url": "http://127.0.0.1:9"}
    assert "auth_token" in err(admin.post("/api/v1/channels", ch), 400, "bad_request")
    assert "chat queue" in err(admin.post("/api/v1/channels", {
        **ch, "queue_id": call_q["id"], "credentials": {"auth_token": "t"}}), 400, "bad_request")
    assert "api_base_url" in err(admin.post("/api/v1/channels", {
        **ch, "api_base_url": "ftp://x", "credentials": {"auth_token": "t"}}), 400, "bad_request")
    make(admin, "/api/v1/channels", {**ch, "credentials": {"auth_token": "t"}})
    err(admin.post("/api/v1/skills", {"name": "VOICE"}), 409, "conflict")
    err(admin.post("/api/v1/queues", {"name": "chat", "channel": "chat", "skill_id": s["id"]}),
        409, "conflict")


def test_agent_skills_capacity_and_active(admin):
    s1, s2 = skill(admin, "A"), skill(admin, "B")
    a = user(admin, "ag")
    r = admin.put(f"/api/v1/agents/{a['id']}/skills/{s1['id']}", {"capacity": 80, "active": True})
    assert r.status_code == 200, r.text
    assert r.json()["capacity"] == 80
    admin.put(f"/api/v1/agents/{a['id']}/skills/{s2['id']}", {"capacity": 10, "active": False})
    items = admin.get(f"/api/v1/agents/{a['id']}/skills").json()["items"]
    assert sorted((i["name"], i["capacity"], i["active"]) for i in items) == [
        ("A", 80, True), ("B", 10, False)]
    assert all(set(i) >= {"skill_id", "name", "capacity", "active"} for i in items)
    for bad in ({"capacity": 0}, {"capacity": 101}, {}, {"capacity": "high"}):
        err(admin.put(f"/api/v1/agents/{a['id']}/skills/{s1['id']}", bad), 400, "bad_request")
    err(admin.put(f"/api/v1/agents/{a['id']}/skills/skl_nope", {"capacity": 5}), 404, "not_found")
    err(admin.put(f"/api/v1/agents/usr_nope/skills/{s1['id']}", {"capacity": 5}), 404,
        "not_found")
    assert admin.delete(f"/api/v1/agents/{a['id']}/skills/{s2['id']}").status_code == 204
    assert len(admin.get(f"/api/v1/agents/{a['id']}/skills").json()["items"]) == 1
    assert admin.delete(f"/api/v1/skills/{s1['id']}").status_code == 204  # cascades
    assert admin.get(f"/api/v1/agents/{a['id']}/skills").json()["items"] == []


def test_callback_forwarding_needs_a_shared_queue(admin):
    s = skill(admin, "Callbacks")
    queue(admin, "CBQ", skill_id=s["id"], channel="call")
    a, b, c = user(admin, "fa"), user(admin, "fb"), user(admin, "fc")
    for u in (a, b):
        admin.put(f"/api/v1/agents/{u['id']}/skills/{s['id']}", {"capacity": 50})
    r = admin.patch(f"/api/v1/users/{a['id']}", {"callbacks_forward_to": b["id"]})
    assert r.status_code == 200 and r.json()["callbacks_forward_to"] == b["id"]
    msg = err(admin.patch(f"/api/v1/users/{a['id']}", {"callbacks_forward_to": c["id"]}), 400,
              "bad_request")
    assert "shares no queue" in msg


# --- deletes --------------------------------------------------------------------------

def test_deletes_refuse_references_and_cascade_dependents(admin):
    s = skill(admin, "Ref")
    t = team(admin, "RefTeam")
    q = queue(admin, "RefQ", skill_id=s["id"], team_ids=[t["id"]])
    err(admin.delete(f"/api/v1/skills/{s['id']}"), 409, "conflict")
    err(admin.delete(f"/api/v1/teams/{t['id']}"), 409, "conflict")
    qr = make(admin, "/api/v1/quick-replies", {"name": "Bye", "text": "bye", "queue_ids": [q["id"]]})
    ch = make(admin, "/api/v1/channels", {"type": "webchat", "name": "Web", "queue_id": q["id"]})
    err(admin.delete(f"/api/v1/queues/{q['id']}"), 409, "conflict")
    assert admin.delete(f"/api/v1/channels/{ch['id']}").status_code == 204
    assert admin.delete(f"/api/v1/queues/{q['id']}").status_code == 204
    assert admin.get(f"/api/v1/quick-replies/{qr['id']}").json()["queue_ids"] == []
    assert admin.delete(f"/api/v1/skills/{s['id']}").status_code == 204
    member = user(admin, "member", agent={"enabled": True, "team_id": t["id"]})
    err(admin.delete(f"/api/v1/teams/{t['id']}"), 409, "conflict")
    r = admin.patch(f"/api/v1/users/{member['id']}", {"agent": {"team_id": None}})
    assert r.json()["agent"] == {"enabled": True, "team_id": None}  # a nested null clears
    assert admin.delete(f"/api/v1/teams/{t['id']}").status_code == 204
    sup = user(admin, "boss", role="supervisor")
    user(admin, "worker", supervisor_id=sup["id"])
    err(admin.delete(f"/api/v1/users/{sup['id']}"), 409, "conflict")
    causes = admin.get("/api/v1/pause-causes").json()["items"]
    no_answer = [c for c in causes if c["name"] == "no answer"]
    assert len(no_answer) == 1 and no_answer[0]["system"] is True
    err(admin.delete(f"/api/v1/pause-causes/{no_answer[0]['id']}"), 409, "conflict")
    err(admin.patch(f"/api/v1/pause-causes/{no_answer[0]['id']}", {"name": "x"}), 409, "conflict")
    r = admin.patch(f"/api/v1/pause-causes/{no_answer[0]['id']}", {"limit_minutes_per_day": 60})
    assert r.status_code == 200 and r.json()["system"] is True


def test_permission_settings_defaults_and_update(admin):
    p = admin.get("/api/v1/settings/permissions").json()
    assert p["supervisor"] == {
        "config_portal": False, "limit_to_assigned_queues": True, "view_queue_settings": True,
        "manage_queue_settings": False, "view_pause_causes": True, "manage_pause_causes": False,
        "view_skills": True, "manage_skills": False}
    assert p["agent"] == {"manage_prerecorded": False, "manage_public_canned": False,
                          "custom_chat_tags": False, "call_dispositions": False}
    assert p["organisation"] == {"agents_may_join_unassigned_queues": False, "time_zone": "UTC"}
    r = admin.put("/api/v1/settings/permissions",
                  {"supervisor": {"manage_skills": True, "view_queue_settings": False}})
    assert r.status_code == 200, r.text
    assert r.json()["supervisor"]["manage_skills"] is True
    assert r.json()["supervisor"]["view_queue_settings"] is True  # cannot be removed
    assert admin.get("/api/v1/settings/permissions").json() == r.json()
    err(admin.put("/api/v1/settings/permissions", {"supervisor": {"manage_skills": "yes"}}), 400,
        "bad_request")


BLANKS = ["   ", "\t\n", "\u00a0\u3000", "\u200b"]


def test_blank_names_are_refused_everywhere(admin):
    """A name of nothing but white space (ASCII or Unicode) is 400 on create
    and update, for every kind; optional text that is not a name may be
    blank."""
    s = skill(admin, "Support")
    t = team(admin, "Day")
    q = queue(admin, "Main", skill_id=s["id"])
    u = user(admin, "olga")
    creates = [
        ("/api/v1/teams", {}), ("/api/v1/skills", {}), ("/api/v1/results", {}),
        ("/api/v1/queues", {"channel": "chat", "skill_id": s["id"]}),
        ("/api/v1/pause-causes", {}),
        ("/api/v1/quick-replies", {"text": "Hello"}),
        ("/api/v1/channels", {"type": "webchat", "queue_id": q["id"], "credentials": {}}),
    ]
    for blank in BLANKS:
        for path, body in creates:
            msg = err(admin.post(path, {"name": blank, **body}), 400, "bad_request")
            assert msg == "name: must not be blank", (path, repr(blank), msg)
        for path, obj in (("/api/v1/teams", t), ("/api/v1/skills", s), ("/api/v1/queues", q)):
            assert err(admin.patch(f"{path}/{obj['id']}", {"name": blank}), 400, "bad_request") == \
                "name: must not be blank"
        assert err(admin.post("/api/v1/users", {"login": blank, "password": "password-x", "role": "agent"}),
                   400, "bad_request") == "login: must not be blank"
        for f in ("first_name", "last_name"):
            assert err(admin.patch(f"/api/v1/users/{u['id']}", {f: blank}), 400, "bad_request") == \
                f"{f}: must not be blank"
        assert err(admin.post("/api/v1/quick-replies", {"name": "Hi", "text": blank}), 400, "bad_request") == \
            "text: must not be blank"
    # names with spaces inside, and blank optional text that is not a name, are fine
    assert admin.patch(f"/api/v1/teams/{t['id']}", {"name": " Night  shift "}).status_code == 200
    assert admin.patch(f"/api/v1/skills/{s['id']}", {"description": "  "}).status_code == 200
    # a password is not text: spaces count (8 of them is 8 characters)
    assert admin.patch(f"/api/v1/users/{u['id']}", {"password": " " * 8}).status_code == 200
    assert admin.get(f"/api/v1/teams/{t['id']}").json()["name"] == " Night  shift "
