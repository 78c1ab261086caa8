"""crm-sync records out: chat and call records from the RECORDS stream into the stand-in
Creatio (creatio.md section 8), created once and updated as they change, idempotent on
the interaction id under retries, CRM faults, session expiry and kill -9."""
import pytest

import creatio_standin as cs
from crm_helpers import call, chat, crm_env, publish, rows, wait_for
from harness import key


@pytest.fixture
def standin():
    st = cs.Standin(page_size=2).start()
    yield st
    st.stop()


def chats(st, cid):
    return rows(st, "UsrChat", "UsrExternalId", cid)


def test_chat_record_created_once_then_updated_to_the_newest_version(cluster, standin):
    cluster.start("crm-sync", env=crm_env(standin))
    publish(cluster, [chat("cht_a1", 1)])
    got = wait_for(lambda: chats(standin, "cht_a1"))
    assert len(got) == 1 and got[0]["UsrState"] == "New"
    assert got[0]["UsrFrom"] == "telegram:559912" and got[0]["UsrQueue"] == "Support L1"
    publish(cluster, [chat("cht_a1", 2, "in_progress"), chat("cht_a1", 3, "completed")])
    got = wait_for(lambda: [r for r in chats(standin, "cht_a1") if r["UsrState"] == "Completed"])
    assert len(chats(standin, "cht_a1")) == 1
    assert got[0]["UsrResultDetails"] == "Password reset" and got[0]["UsrEndDate"]


def test_an_older_version_arriving_late_is_not_applied(cluster, standin):
    cluster.start("crm-sync", env=crm_env(standin))
    publish(cluster, [chat("cht_b1", 5, "completed")])
    wait_for(lambda: chats(standin, "cht_b1"))
    publish(cluster, [chat("cht_b1", 4, "in_progress")])
    publish(cluster, [chat("cht_b2", 1)])  # a later record: the older one was handled before it
    wait_for(lambda: chats(standin, "cht_b2"))
    got = chats(standin, "cht_b1")
    assert len(got) == 1 and got[0]["UsrState"] == "Completed"


def test_call_record_written_with_direction_duration_and_talk_time(cluster, standin):
    cluster.start("crm-sync", env=crm_env(standin))
    publish(cluster, [call("call_c1", 1)])
    wait_for(lambda: rows(standin, "Call", "IntegrationId", "call_c1"))
    publish(cluster, [call("call_c1", 2, "ended")])
    got = wait_for(lambda: [r for r in rows(standin, "Call", "IntegrationId", "call_c1")
                            if r.get("EndDate")])
    assert len(rows(standin, "Call", "IntegrationId", "call_c1")) == 1
    assert got[0]["Duration"] == 320 and got[0]["TalkTime"] == 300
    assert got[0]["DirectionId"] == "1d96a65f-2131-4916-8825-2d142b1000b2"
    assert got[0]["CallerId"] == "+380501234567" and "answered" in got[0]["Comment"]


def test_a_backlog_goes_in_batches_and_every_interaction_once(cluster, standin):
    recs = [chat(f"cht_bl{i}", v, "new" if v == 1 else "completed")
            for v in (1, 2) for i in range(120)]
    publish(cluster, recs)  # before crm-sync runs: a backlog
    cluster.start("crm-sync", env=crm_env(standin))
    done = wait_for(lambda: len([r for r in rows(standin, "UsrChat")
                                 if r["UsrState"] == "Completed"]) == 120, timeout=40)
    assert done
    assert len(rows(standin, "UsrChat")) == 120
    paths = [r["path"] for r in standin.requests]
    assert any(p.endswith("/$batch") for p in paths)


def test_record_created_while_unremembered_is_found_by_external_id_not_duplicated(
        cluster, standin):
    svc = cluster.start("crm-sync", env=crm_env(standin))
    publish(cluster, [chat("cht_d1", 1)])
    wait_for(lambda: chats(standin, "cht_d1"))
    svc.stop()
    cluster.redis.cli("DEL", key("crm:rec:chat:cht_d1"))  # as if crm-sync died before remembering
    cluster.start("crm-sync", env=crm_env(standin))
    publish(cluster, [chat("cht_d1", 2, "completed")])
    wait_for(lambda: [r for r in chats(standin, "cht_d1") if r["UsrState"] == "Completed"])
    assert len(chats(standin, "cht_d1")) == 1


