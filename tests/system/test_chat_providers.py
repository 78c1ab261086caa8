"""chat-gateway against local stand-ins of Telegram, Viber, Infobip
WhatsApp, WhatsApp Cloud and Messenger: real webhook bodies signed as each
provider signs them, the chat they open, the agent's reply sent to the
provider's real path with its auth, duplicates, refusals, files both ways,
a provider down then back, and a permanent failure."""
import json
import time

import pytest
import requests

from harness import Api, start_stack
from providers import PROVIDERS, SEND_AUTH, SEND_PATH, StandIn, fixture, sign
from test_chat_webchat import PNG, offered_chat
from test_registry_objects import make, skill, team, user
from test_routing import wait_until

# the text each provider's text.json carries
TEXTS = {
    "telegram": "Dzień dobry! Zażółć gęślą jaźń 😀",
    "viber": "¡Hola! ¿Me ayudan con la factura? 🙏",
    "infobip_whatsapp": "Buenos días, ¿cuándo llega mi pedido? 📦",
    "messenger": "Cześć! Czy sklep jest otwarty w niedzielę? 🛒",
}


@pytest.fixture
def shop(cluster):
    standin = StandIn()
    admin = start_stack(cluster)
    cluster.start("skill-router")
    chat = cluster.start("chat-gateway", env={"CC_PUBLIC_URL": "self"})
    t = team(admin, "Chats", chat_invite_timeout_s=30, wrap_up_time_s=0)
    s = skill(admin, "Chat")
    q = make(admin, "/api/v1/queues", {"name": "Chat", "channel": "chat", "skill_id": s["id"],
                                       "max_concurrent_chats": 5})
    channels = {}
    for ptype, (_, _, cred) in PROVIDERS.items():
        channels[ptype] = make(admin, "/api/v1/channels", {
            "type": ptype, "name": ptype.title(), "queue_id": q["id"], "api_base_url": standin.base,
            "credentials": cred})
    u = user(admin, "pia", agent={"enabled": True, "team_id": t["id"]})
    admin.put(f"/api/v1/agents/{u['id']}/skills/{s['id']}", {"capacity": 50})
    agent = Api(admin.base).login("pia", "password-pia")
    agent.put("/api/v1/me/status", {"status": "callcenter"})
    yield {"admin": admin, "agent": agent, "chat": chat, "channels": channels, "standin": standin,
           "cluster": cluster}
    standin.close()


def hook(shop, ptype, body, headers=None, signed=True):
    path = PROVIDERS[ptype][0]
    h = {"Content-Type": "application/json", **(sign(ptype, body) if signed else {}),
         **(headers or {})}
    return requests.post(f"{shop['chat'].base}/webhooks/{path}/{shop['channels'][ptype]['id']}",
                         data=body, headers=h, timeout=10)


def history(shop):
    return shop["admin"].get("/api/v1/chats", view="history").json()["items"]


def accept_one(shop):
    agent = shop["agent"]
    chat_id = offered_chat(agent)
    assert agent.post(f"/api/v1/chats/{chat_id}/accept").status_code == 200
    return chat_id


def messages(shop, chat_id):
    return shop["agent"].get(f"/api/v1/chats/{chat_id}/messages").json()["items"]


def delivery(shop, chat_id, msg_id, want):
    return wait_until(lambda: next((m for m in messages(shop, chat_id)
                                    if m["id"] == msg_id and m["delivery"] == want), None),
                      timeout=15)


