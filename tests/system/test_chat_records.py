"""chat-gateway publishes every version of a chat to the RECORDS stream (records.proto,
SPEC section 7a: crm-sync writes every chat record as it changes): a web chat through
offer, accept, the first reply, result and links, End chat gives versions 1..n in order,
each Nats-Msg-Id "<id>:<version>", the last one completed; versions a failed publish left
behind reach the stream from the sweeper once it can take them."""
import time

from natslite import Nats, RECORD, pb_decode
from test_chat_webchat import Customer, desk, offered_chat  # noqa: F401 (fixture)
from test_routing import wait_until
from harness import key

RECORDS_CONFIG = {"name": "RECORDS", "subjects": ["cc.records.>"], "storage": "file",
                  "max_age": 14 * 86400 * 10**9, "duplicate_window": 120 * 10**9}


def chat_records(nats, chat_id):
    """The chat's records in stream order: [(msg id, Record as dict)]."""
    msgs = nats.stream_messages("RECORDS", f"cc.records.chat.{chat_id}")
    return [(m["headers"].get("Nats-Msg-Id"), pb_decode(m["data"], RECORD)) for m in msgs]


def wait_records(nats, chat_id, pred, timeout=10):
    return wait_until(lambda: (lambda rs: rs if pred(rs) else None)(chat_records(nats, chat_id)),
                      timeout=timeout)


def test_every_chat_change_is_a_new_version_in_records(desk, cluster):
    agent, chat_base = desk["agent"], desk["chat"].base
    nats = Nats(cluster.nats.port)
    try:
        info = nats.js_api("STREAM.INFO.RECORDS")["config"]
        assert info["subjects"] == ["cc.records.>"] and info["storage"] == "file"
        cust = Customer(chat_base, desk["channel"]["id"], name="Ola")
        cust.say("Hello")
        chat_id = offered_chat(agent)
        assert agent.post(f"/api/v1/chats/{chat_id}/accept").status_code == 200
        assert agent.post(f"/api/v1/chats/{chat_id}/messages", {"text": "Hi"}).status_code == 200
        p = agent.patch(f"/api/v1/chats/{chat_id}", {"result_details": "Invoice sent",
                                                      "links": {"case_id": "CASE-1"}})
        assert p.status_code == 200, p.text
        assert agent.post(f"/api/v1/chats/{chat_id}/end").status_code == 200
        recs = wait_records(nats, chat_id, lambda rs: rs and rs[-1][1]["chat"].get("end_time"))
        versions = [r["version"] for _, r in recs]
        assert versions == list(range(1, len(versions) + 1)), versions
        assert [mid for mid, _ in recs] == [f"{chat_id}:{v}" for v in versions]
        chats = [r["chat"] for _, r in recs]
        assert all(r["kind"] == "chat" and r["id"] == chat_id and r["changed_at"]
                   for _, r in recs)
        # opened, queue named, offered, accepted, in progress, result and links, completed
        assert chats[0]["state"] == "new" and chats[0]["name"] == "Ola"
        assert any(c.get("queue_name") == "Web" for c in chats)
        assert any(c.get("offered_to") == desk["agent_id"] and "agent_id" not in c
                   for c in chats)
        accepted = next(i for i, c in enumerate(chats) if c.get("agent_id"))
        assert chats[accepted]["start_time"] and "offered_to" not in chats[accepted]
        states = [c["state"] for c in chats]
        assert states.index("in_progress") > accepted
        assert states[-1] == "completed" and states.count("completed") == 1
        last = chats[-1]
        assert last["result_details"] == "Invoice sent" and last["links"]["case_id"] == "CASE-1"
        assert last["end_time"] and last["agent_id"] == desk["agent_id"]
        times = [r["changed_at"] for _, r in recs]
        assert times == sorted(times)
        # nothing is left waiting for the sweeper
        assert cluster.redis.cli("ZCARD", key("records:pending")) == "0"
    finally:
        nats.close()


def test_versions_missed_while_records_cannot_take_them_arrive_from_the_sweeper(desk,
                                                                                 cluster):
    agent, chat_base = desk["agent"], desk["chat"].base
    nats = Nats(cluster.nats.port)
    try:
        cust = Customer(chat_base, desk["channel"]["id"])
        cust.say("Hello")
        chat_id = offered_chat(agent)
        assert agent.post(f"/api/v1/chats/{chat_id}/accept").status_code == 200
        wait_records(nats, chat_id, lambda rs: rs and rs[-1][1]["chat"].get("agent_id"))
        # the stream is gone: the agent's actions still succeed, the chat waits as pending
        assert nats.js_api("STREAM.DELETE.RECORDS").get("success") is True
        t0 = time.time()
        assert agent.patch(f"/api/v1/chats/{chat_id}",
                           {"result_details": "while the stream was away"}).status_code == 200
        assert agent.post(f"/api/v1/chats/{chat_id}/end").status_code == 200
        assert time.time() - t0 < 5
        assert cluster.redis.cli("ZSCORE", key("records:pending"), chat_id) != ""
        version = int(cluster.redis.cli("HGET", key(f"chat:{chat_id}"), "version"))
        # the stream is back: the sweeper publishes the chat's latest version
        ans = nats.js_api("STREAM.CREATE.RECORDS", RECORDS_CONFIG)
        assert "error" not in ans, ans
        recs = wait_records(nats, chat_id, lambda rs: rs and rs[-1][1]["version"] == version)
        last = recs[-1][1]["chat"]
        assert last["state"] == "completed" and last["result_details"] == \
            "while the stream was away"
        assert recs[-1][0] == f"{chat_id}:{version}"
        wait_until(lambda: cluster.redis.cli("ZCARD", key("records:pending")) == "0", timeout=5)
    finally:
        nats.close()
