"""Nothing answered 2xx is lost: a stream of Telegram webhooks over several
conversations while chat-gateway is killed with kill -9 and restarted, and
another while NATS is restarted. The stand-in provider retries every webhook
until it gets a 2xx, as Telegram does; afterwards every message appears
exactly once in its chat, in the order it was sent."""
import json
import threading
import time

import pytest
import requests

from harness import start_stack
from providers import PROVIDERS, sign
from test_registry_objects import make, skill

CONVERSATIONS = 5
PER_CONVERSATION = 60


@pytest.fixture
def line(cluster):
    admin = start_stack(cluster)
    chat = cluster.start("chat-gateway", env={"CC_PUBLIC_URL": "self"})
    s = skill(admin, "Faults")
    q = make(admin, "/api/v1/queues", {"name": "Faults", "channel": "chat", "skill_id": s["id"]})
    ch = make(admin, "/api/v1/channels", {"type": "telegram", "name": "Bot", "queue_id": q["id"],
                                         "api_base_url": "http://127.0.0.1:9",
                                         "credentials": PROVIDERS["telegram"][2]})
    return {"admin": admin, "chat": chat, "channel": ch["id"], "cluster": cluster}


def update(conv, n):
    """Telegram update n of conversation conv."""
    chat_id = 7000 + conv
    return json.dumps({"update_id": conv * 1000 + n, "message": {
        "message_id": n, "date": 1700000000 + n,
        "from": {"id": chat_id, "is_bot": False, "first_name": f"Klient {conv}"},
        "chat": {"id": chat_id, "type": "private", "first_name": f"Klient {conv}"},
        "text": f"c{conv} m{n} żółć 😀"}}).encode()


def send_all(line, answered):
    """Each conversation in its own thread, in order, retrying until 2xx."""
    url = f"{line['chat'].base}/webhooks/telegram/{line['channel']}"

    def conversation(conv):
        for n in range(PER_CONVERSATION):
            body = update(conv, n)
            while True:
                try:
                    r = requests.post(url, data=body, timeout=5, headers={
                        "Content-Type": "application/json", **sign("telegram", body)})
                    if 200 <= r.status_code < 300:
                        answered.append((conv, n))
                        break
                except requests.RequestException:
                    pass
                time.sleep(0.1)
            time.sleep(0.01)

    threads = [threading.Thread(target=conversation, args=(c,)) for c in range(CONVERSATIONS)]
    for t in threads:
        t.start()
    return threads


def check(line, answered, first_n):
    """Every answered message once in its conversation's chat, in order."""
    admin = line["admin"]

    def texts():
        chats = admin.get("/api/v1/chats", view="history").json()["items"]
        out = {}
        for c in chats:
            ms = admin.get(f"/api/v1/chats/{c['id']}/messages").json()["items"]
            out.setdefault(c["from"], []).extend(m["text"] for m in ms)
        return out

    deadline = time.time() + 30
    while True:
        got = texts()
        if sum(len(v) for v in got.values()) >= len(answered) or time.time() > deadline:
            break
        time.sleep(0.3)
    assert len(got) == CONVERSATIONS
    for conv in range(CONVERSATIONS):
        want = [f"c{conv} m{n} żółć 😀" for n in range(first_n, PER_CONVERSATION)]
        have = [t for t in got[str(7000 + conv)] if t in want]
        assert have == want, (conv, have[:5], len(have))
        assert len(got[str(7000 + conv)]) == len(set(got[str(7000 + conv)]))  # exactly once


def test_chat_gateway_killed_mid_stream_loses_nothing(line):
    answered = []
    threads = send_all(line, answered)
    while len(answered) < CONVERSATIONS * PER_CONVERSATION // 3:
        time.sleep(0.02)
    line["chat"].kill9()
    time.sleep(0.5)
    line["chat"].start().wait_ready()
    for t in threads:
        t.join(120)
    assert len(answered) == CONVERSATIONS * PER_CONVERSATION
    check(line, answered, 0)


def test_nats_restarted_mid_stream_loses_nothing(line):
    answered = []
    threads = send_all(line, answered)
    while len(answered) < CONVERSATIONS * PER_CONVERSATION // 3:
        time.sleep(0.02)
    nats = line["cluster"].nats
    nats.kill9()
    time.sleep(1)
    nats.start()
    for t in threads:
        t.join(120)
    assert len(answered) == CONVERSATIONS * PER_CONVERSATION
    check(line, answered, 0)