@pytest.mark.parametrize("ptype", sorted(PROVIDERS))
def test_inbound_text_then_reply_through_the_provider(shop, ptype):
    body = fixture(ptype, "text")
    r = hook(shop, ptype, body)
    assert r.status_code == 200, r.text
    assert hook(shop, ptype, body).status_code == 200  # the provider's retry
    chat_id = accept_one(shop)
    c = shop["agent"].get(f"/api/v1/chats/{chat_id}").json()
    assert c["source"] == ptype and c["channel_id"] == shop["channels"][ptype]["id"]
    ms = messages(shop, chat_id)
    assert len(ms) == 1 and ms[0]["direction"] == "in" and ms[0]["delivery"] == "received"
    if ptype in TEXTS:
        assert ms[0]["text"] == TEXTS[ptype]
    sent = shop["agent"].post(f"/api/v1/chats/{chat_id}/messages", {"text": "Gracias 👍 dziękujemy"})
    assert sent.status_code == 200 and sent.json()["delivery"] == "pending"
    done = delivery(shop, chat_id, sent.json()["id"], "sent")
    assert done["provider_message_id"]
    (req,) = shop["standin"].sent(SEND_PATH[ptype])
    assert "Gracias 👍 dziękujemy" in req["body"].decode("utf-8")
    assert c["from"] in req["body"].decode("utf-8") or c["from"] in req["path"]
    if SEND_AUTH[ptype]:
        name, value = SEND_AUTH[ptype]
        assert req["headers"].get(name) == value
    assert len(messages(shop, chat_id)) == 2


@pytest.mark.parametrize("ptype", sorted(PROVIDERS))
def test_bad_webhooks_store_nothing(shop, ptype):
    body = fixture(ptype, "text")
    assert hook(shop, ptype, body, signed=False).status_code == 401
    wrong = {k: v[:-2] + "00" for k, v in sign(ptype, body).items()}
    assert hook(shop, ptype, body, headers=wrong).status_code == 401
    assert hook(shop, ptype, body[:-3]).status_code == 400
    assert hook(shop, ptype, b'{"nothing": "here"}').status_code == 400
    big = b'{"pad": "' + b"x" * (1 << 20) + b'"}'
    assert hook(shop, ptype, big).status_code == 413
    other = "viber" if ptype != "viber" else "telegram"
    r = requests.post(f"{shop['chat'].base}/webhooks/{PROVIDERS[other][0]}/"
                      f"{shop['channels'][ptype]['id']}", data=body, timeout=5,
                      headers=sign(other, body))
    assert r.status_code == 404
    time.sleep(0.3)
    assert history(shop) == []


def test_meta_subscription_check(shop):
    for ptype, token in (("whatsapp_cloud", "wa-verify"), ("messenger", "fb-verify")):
        url = f"{shop['chat'].base}/webhooks/{PROVIDERS[ptype][0]}/{shop['channels'][ptype]['id']}"
        ok = requests.get(url, params={"hub.mode": "subscribe", "hub.verify_token": token,
                                       "hub.challenge": "1158201444"}, timeout=5)
        assert ok.status_code == 200 and ok.text == "1158201444"
        assert ok.headers["Content-Type"].startswith("text/plain")
        bad = requests.get(url, params={"hub.mode": "subscribe", "hub.verify_token": "nope",
                                        "hub.challenge": "1"}, timeout=5)
        assert bad.status_code == 403


def test_inbound_files_are_fetched_and_linked(shop):
    standin = shop["standin"]
    standin.files["/media/photo.png"] = PNG
    body = json.loads(fixture("viber", "picture"))
    body["message"]["media"] = standin.base + "/media/photo.png"
    raw = json.dumps(body).encode()
    assert hook(shop, "viber", raw).status_code == 200
    chat_id = accept_one(shop)
    (m,) = messages(shop, chat_id)
    (att,) = m["attachments"]
    assert att["kind"] == "image" and att["mime"] == "image/png" and att["file_id"]
    got = requests.get(att["url"], timeout=5)
    assert got.status_code == 200 and got.content == PNG
    # Telegram: getFile, then /file/bot<token>/<file_path>
    standin.files["/file/bot123456:ABC-token/photos/file_1.jpg"] = PNG
    assert hook(shop, "telegram", fixture("telegram", "photo")).status_code == 200
    tg = wait_until(lambda: next((c for c in history(shop) if c["source"] == "telegram"), None))
    att = wait_until(lambda: shop["admin"].get(f"/api/v1/chats/{tg['id']}/messages")
                     .json()["items"])[0]["attachments"][0]
    assert att["file_id"] and requests.get(att["url"], timeout=5).content == PNG


