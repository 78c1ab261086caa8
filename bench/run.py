#!/usr/bin/env python3
"""make bench: starts nats-server, redis-server and the services a benchmark
needs (release build) on free ports and runs each benchmark binary against
them: bench_api (agent-registry and api-gateway, production password
hashing), bench_presence (agent-registry), bench_routing (agent-registry and
two skill-router replicas), bench_webhooks (agent-registry, api-gateway,
skill-router and chat-gateway), bench_crm (the stand-in Creatio,
tests/system/creatio_standin.py, and one then two crm-sync replicas),
bench_reports (agent-registry and api-gateway), bench_calls
(bench/calls.py: queue calls through the reference Kamailio driven by SIPp,
call-router beside a trivial PBX API responder).

Usage: bench/run.py [name ...] runs only the named benchmarks (bench_routing).
The services are taken from CC_BIN_DIR (default build/bin) and the benchmark
binaries from CC_BENCH_DIR (default: bench/ beside CC_BIN_DIR, so
CC_BIN_DIR=build/hbench/bin runs build/hbench/bench/*)."""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "system"))
os.environ.setdefault("CC_BIN_DIR", os.path.join(HERE, "..", "build", "bin"))
BENCH_DIR = os.path.abspath(os.environ.get(
    "CC_BENCH_DIR", os.path.join(os.path.dirname(os.path.abspath(os.environ["CC_BIN_DIR"])),
                                 "bench")))

import harness  # noqa: E402

PASSWORD = "bench-password-1"
QUIET = {"CC_LOG_LEVEL": "warn"}


def start_standin(work):
    """The stand-in Creatio as a process of its own (its CPU is counted apart);
    (Popen, root URL)."""
    port = harness.free_port()
    script = os.path.join(HERE, "..", "tests", "system", "creatio_standin.py")
    with open(os.path.join(work, "creatio-standin.log"), "w") as log:
        p = subprocess.Popen([sys.executable, script, "--port", str(port)], stdout=log,
                             stderr=subprocess.STDOUT)
    harness.wait_port(port)
    return p, f"http://127.0.0.1:{port}"


def run(name, registry_env, gateway=True, routers=0, chat=False, crm=0, bench_env=None):
    """Runs <bench dir>/<name> against a fresh system with agent-registry,
    api-gateway when `gateway`, `routers` skill-router replicas, chat-gateway
    when `chat` and `crm` crm-sync replicas writing to a stand-in Creatio;
    returns its exit code."""
    work = tempfile.mkdtemp(prefix="cc-bench-")
    c = harness.Cluster(work)
    standin = None
    try:
        c.start("agent-registry", env={"CC_BOOTSTRAP_ADMIN_PASSWORD": PASSWORD, **QUIET,
                                       **registry_env})
        env = dict(os.environ, CC_BENCH_NATS=c.nats.url, CC_BENCH_REDIS=c.redis.url,
                   CC_BENCH_NATS_MONITOR=c.nats.monitor, CC_BENCH_PASSWORD=PASSWORD)
        if gateway:
            env["CC_BENCH_API"] = c.start("api-gateway", env=QUIET).base
        for i in range(routers):
            c.start("skill-router", env=QUIET, key=f"skill-router-{i + 1}")
        if chat:  # its file links point at itself
            env["CC_BENCH_CHAT"] = c.start("chat-gateway",
                                           env={"CC_PUBLIC_URL": "self", **QUIET}).base
        if crm:
            standin, env["CC_BENCH_CRM"] = start_standin(work)
            crm_env = {"CC_CRM_TYPE": "creatio", "CC_CRM_URL": env["CC_BENCH_CRM"],
                       "CC_CRM_USER": "Supervisor", "CC_CRM_PASSWORD": "Supervisor", **QUIET}
            env["CC_BENCH_CRM_SYNC"] = ",".join(
                c.start("crm-sync", env=crm_env, key=f"crm-sync-{i + 1}").base
                for i in range(crm))
        env.update(bench_env or {})
        # the benchmark reads these processes' CPU time to say where it went
        procs = [("nats", c.nats), ("redis", c.redis), *c.services.items()]
        if standin:
            procs.append(("standin", standin))
        env["CC_BENCH_PIDS"] = ",".join(
            f"{k}:{p.pid if k == 'standin' else p.p.pid}" for k, p in procs)
        rc = subprocess.run([os.path.join(BENCH_DIR, name)], env=env).returncode
    finally:
        failures = c.close()
        if standin:
            standin.terminate()
            if standin.wait(timeout=10) != 0:
                failures.append(f"the Creatio stand-in exited {standin.returncode}")
    if failures:
        print("\n".join(failures))
        return 1
    if rc == 0:
        shutil.rmtree(work, ignore_errors=True)  # kept with its logs when something failed
    else:
        print(f"logs kept in {work}")
    return rc


def bench_api():
    print("== sign-in (production argon2id) and authenticated GET through api-gateway")
    return run("bench_api", {})


def bench_presence():
    # creating and signing in 10,000 agents is set-up, not what is measured:
    # cheap password hashing keeps it to seconds
    print("== agent state changes and wrap-up timers (agent-registry)")
    return run("bench_presence", harness.FAST_HASH)


def bench_routing():
    print("== routing: agents online, 50 queues, chats waiting, two skill-router replicas")
    return run("bench_routing", {**harness.FAST_HASH, "CC_REGISTRY_WORKERS": "8"},
               gateway=False, routers=2)


def bench_webhooks():
    # skill-router takes the chats the customers open (they wait: nobody is
    # signed in). Without it chat-gateway's consumer retries each new chat every
    # second, and once 1,000 wait (JetStream's default MaxAckPending) it takes
    # no other message: nothing more would reach Redis.
    print("== webhook ingest: signed Telegram updates to chat-gateway, stored in JetStream")
    return run("bench_webhooks", harness.FAST_HASH, routers=1, chat=True)


def bench_crm():
    # one crm-sync, then two replicas sharing the consumer, each against a
    # fresh system and stand-in (the bare POSTs measured again beside them)
    print("== CRM sync: chat records from RECORDS through crm-sync into the stand-in Creatio")
    rc = 0
    for n in (1, 2):
        rc |= run("bench_crm", harness.FAST_HASH, gateway=False, crm=n,
                  bench_env={"CC_BENCH_LABEL": f"x{n}"})
    return rc


def bench_reports():
    print("== reports: 10,000 calls counted by agent-registry, reports through api-gateway")
    return run("bench_reports", harness.FAST_HASH)


def bench_calls():
    # Kamailio and SIPp drive it (bench/calls.py), not a benchmark binary
    import calls
    if not calls.sip.available():
        print("== calls: kamailio and sipp are not installed (make deps)")
        return 1
    return calls.main()


BENCHES = {"bench_api": bench_api, "bench_presence": bench_presence,
           "bench_routing": bench_routing, "bench_webhooks": bench_webhooks,
           "bench_crm": bench_crm, "bench_reports": bench_reports, "bench_calls": bench_calls}


def main(names):
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        print(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(BENCHES)}")
        return 2
    harness.SAN_ENV.clear()  # release binaries
    print(f"machine: {os.cpu_count()} cores; services: release build "
          f"({harness.BIN_DIR}), benchmarks: {BENCH_DIR}")
    rc = 0
    for name in names or BENCHES:
        rc |= BENCHES[name]()
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
