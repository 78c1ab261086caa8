"""The Creatio stand-in itself (tests/system/creatio_standin.py): crm-sync's tests rely on
it answering like Creatio does (creatio.md section 8), so each behaviour they use is
checked here: both ways of signing in, the CSRF refusal, $filter, paging, $batch, the
outbound hook and failure injection."""
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

import creatio_standin as cs
from harness import free_port, wait_port

JSON = {"Accept": "application/json", "ForceUseSession": "true",
        "Content-Type": "application/json; charset=utf-8; IEEE754Compatible=true"}


@pytest.fixture
def standin():
    st = cs.Standin(page_size=2).start()
    yield st
    st.stop()


def login(st, user="Supervisor", password="Supervisor"):
    """A requests session signed in with forms auth, BPMCSRF header set."""
    s = requests.Session()
    r = s.post(st.url + "/ServiceModel/AuthService.svc/Login", headers=JSON,
               json={"UserName": user, "UserPassword": password})
    assert r.status_code == 200
    if r.json()["Code"] == 0:
        s.headers.update(JSON)
        s.headers["BPMCSRF"] = s.cookies["BPMCSRF"]
    return s, r


def bearer(st, ttl=3600):
    r = requests.post(st.url + "/connect/token", data={
        "grant_type": "client_credentials", "client_id": "cc-client",
        "client_secret": "cc-secret"})
    assert r.status_code == 200, r.text
    tok = r.json()
    assert tok["token_type"] == "Bearer" and tok["expires_in"] == ttl
    s = requests.Session()
    s.headers.update(JSON)
    s.headers["Authorization"] = "Bearer " + tok["access_token"]
    return s


def odata(st, path):
    return st.url + "/0/odata/" + path


def test_forms_login_sets_cookies_and_bad_password_is_200_code_1(standin):
    s, r = login(standin)
    names = {c.name for c in s.cookies}
    assert {"BPMLOADER", ".ASPXAUTH", "BPMCSRF", "UserName", "BPMSESSIONID"} <= names
    assert r.json() == {"Code": 0, "Message": "", "Exception": None,
                        "PasswordChangeUrl": None, "RedirectUrl": None}
    _, bad = login(standin, password="wrong")
    assert bad.json()["Code"] == 1 and "incorrect" in bad.json()["Message"]
    r = requests.post(standin.url + "/ServiceModel/AuthService.svc/Login", data=b"{oops",
                      headers=JSON)
    assert r.status_code == 400


def test_csrf_header_is_required_with_cookies(standin):
    s, _ = login(standin)
    url = odata(standin, f"Contact({cs.CONTACT_1})?$select=Id,Name,AccountId")
    r = s.get(url)
    assert r.status_code == 200
    assert r.json() == {"@odata.context": f"{standin.url}/0/odata/$metadata#Contact(Id,Name,"
                                          "AccountId)/$entity",
                        "Id": cs.CONTACT_1, "Name": "Olena Kovalenko",
                        "AccountId": cs.ACCOUNT_1}
    del s.headers["BPMCSRF"]
    r = s.get(url)
    assert r.status_code == 401 and r.content == b""
    s.headers["BPMCSRF"] = "forged"
    assert s.get(url).status_code == 401
    assert requests.get(url).status_code == 401


def test_oauth_client_credentials_and_token_expiry(standin):
    bad = requests.post(standin.url + "/connect/token", data={
        "grant_type": "client_credentials", "client_id": "cc-client", "client_secret": "x"})
    assert bad.status_code == 400 and bad.json() == {"error": "invalid_client"}
    s = bearer(standin)
    assert s.get(odata(standin, "Account")).status_code == 200
    requests.post(standin.url + "/__test/expire-sessions")
    r = s.get(odata(standin, "Account"))
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    # a short token lifetime expires by itself
    requests.post(standin.url + "/__test/config", json={"token_ttl": 1})
    s = bearer(standin, ttl=1)
    assert s.get(odata(standin, "Account")).status_code == 200
    time.sleep(1.2)
    assert s.get(odata(standin, "Account")).status_code == 401


def test_session_expiry_makes_cookies_401(standin):
    s, _ = login(standin)
    assert s.get(odata(standin, "Contact")).status_code == 200
    requests.post(standin.url + "/__test/expire-sessions")
    assert s.get(odata(standin, "Contact")).status_code == 401
    s2, _ = login(standin)
    assert s2.get(odata(standin, "Contact")).status_code == 200