def test_crm_faults_are_retried_and_nothing_is_duplicated(cluster, standin):
    cluster.start("crm-sync", env=crm_env(standin))
    standin.faults.append({"path": "/0/odata", "status": 503, "count": 3, "retryAfter": 1})
    standin.faults.append({"path": "/0/odata", "status": 500, "count": 2, "retryAfter": 0})
    publish(cluster, [chat("cht_f1", 1), call("call_f1", 1)])
    assert wait_for(lambda: chats(standin, "cht_f1") and
                    rows(standin, "Call", "IntegrationId", "call_f1"), timeout=30)
    assert len(chats(standin, "cht_f1")) == 1
    assert len(rows(standin, "Call", "IntegrationId", "call_f1")) == 1


def test_session_expiry_mid_run_logs_in_again(cluster, standin):
    cluster.start("crm-sync", env=crm_env(standin))
    publish(cluster, [chat("cht_s1", 1)])
    wait_for(lambda: chats(standin, "cht_s1"))
    standin.expire_sessions()
    publish(cluster, [chat("cht_s1", 2, "completed")])
    assert wait_for(lambda: [r for r in chats(standin, "cht_s1") if r["UsrState"] == "Completed"])
    logins = [r for r in standin.requests if r["path"].endswith("AuthService.svc/Login")]
    assert len(logins) == 2


def test_oauth_client_credentials_write_records(cluster, standin):
    cluster.start("crm-sync", env=crm_env(standin, CC_CRM_AUTH="oauth",
                                          CC_CRM_IDENTITY_URL=standin.url,
                                          CC_CRM_CLIENT_ID="cc-client",
                                          CC_CRM_CLIENT_SECRET="cc-secret"))
    publish(cluster, [chat("cht_o1", 1)])
    assert wait_for(lambda: chats(standin, "cht_o1"))
    assert any(r["path"] == "/connect/token" for r in standin.requests)
    assert not any(r["path"].endswith("AuthService.svc/Login") for r in standin.requests)


def test_a_refused_record_is_reported_not_retried_forever(cluster, standin):
    cluster.start("crm-sync", env=crm_env(standin, CC_CRM_NAMES="chat.result_details=UsrNope"))
    publish(cluster, [chat("cht_r1", 1, "completed")])
    from crm_helpers import request
    st = wait_for(lambda: (lambda s: s if s.get("failures") else None)(
        request(cluster, "cc.crm.status.get", "SettingsRequest", "CrmStatus",
                {"caller": {"user_id": "u1", "role": "admin"}})), timeout=20)
    assert st["failures"][0]["id"] == "cht_r1" and "UsrNope" in st["failures"][0]["reason"]
    assert not chats(standin, "cht_r1")


def test_kill_9_mid_backlog_loses_and_duplicates_nothing(cluster, standin):
    standin.delay_ms = 30
    svc = cluster.start("crm-sync", env=crm_env(standin))
    recs = [chat(f"cht_k{i}", v, "new" if v == 1 else "completed")
            for v in (1, 2) for i in range(150)]
    publish(cluster, recs)
    wait_for(lambda: len(rows(standin, "UsrChat")) >= 20, timeout=20, step=0.02)
    svc.kill9()
    cluster.start("crm-sync", env=crm_env(standin), key="crm-sync-2")
    # what the killed replica held comes again after the ack wait (30 s)
    done = wait_for(lambda: len([r for r in rows(standin, "UsrChat")
                                 if r["UsrState"] == "Completed"]) == 150, timeout=90)
    assert done, [(r["UsrExternalId"], r["UsrState"]) for r in rows(standin, "UsrChat")
                  if r["UsrState"] != "Completed"][:5]
    ids = [r["UsrExternalId"] for r in rows(standin, "UsrChat")]
    assert len(ids) == 150 and len(set(ids)) == 150
