#!/usr/bin/env python3
"""make bench (bench_calls): queue calls through the reference Kamailio
(deploy/kamailio, configured by its configure.sh) in front of the real
call-router, skill-router and agent-registry (release build), beside the
same Kamailio config in front of a trivial PBX API responder
(bench/pbx_responder.py: every answer at once, one fixed agent), measured in
the same run, step by step interleaved: 20, 100 and 150 calls/s for a few
seconds each.

A SIPp caller dials the queue number at the rate; every call is offered to
one of AGENTS agents whose sip_account is "bench", which one SIPp phone
registered: it rings RING_MS, answers, and the caller hangs up after
HOLD_MS. Latency is the time from the caller sending its INVITE to the
phone receiving the proxy's INVITE (both SIPp -trace_msg logs, matched by
Call-ID): two HTTP round trips (POST /calls, GET /route) and the
engine's routing for the real one. Failed calls are SIPp's count. "BYE ->
record ended" is the caller's BYE to the end time call-router wrote in the
call's record (how late the hang-up event arrives). CPU is the CPU time each
process used during the step, per call.

Usage: bench/calls.py [rate ...] (default 20 100 150); CC_BENCH_CALL_S sets
the seconds per step (default 4)."""
import concurrent.futures
import datetime
import os
import re
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "system"))
os.environ.setdefault("CC_BIN_DIR", os.path.join(HERE, "..", "build", "bin"))

import harness  # noqa: E402
import sip  # noqa: E402