def ids(r):
    assert r.status_code == 200, r.text
    return [row["Id"] for row in r.json()["value"]]


def test_filter_subset(standin):
    s = bearer(standin)
    q = lambda f, extra="": s.get(odata(standin, "Contact"), params={
        "$filter": f, "$top": "100", **({} if not extra else {"$orderby": extra})})
    assert sorted(ids(q(f"AccountId eq {cs.ACCOUNT_2}"))) == sorted([cs.CONTACT_2,
                                                                      cs.CONTACT_3])
    assert ids(q(f"Account/Id eq {cs.ACCOUNT_1}")) == [cs.CONTACT_1]
    assert ids(q("Name eq 'Olena Kovalenko'")) == [cs.CONTACT_1]
    assert ids(q("contains(Name,'petrenko') and not startswith(GivenName,'Iv')")) == \
        [cs.CONTACT_3]
    assert ids(q("(endswith(Email,'example.com') or Name eq 'x') and GivenName ne 'Olena'",
                 "Name desc")) == [cs.CONTACT_3, cs.CONTACT_2]
    assert ids(q("MobilePhone ne null")) == [cs.CONTACT_1]
    assert ids(q("Account/Name eq 'Petrenko Farm' and HomePhone eq null")) == []
    # quoted strings with '' escape
    r = s.post(odata(standin, "Contact"), json={"Name": "Dan O'Brien"})
    assert r.status_code == 201
    assert ids(q("Name eq 'Dan O''Brien'")) == [r.json()["Id"]]
    # datetimes, unquoted, compare as instants
    stamp = r.json()["CreatedOn"]
    assert ids(q(f"CreatedOn ge {stamp}")) == [r.json()["Id"]]
    assert cs.CONTACT_1 in ids(q(f"ModifiedOn lt {stamp}"))
    assert ids(q("ModifiedOn gt 2099-01-01T00:00:00+02:00")) == []
    # guid compared with a string is refused, as Creatio refuses it
    assert q(f"AccountId eq '{cs.ACCOUNT_1}'").status_code == 400
    for bad in ("Name eq", "Name eq 'x' and", "Foo eq 1", "(Name eq 'x'", "Name xx 'x'"):
        r = q(bad)
        assert r.status_code == 400 and r.json()["error"]["message"], bad


def test_search_number_is_reversed_digits_for_suffix_search(standin):
    s = bearer(standin)
    r = s.get(odata(standin, "ContactCommunication"), params={
        "$filter": "startswith(SearchNumber,'2211000')", "$select": "ContactId,Number"})
    assert r.status_code == 200
    body = r.json()
    assert body["@odata.context"].endswith("#ContactCommunication(ContactId,Number)")
    assert sorted(v["ContactId"] for v in body["value"]) == sorted([cs.CONTACT_2,
                                                                    cs.CONTACT_3])
    r = s.post(odata(standin, "ContactCommunication"), json={
        "ContactId": cs.CONTACT_1, "Number": "+1 (555) 010-99",
        "CommunicationTypeId": cs.COMM_TYPES["Other"]})
    assert r.status_code == 201 and r.json()["SearchNumber"] == "990105551"


def test_paging_with_next_link_select_orderby_count(standin):
    s = bearer(standin)
    r = s.get(odata(standin, "Contact"), params={"$select": "Id", "$orderby": "Id",
                                                 "$count": "true"})
    body = r.json()
    want = sorted([cs.CONTACT_1, cs.CONTACT_2, cs.CONTACT_3])
    assert body["@odata.count"] == 3 and [v["Id"] for v in body["value"]] == want[:2]
    assert body["value"][0] == {"Id": want[0]}
    nxt = body["@odata.nextLink"]
    assert nxt.startswith(standin.url + "/0/odata/Contact?") and "$skip=2" in nxt
    body = s.get(nxt).json()
    assert [v["Id"] for v in body["value"]] == want[2:] and "@odata.nextLink" not in body
    # $top and $skip, and a $top smaller than what is left
    body = s.get(odata(standin, "Contact"), params={"$orderby": "Id", "$skip": "1",
                                                    "$top": "1"}).json()
    assert [v["Id"] for v in body["value"]] == [want[1]] and "@odata.nextLink" not in body
    assert s.get(odata(standin, "Contact"), params={"$top": "-1"}).status_code == 400
    assert s.get(odata(standin, "Contact"), params={"$select": "Nope"}).status_code == 400
    # $expand of a lookup
    r = s.get(odata(standin, f"Contact({cs.CONTACT_1})"), params={
        "$select": "Name", "$expand": "Account($select=Name)"})
    assert r.json()["Account"] == {"Name": "Kovalenko Logistics"}