def loopback_name():
    """A name (not localhost) that /etc/hosts gives a loopback address, or None."""
    try:
        with open("/etc/hosts") as f:
            for line in f:
                words = line.split("#")[0].split()
                if len(words) > 1 and (words[0].startswith("127.") or words[0] == "::1"):
                    for name in words[1:]:
                        if "localhost" not in name and all(c.isalnum() or c in ".-" for c in name):
                            return name
    except OSError:
        pass
    return None


def test_inbound_files_only_from_the_channels_media_hosts(shop):
    """SSRF (issue 16): a signed webhook naming a URL elsewhere (loopback
    included), a redirect there, or a media host that resolves to an internal
    address stores the message with the file marked unavailable and fetches
    nothing; a redirect within the channel's API origin is followed."""
    standin, chat = shop["standin"], shop["chat"]
    victim = StandIn()  # an internal service on another port of 127.0.0.1
    victim.files["/secret"] = b"internal metrics"
    standin.files["/media/photo.png"] = PNG
    standin.redirects["/away"] = victim.base + "/secret"
    standin.redirects["/here"] = standin.base + "/media/photo.png"
    body = json.loads(fixture("viber", "picture"))
    token = [body["message_token"]]

    def picture(media):
        token[0] += 1
        body["message_token"], body["message"]["media"] = token[0], media
        assert hook(shop, "viber", json.dumps(body).encode()).status_code == 200
        return wait_until(lambda: next((m for c in history(shop) for m in shop["admin"].get(
            f"/api/v1/chats/{c['id']}/messages").json()["items"]
            if m["provider_message_id"] == str(token[0])), None), timeout=10)

    try:
        m = picture(victim.base + "/secret")
        (att,) = m["attachments"]
        assert m["text"] == "Foto del daño"  # the customer's message is kept
        assert not att.get("url") and not att.get("file_id") and not att.get("provider_ref")
        assert att["unavailable"].startswith("refused"), att
        m = picture(standin.base + "/away")  # a redirect out of the channel's origin
        assert "refused" in m["attachments"][0]["unavailable"]
        m = picture(f"http://localhost:{standin.base.rsplit(':', 1)[1]}/media/photo.png")
        assert "refused" in m["attachments"][0]["unavailable"]  # another host than the API's
        m = picture(standin.base + "/here")  # a redirect within it is followed
        att = m["attachments"][0]
        assert att["file_id"] and requests.get(att["url"], timeout=5).content == PNG
        assert victim.requests == []
        # a media host that resolves to an internal address is refused after resolution
        name = loopback_name()
        if name:
            ch = shop["channels"]["viber"]["id"]
            r = shop["admin"].patch(f"/api/v1/channels/{ch}", {"media_hosts": [name]})
            assert r.status_code == 200 and r.json()["media_hosts"] == [name.lower()]
            wait_until(lambda: "resolves to" in (picture(f"https://{name}/secret")
                                                 ["attachments"][0]["unavailable"]), timeout=10)
        metrics = requests.get(f"{chat.base}/metrics", timeout=5).text
        assert 'cc_chat_media_fetches_total{result="refused"}' in metrics
        # a file over the cap is not kept, the message is
        chat.stop()
        chat.env["CC_FILE_MAX_BYTES"] = "4096"
        chat.start().wait_ready()
        standin.files["/media/big.bin"] = b"x" * 5000
        m = picture(standin.base + "/media/big.bin")
        assert m["attachments"][0]["unavailable"].startswith("larger than"), m
        # media hosts are names, never addresses or localhost
        for bad in ("127.0.0.1", "localhost", "a.localhost", "https://cdn.example.com",
                    "cdn.example.com:443", "*", "[::1]", "10.0.0.1"):
            r = shop["admin"].patch(f"/api/v1/channels/{shop['channels']['viber']['id']}",
                                    {"media_hosts": [bad]})
            assert r.status_code == 400 and "media_hosts" in r.text, (bad, r.text)
    finally:
        victim.close()