RATES = (20, 100, 150)
AGENTS = 250
RING_MS = 50
HOLD_MS = 300
NUMBER = "5000"
QUIET = {"CC_LOG_LEVEL": os.environ.get("CC_BENCH_LOG_LEVEL", "warn")}
# production defaults of deploy/kamailio, warnings only in the log
TUNING = {"SIP_WORKERS": 4, "ASYNC_WORKERS": 16, "LOG_LEVEL": 1}
TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pids):
    """CPU seconds (user + system) the processes used so far."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / TICK


def pct(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


# --- the two systems under test ----------------------------------------------------------


class Engine:
    """nats, redis, agent-registry, api-gateway (set-up only), skill-router and
    call-router; AGENTS agents in callcenter, all with sip_account "bench"."""

    label = "call-router"

    def __init__(self, workdir):
        self.c = harness.Cluster(workdir)
        try:
            self._start()
        except Exception:
            self.c.close()  # nothing left running behind a failed start
            raise

    def _start(self):
        admin = harness.start_stack(self.c, registry_env={**harness.FAST_HASH, **QUIET},
                                    gateway_env=QUIET)
        self.c.start("skill-router", env=QUIET)
        self.cr = self.c.start("call-router", env=QUIET)
        self.url = self.cr.base + "/pbx/v1"
        team = post(admin, "/api/v1/teams", {"name": "Bench", "call_offer_timeout_s": 20,
                                             "wrap_up_time_s": 0, "no_answer_delay_s": 0})
        skill = post(admin, "/api/v1/skills", {"name": "Voice"})
        self.queue = post(admin, "/api/v1/queues", {"name": "Bench line", "channel": "call",
                                                    "skill_id": skill["id"]})["id"]
        self.admin = admin
        t = time.time()
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda i: make_agent(admin, team["id"], skill["id"], i),
                          range(AGENTS)))
        print(f"  {AGENTS} agents created, signed in, in callcenter in {time.time() - t:.1f} s")
        self.wait_routable()

    def wait_routable(self):
        """skill-router learnt the queue: a probe call is offered."""
        import requests
        h = {"Authorization": f"Bearer {harness.PBX_TOKEN}"}
        deadline = time.time() + 30
        while time.time() < deadline:
            r = requests.post(f"{self.url}/calls", json={"call_id": "probe", "queue_id":
                                                         self.queue, "from": "1"}, headers=h,
                              timeout=5)
            if r.status_code in (200, 201):
                route = requests.get(f"{self.url}/calls/probe/route", params={"wait_s": 5},
                                     headers=h, timeout=10)
                requests.post(f"{self.url}/calls/probe/events", json={"type": "abandoned"},
                              headers=h, timeout=5)
                if route.status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError("the bench queue never routed a call")

    def ended(self, tag):
        """{call-id: when call-router ended its record} of the calls `tag-*`."""
        out, cursor = {}, ""
        while True:
            r = self.admin.get("/api/v1/calls", view="closed", limit=100, cursor=cursor)
            body = r.json()
            for rec in body.get("items", []):
                if rec["call_id"].startswith(tag + "-") and rec.get("ended_at"):
                    out[rec["call_id"]] = datetime.datetime.fromisoformat(
                        rec["ended_at"].replace("Z", "+00:00")).timestamp()
            cursor = body.get("next_cursor") or ""
            if not cursor:
                return out

    def pids(self):
        procs = [("nats", self.c.nats), ("redis", self.c.redis), *self.c.services.items()]
        return {k: [p.p.pid] for k, p in procs if k != "api-gateway"}

    def close(self):
        return self.c.close()


class Trivial:
    """bench/pbx_responder.py on a free port."""

    label = "trivial"

    def __init__(self, workdir):
        port = harness.free_port()
        self.p = harness.Proc("pbx-responder", [sys.executable, "-u",
                                                os.path.join(HERE, "pbx_responder.py"),
                                                str(port)], workdir).start()
        harness.wait_port(port)
        self.url = f"http://127.0.0.1:{port}/pbx/v1"
        self.queue = "que_bench"

    def ended(self, tag):
        return {}  # it keeps nothing

    def pids(self):
        return {"responder": [self.p.p.pid]}

    def close(self):
        code = self.p.stop()
        return [] if code == 0 else [f"pbx-responder exited {code}"]


def post(api, path, body):
    r = api.post(path, body)
    if r.status_code != 201:
        raise RuntimeError(f"POST {path}: {r.status_code} {r.text}")
    return r.json()


def make_agent(admin, team_id, skill_id, i):
    login = f"cbench{i:04d}"
    u = post(admin, "/api/v1/users", {"login": login, "password": "password-" + login,
                                      "role": "agent", "sip_account": "bench",
                                      "agent": {"enabled": True, "team_id": team_id}})
    admin.put(f"/api/v1/agents/{u['id']}/skills/{skill_id}", {"capacity": 1})
    harness.Api(admin.base).login(login, "password-" + login)
    r = admin.put(f"/api/v1/agents/{u['id']}/status", {"status": "callcenter"})
    if r.status_code != 200:
        raise RuntimeError(f"status of {login}: {r.status_code} {r.text}")


# --- one measured step ---------------------------------------------------------------------


class Line:
    """A backend with its own Kamailio (the product config) and phone."""

    def __init__(self, backend, workdir):
        self.backend = backend
        self.dir = os.path.join(workdir, backend.label)
        os.makedirs(self.dir, exist_ok=True)
        self.kam = sip.Kamailio(self.dir, backend.url, harness.PBX_TOKEN,
                                {NUMBER: backend.queue}, tuning=TUNING).start()
        try:
            self.phone = sip.Phone(self.kam, self.dir, "bench", "answer", RING_MS).start()
        except Exception:
            self.kam.stop()
            raise

    def pids(self):
        return {**self.backend.pids(), "kamailio": [self.kam.p.pid, *self.kam.children()]}

    def step(self, rate, seconds, tag):
        """`rate` calls/s for `seconds`: a dict of figures."""
        calls = rate * seconds
        caller = sip.Caller(self.kam, self.dir, NUMBER, hold_ms=HOLD_MS, calls=calls,
                            rate=rate, tag=tag)
        pids = self.pids()
        before = {k: cpu_s(v) for k, v in pids.items()}
        t0 = time.time()
        caller.start()
        sipp_pids = [caller.sipp.p.pid, self.phone.uas.p.pid]
        sipp_before = cpu_s(sipp_pids)
        caller.wait(seconds + 90)
        wall = time.time() - t0
        cpu = {k: cpu_s(v) - before[k] for k, v in pids.items()}
        cpu["sipp"] = cpu_s(sipp_pids) - sipp_before  # (the caller's own share is lost at exit)
        ok, failed = sipp_counts(caller.sipp.log())
        sent, resent = first_sent(caller.sipp.messages(), "INVITE")
        got = first_received_invites(self.phone.uas.messages(), tag)
        lat = [(got[cid] - t) * 1000 for cid, t in sent.items() if cid in got]
        time.sleep(1.0)  # the last hangups reach call-router
        byes, ended = first_sent(caller.sipp.messages(), "BYE")[0], self.backend.ended(tag)
        lag = [(ended[cid] - t) * 1000 for cid, t in byes.items() if cid in ended]
        span = max(sent.values()) - min(sent.values()) if len(sent) > 1 else 0
        return {"rate": rate, "calls": calls, "ok": ok, "failed": failed,
                "offered_cps": (len(sent) - 1) / span if span else 0.0,
                "done_cps": ok / wall if wall else 0.0, "resent": resent,
                "p50": pct(lat, 50), "p90": pct(lat, 90), "p99": pct(lat, 99),
                "max": max(lat) if lat else float("nan"), "n_lat": len(lat),
                "lag50": pct(lag, 50), "lag99": pct(lag, 99),
                "cpu_ms": {k: v * 1000 / max(ok, 1) for k, v in cpu.items()}}

    def close(self):
        self.phone.stop()
        code = self.kam.stop()
        return self.kam.errors() + ([] if code == 0 else [f"kamailio exited {code}"])


def sipp_counts(screen):
    """(successful, failed) from SIPp's final statistics screen."""
    def last(name):
        found = re.findall(name + r"\s*\|\s*\d+\s*\|\s*(\d+)", screen)
        return int(found[-1]) if found else 0
    return last("Successful call"), last("Failed call")