def test_crud_case_number_unknown_field_and_404(standin):
    s, _ = login(standin)
    r = s.post(odata(standin, "Case"), json={"Subject": "Chat #8812", "ContactId": cs.CONTACT_1})
    assert r.status_code == 201 and r.json()["Number"] == "SR00000001"
    case_id = r.json()["Id"]
    assert s.post(odata(standin, "Case"), json={"Subject": "2"}).json()["Number"] == \
        "SR00000002"
    r = s.patch(odata(standin, f"Case({case_id})"), json={"Foo": 1})
    assert r.status_code == 400
    assert r.json()["error"]["message"] == \
        "The property 'Foo' does not exist on type 'Terrasoft.Configuration.Case'."
    before = s.get(odata(standin, f"Case({case_id})")).json()["ModifiedOn"]
    time.sleep(0.01)
    assert s.patch(odata(standin, f"Case({case_id})"), json={"Subject": "x"}).status_code == 204
    after = s.get(odata(standin, f"Case({case_id})")).json()
    assert after["Subject"] == "x" and after["ModifiedOn"] > before
    assert s.post(odata(standin, "Case"), json={"Id": case_id}).status_code == 500
    assert s.post(odata(standin, "Case"), json={"ContactId": "not-a-guid"}).status_code == 400
    assert s.delete(odata(standin, f"Case({case_id})")).status_code == 204
    r = s.get(odata(standin, f"Case({case_id})"))
    assert r.status_code == 404
    assert r.json()["error"]["message"] == "Resource not found for the segment 'Case'."
    assert s.get(odata(standin, "Nope")).status_code == 404
    r = s.post(odata(standin, "UsrWebitelAgentSkill"), json={"UsrCapacity": 101})
    assert r.status_code == 400


def test_batch_stops_at_first_failure_continue_on_error_and_atomicity(standin):
    s = bearer(standin)
    url = odata(standin, "$batch")
    reqs = [{"method": "POST", "url": "UsrChat", "id": "t1", "body": {"UsrExternalId": "a"}},
            {"method": "POST", "url": "UsrChat", "id": "t2", "body": {"Bad": 1}},
            {"method": "POST", "url": "/0/odata/UsrChat", "id": "t3",
             "body": {"UsrExternalId": "c"}}]
    r = s.post(url, json={"requests": reqs})
    assert r.status_code == 200
    got = [(x["id"], x["status"]) for x in r.json()["responses"]]
    assert got == [("t1", 201), ("t2", 400)]
    r = s.post(url, json={"requests": reqs}, headers={"Prefer": "odata.continue-on-error"})
    assert [(x["id"], x["status"]) for x in r.json()["responses"]] == \
        [("t1", 201), ("t2", 400), ("t3", 201)]
    chats = requests.get(standin.url + "/__test/dump?set=UsrChat").json()["UsrChat"]
    assert sorted(c["UsrExternalId"] for c in chats) == ["a", "a", "c"]
    # an atomicity group is all or nothing
    group = [dict(x, atomicityGroup="g1") for x in reqs]
    r = s.post(url, json={"requests": group}, headers={"Prefer": "continue-on-error"})
    assert [(x["id"], x["status"]) for x in r.json()["responses"]] == \
        [("t1", 424), ("t2", 400), ("t3", 424)]
    assert len(requests.get(standin.url + "/__test/dump?set=UsrChat").json()["UsrChat"]) == 3
    r = s.post(url, json={"requests": [reqs[0]] * 101})
    assert r.status_code == 400
    assert s.post(url, data="nope", headers={"Content-Type": "application/json"}
                  ).status_code == 400
    # the batch needs auth like any OData call
    assert requests.post(url, json={"requests": reqs}).status_code == 401