def test_a_slow_file_is_cut_off_and_the_message_kept(shop):
    """A file that does not arrive within CC_MEDIA_TIMEOUT_MS is tried again
    with the message's redelivery (5 tries), then the message is stored with
    the file marked unavailable."""
    standin, chat = shop["standin"], shop["chat"]
    chat.stop()
    chat.env["CC_MEDIA_TIMEOUT_MS"] = "300"
    chat.start().wait_ready()
    standin.files["/media/slow.png"] = PNG
    standin.delays["/media/slow.png"] = 5
    body = json.loads(fixture("viber", "picture"))
    body["message"]["media"] = standin.base + "/media/slow.png"
    started = time.time()
    assert hook(shop, "viber", json.dumps(body).encode()).status_code == 200
    chat_id = wait_until(lambda: next((c["id"] for c in history(shop)), None), timeout=45)
    elapsed = time.time() - started
    (m,) = shop["admin"].get(f"/api/v1/chats/{chat_id}/messages").json()["items"]
    att = m["attachments"][0]
    assert m["text"] == "Foto del daño" and not att.get("url")
    assert att["unavailable"] == "not fetched: the provider did not answer", att
    tries = [r for r in standin.requests if r["path"] == "/media/slow.png"]
    assert len(tries) == 5, len(tries)
    assert elapsed < 25  # 5 tries of 0.3 s, 2 s apart (about 10 s), not 5 of 5 s and more


def test_outbound_file_provider_down_and_permanent_failure(shop):
    standin, agent = shop["standin"], shop["agent"]
    assert hook(shop, "telegram", fixture("telegram", "text")).status_code == 200
    chat_id = accept_one(shop)
    up = agent.call("POST", "/api/v1/files", raw=PNG, name="scan.png").json()
    m = agent.post(f"/api/v1/chats/{chat_id}/messages", {"file_id": up["id"], "text": "Proszę"})
    delivery(shop, chat_id, m.json()["id"], "sent")
    (photo,) = standin.sent("/sendPhoto")
    sent = json.loads(photo["body"])
    assert sent["photo"].startswith(shop["chat"].base + "/files/") and sent["caption"] == "Proszę"
    assert requests.get(sent["photo"], timeout=5).content == PNG  # what the provider fetches
    # the provider is down twice, then back: sent once it answers
    standin.script = [(503, b'{"ok":false,"error_code":503,"description":"down"}')] * 2
    m = agent.post(f"/api/v1/chats/{chat_id}/messages", {"text": "retry me"})
    delivery(shop, chat_id, m.json()["id"], "sent")
    assert len([r for r in standin.sent("/sendMessage") if b"retry me" in r["body"]]) == 3
    # a refusal: failed with the provider's reason, never retried
    standin.script = [(403, fixture("telegram", "send_blocked"))]
    m = agent.post(f"/api/v1/chats/{chat_id}/messages", {"text": "blocked"})
    failed = delivery(shop, chat_id, m.json()["id"], "failed")
    assert "blocked" in failed["delivery_error"]
    time.sleep(1.5)
    assert len([r for r in standin.sent("/sendMessage") if b"blocked" in r["body"]]) == 1
    # a redirect is not followed: the bot token and the text go nowhere else
    elsewhere = StandIn()
    try:
        standin.redirects["/bot123456:ABC-token/sendMessage"] = elsewhere.base + "/steal"
        m = agent.post(f"/api/v1/chats/{chat_id}/messages", {"text": "not elsewhere"})
        failed = delivery(shop, chat_id, m.json()["id"], "failed")
        assert "302" in failed["delivery_error"], failed
        assert elsewhere.requests == []
    finally:
        elsewhere.close()