def first_sent(text, method):
    """{call-id: when its `method` was first sent}, and how many were resent."""
    out, resent = {}, 0
    for ts, way, first, cid in sip.parse_messages(text):
        if way == "sent" and first.startswith(method + " "):
            if cid in out:
                resent += 1
            else:
                out[cid] = ts
    return out, resent


def first_received_invites(text, tag):
    out = {}
    for ts, way, first, cid in sip.parse_messages(text):
        if way == "received" and first.startswith("INVITE ") and cid.startswith(tag + "-"):
            out.setdefault(cid, ts)
    return out


# --- the run -------------------------------------------------------------------------------


def show(label, r):
    cpu = " ".join(f"{k} {v:.2f}" for k, v in sorted(r["cpu_ms"].items()))
    print(f"  {label:<11} {r['rate']:>4}/s {r['ok']:>5}/{r['calls']:<5} failed {r['failed']:<3} "
          f"{r['offered_cps']:6.1f} calls/s  INVITE->agent p50 {r['p50']:6.2f} p90 {r['p90']:6.2f} "
          f"p99 {r['p99']:6.2f} max {r['max']:7.2f} ms  resent {r['resent']}")
    lag = "" if r["lag50"] != r["lag50"] else \
        f"BYE->record ended p50 {r['lag50']:.1f} p99 {r['lag99']:.1f} ms; "
    print(f"  {'':<11} {lag}CPU ms/call: {cpu}")


def main(rates=RATES):
    harness.SAN_ENV.clear()  # release binaries
    seconds = int(os.environ.get("CC_BENCH_CALL_S", "4"))
    work = tempfile.mkdtemp(prefix="cc-bench-calls-")
    print(f"== calls through Kamailio: call-router vs a trivial responder, {seconds} s a step, "
          f"{os.cpu_count()} cores (shared with everything else on this machine)")
    backends, lines, failures, results = [], [], [], {}
    try:
        backends.append(Trivial(work))
        backends.append(Engine(work))
        for b in backends:  # appended one by one: whatever started is closed
            lines.append(Line(b, work))
        for line in lines:  # warm-up: connections, caches (not measured)
            line.step(10, 1, f"warm{line.backend.label[:3]}")
        for rate in rates:
            for line in lines:
                r = line.step(rate, seconds, f"{line.backend.label[:3]}{rate}")
                results[(line.backend.label, rate)] = r
                show(line.backend.label, r)
            base, real = results[("trivial", rate)], results[("call-router", rate)]
            print(f"  ratio call-router / trivial at {rate}/s: p50 {real['p50'] / base['p50']:.2f}"
                  f", p99 {real['p99'] / base['p99']:.2f}")
    finally:
        for line in lines:
            failures += line.close()
        for b in backends:
            failures += b.close()
    bad = [k for k, r in results.items() if r["failed"] or r["ok"] != r["calls"]]
    if failures or bad:
        print("\n".join(failures + [f"failed calls: {k}" for k in bad]))
        print(f"logs kept in {work}")
        return 1
    if os.environ.get("CC_BENCH_KEEP"):
        print(f"logs kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    if not sip.available():
        print("kamailio and sipp are needed (make deps)")
        sys.exit(2)
    sys.exit(main(tuple(int(x) for x in sys.argv[1:]) or RATES))