def test_failure_injection_delay_and_request_log(standin):
    s = bearer(standin)
    requests.post(standin.url + "/__test/fail",
                  json={"path": "/0/odata/UsrChat", "status": 503, "count": 2, "retryAfter": 3})
    for _ in range(2):
        r = s.post(odata(standin, "UsrChat"), json={"UsrExternalId": "x"})
        assert r.status_code == 503 and r.headers["Retry-After"] == "3"
    assert s.post(odata(standin, "UsrChat"), json={"UsrExternalId": "x"}).status_code == 201
    requests.post(standin.url + "/__test/fail", json={"path": "/0/odata", "status": 500})
    r = s.get(odata(standin, "Contact"))
    assert r.status_code == 500 and r.json()["error"]["innererror"]["message"] == "Test fault"
    requests.post(standin.url + "/__test/fail", json={"status": 429, "count": 1000})
    assert s.get(odata(standin, "Contact")).status_code == 429
    requests.post(standin.url + "/__test/fail", json={"clear": True})
    assert s.get(odata(standin, "Contact")).status_code == 200
    requests.post(standin.url + "/__test/delay", json={"ms": 300})
    t0 = time.time()
    s.get(odata(standin, "Contact"))
    assert time.time() - t0 >= 0.3
    requests.post(standin.url + "/__test/delay", json={"ms": 0})
    log = requests.get(standin.url + "/__test/requests").json()["requests"]
    posts = [e for e in log if e["method"] == "POST" and e["path"] == "/0/odata/UsrChat"]
    assert [e["status"] for e in posts] == [503, 503, 201]
    assert posts[-1]["body"] == {"UsrExternalId": "x"}
    assert posts[-1]["headers"]["Authorization"].startswith("Bearer ")
    requests.post(standin.url + "/__test/reset")
    assert requests.get(standin.url + "/__test/requests").json()["requests"] == []
    assert requests.get(standin.url + "/__test/dump?set=UsrChat").json()["UsrChat"] == []


class _Hook(BaseHTTPRequestHandler):
    got = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.got.append((self.headers.get("Authorization"), json.loads(body)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_outbound_hook_on_agent_rows_with_basic_or_bearer():
    hook = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{hook.server_address[1]}/crm/v1/provisioning"
    st = cs.Standin(hook_url=url, hook_user="creatio", hook_password="pw").start()
    try:
        s = bearer(st)
        r = s.post(odata(st, "UsrWebitelUser"), json={"UsrName": "Olena", "UsrIsAgent": True,
                                                      "UsrTeamId": cs.TEAM_1})
        uid = r.json()["Id"]
        s.patch(odata(st, f"UsrWebitelUser({uid})"), json={"UsrIsAgent": False})
        s.post(odata(st, "UsrChat"), json={"UsrExternalId": "no hook for chats"})
        requests.post(st.url + "/__test/config", json={"hook_token": "secret-token"})
        s.delete(odata(st, f"UsrWebitelUser({uid})"))
        deadline = time.time() + 5
        while len(_Hook.got) < 3 and time.time() < deadline:
            time.sleep(0.02)
        assert [(b["EntityName"], b["Action"], b["Id"]) for _, b in _Hook.got] == \
            [("UsrWebitelUser", a, uid) for a in ("Inserted", "Updated", "Deleted")]
        assert _Hook.got[0][0] == "Basic Y3JlYXRpbzpwdw=="
        assert _Hook.got[2][0] == "Bearer secret-token"
        hooks = requests.get(st.url + "/__test/hooks").json()["hooks"]
        assert [h["status"] for h in hooks] == [200, 200, 200]
    finally:
        st.stop()
        hook.shutdown()


def test_runs_as_a_script_with_a_prefix():
    port = free_port()
    p = subprocess.Popen([sys.executable, cs.__file__, "--port", str(port), "--prefix", ""],
                         stdout=subprocess.DEVNULL)
    try:
        wait_port(port)
        url = f"http://127.0.0.1:{port}"
        s = requests.Session()
        r = s.post(url + "/ServiceModel/AuthService.svc/Login",
                   json={"UserName": "Supervisor", "UserPassword": "Supervisor"})
        s.headers["BPMCSRF"] = s.cookies["BPMCSRF"]
        assert len(s.get(url + "/odata/Account").json()["value"]) == 2
    finally:
        p.terminate()
        assert p.wait(10) == 0
