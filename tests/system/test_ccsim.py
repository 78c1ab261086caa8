"""ccsim, the contact-center simulator, through real agent-registry and
skill-router: its figures add up, its customers are the Poisson and
exponential draws they claim to be, every patience and handling time is kept,
and on one queue of interchangeable agents the measured figures agree with
Erlang C (within what the sample size allows) and with a first-come
first-served replay of the very same customers plus the latency the run
measured (within a few per cent).

The tolerances:
- Erlang C against a finite run: the sampling band is taken from 1,000 runs
  of an ideal M/M/c queue with this scenario's rates and window (pure Python,
  below): the 99th percentile of |estimate - Erlang C|, i.e. how far a correct
  simulator's figure lies from Erlang C in 99 runs of 100 with this many
  customers (about 400). Queue waits are strongly correlated, so that many
  customers pin ASA down only loosely, service level and occupancy better.
  The seed is fixed, so this part cannot flake: the draws, and the ideal
  replay of them, are the same on every run.
- Measured against the replay of the same customers with the run's mean
  latency (ccsim's "replay+latency", recomputed here): sampling luck cancels
  (common random numbers), so what is left is the spread of the latency around
  its mean. 15 % of ASA plus a tenth of the service level threshold (7 s
  here), 8 points of service level, 2 points of occupancy and, with impatient
  customers, 6 points of abandonment plus two customers: two to four times the
  largest gaps seen in ten runs on a loaded two-core machine with the
  sanitizer build (2.8 s, 3.7 points, 0.6 points and 1.2 points)."""
import csv
import heapq
import json
import math
import os
import random
import subprocess

from harness import ADMIN_PASSWORD, BIN_DIR, FAST_HASH, SAN_ENV

QUIET = {"CC_LOG_LEVEL": "warn"}


def start(cluster):
    cluster.start("agent-registry", env={"CC_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
                                         **FAST_HASH, **QUIET})
    cluster.start("skill-router", env=QUIET)


def ccsim(cluster, tmp_path, scenario):
    """Runs ccsim on `scenario`; returns (exit code, report JSON, CSV rows, stdout)."""
    path, out, rows = (str(tmp_path / n) for n in ("scenario.json", "report.json", "rows.csv"))
    with open(path, "w") as f:
        json.dump(scenario, f)
    env = dict(os.environ, CC_NATS_URL=cluster.nats.url, **SAN_ENV)
    p = subprocess.run([os.path.join(BIN_DIR, "ccsim"), "--quiet", "--json", out, "--csv", rows,
                        path], env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode in (0, 3), p.stdout + p.stderr
    with open(out) as f:
        report = json.load(f)
    with open(rows) as f:
        return p.returncode, report, list(csv.DictReader(f)), p.stdout + p.stderr


# --- an independent implementation of what ccsim compares with -----------------------

def erlang_c(c, rate, service_s, t_s):
    """(ASA, service level within t_s, occupancy, P(wait)) of M/M/c."""
    a, b = rate * service_s, 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    pw = c * b / (c - a * (1 - b))
    return pw * service_s / (c - a), 1 - pw * math.exp(-(c - a) * t_s / service_s), a / c, pw


def replay(customers, c, t_s, w0, w1, route=0.0, accept=0.0, held=0.0):
    """First come first served through c agents: customers are (arrive, handle,
    patience, measured) sorted by arrival. Returns ASA, SL, occupancy,
    abandonment over the measured ones (occupancy over [w0, w1))."""
    free = [0.0] * c
    waits, abandoned, busy = [], 0, 0.0
    for arrive, handle, patience, measured in customers:
        offer = max(arrive, free[0]) + route
        wait = offer + accept - arrive
        if patience > 0 and offer - arrive > patience:
            abandoned += measured
            continue
        heapq.heapreplace(free, offer + handle + held)
        busy += max(0.0, min(offer + handle + held, w1) - max(offer, w0))
        if measured:
            waits.append(wait)
    resolved = len(waits) + abandoned
    return {"asa_s": sum(waits) / len(waits), "service_level": sum(w <= t_s for w in waits) /
            resolved, "occupancy": busy / (c * (w1 - w0)), "abandonment": abandoned / resolved,
            "answered": len(waits)}


def sampling_band(c, rate, aht, t_s, w0, w1, runs=1000, seed=20240601):
    """99th percentile of |figure - Erlang C| over `runs` ideal M/M/c runs."""
    rng, theory = random.Random(seed), erlang_c(c, rate, aht, t_s)
    devs = {"asa_s": [], "service_level": [], "occupancy": []}
    for _ in range(runs):
        t, cust = rng.expovariate(rate), []
        while t < w1:
            cust.append((t, rng.expovariate(1 / aht), 0, t >= w0))
            t += rng.expovariate(rate)
        r = replay(cust, c, t_s, w0, w1)
        for i, k in enumerate(devs):
            devs[k].append(abs(r[k] - theory[i]))
    return {k: sorted(v)[int(0.99 * runs)] for k, v in devs.items()}


def ks_exponential(xs, mean):
    """Kolmogorov-Smirnov distance of xs from the exponential of `mean`."""
    xs, n = sorted(xs), len(xs)
    return max(max((i + 1) / n - f, f - i / n)
               for i, f in enumerate(1 - math.exp(-x / mean) for x in xs))


def customers_of(rows):
    return [(float(r["arrive_s"]), float(r["handle_drawn_s"]), float(r["patience_drawn_s"]),
             r["measured"] == "1") for r in rows]


def assert_conserved(report):
    for q in report["queues"] + [report["total"]]:
        assert q["failed"] == 0, q
        assert q["arrivals"] == q["answered"] + q["abandoned"] + q["waiting"], q


def assert_figures_from_rows(report, rows, t_s):
    """The report's figures are the definitions applied to its own rows."""
    m = [r for r in rows if r["measured"] == "1"]
    ans = [float(r["wait_s"]) for r in m if r["outcome"] == "answered"]
    ab = sum(r["outcome"] == "abandoned" for r in m)
    tot = report["total"]
    assert (tot["arrivals"], tot["answered"], tot["abandoned"]) == (len(m), len(ans), ab)
    assert abs(tot["asa_s"] - sum(ans) / len(ans)) < 1e-4
    assert tot["answered_within_t"] == sum(w <= t_s for w in ans)
    assert abs(tot["service_level"] - sum(w <= t_s for w in ans) / (len(ans) + ab)) < 1e-9
    assert abs(tot["abandonment"] - ab / (len(ans) + ab)) < 1e-9


def assert_replays(report, rows, sc):
    """ccsim's two replays are the replay above on its own rows."""
    chk, t_s = report["check"], sc["service_level_s"]
    cust, w = customers_of(rows), (sc["warmup_s"], sc["duration_s"])
    for key, lat in (("replay", (0, 0, 0)), ("replay_latency", (
            chk["latency_route_s"], chk["latency_accept_s"], chk["latency_held_s"]))):
        mine = replay(cust, chk["agents"], t_s, *w, *lat)
        for k in ("asa_s", "service_level", "occupancy", "abandonment"):
            assert abs(mine[k] - chk[key][k]) < 1e-4, (key, k, mine, chk[key])


# --- the tests ---------------------------------------------------------------------------

AGENTS, AHT, LOAD, SCALE = 10, 300.0, 8.0, 600
MMC = {"name": "M/M/10 at 80 %", "time_scale": SCALE, "warmup_s": 1800,
       "duration_s": 1800 + 25 * SCALE,
       "drain_s": 3600, "service_level_s": 20, "seed": 11,
       "queues": [{"name": "Support", "kind": "chat", "arrivals_per_hour": LOAD / AHT * 3600,
                   "handling_time_s": AHT}],
       "agents": [{"group": "Team", "count": AGENTS,
                   "skills": [{"skill": "Support", "capacity": 50}]}]}


def test_mmc_run_agrees_with_erlang_c_and_with_a_replay_of_its_customers(cluster, tmp_path):
    start(cluster)
    rc, rep, rows, out = ccsim(cluster, tmp_path, MMC)
    assert rc == 0, out  # no anomaly: no failed request, no offer rang out, audit agrees
    diag = rep["diagnostics"]
    assert diag["audit_mismatch"] == 0 and diag["audit_checked"] == rep["total"]["arrivals"]
    assert_conserved(rep)
    tot, t_s, rate = rep["total"], MMC["service_level_s"], LOAD / AHT
    assert tot["abandoned"] == 0 and tot["waiting"] == 0
    assert_figures_from_rows(rep, rows, t_s)

    # the customers are what they claim: Poisson arrivals, exponential handling
    arrive = [float(r["arrive_s"]) for r in rows]
    expected = rate * MMC["duration_s"]
    assert abs(len(arrive) - expected) < 3.3 * math.sqrt(expected)  # 99.9 %
    gaps = [b - a for a, b in zip([0.0] + arrive, arrive)]
    crit = 1.95 / math.sqrt(len(rows))  # Kolmogorov-Smirnov, 0.1 % level
    assert ks_exponential(gaps, 1 / rate) < crit
    assert ks_exponential([float(r["handle_drawn_s"]) for r in rows], AHT) < crit
    # and each is held for its handling time: never less, latency more
    held = [float(r["handle_s"]) - float(r["handle_drawn_s"]) for r in rows if r["handle_s"]]
    assert min(held) > -1e-3 and sum(held) / len(held) < 0.05 * AHT

    chk = rep["check"]
    assert chk["agents"] == AGENTS
    assert_replays(rep, rows, MMC)
    e = erlang_c(AGENTS, rate, AHT, t_s)
    got_e = chk["erlang_c"]
    assert abs(got_e["asa_s"] - e[0]) < 1e-9 and abs(got_e["service_level"] - e[1]) < 1e-9
    assert abs(got_e["occupancy"] - e[2]) < 1e-9 and abs(got_e["p_wait"] - e[3]) < 1e-9

    measured = {"asa_s": tot["asa_s"], "service_level": tot["service_level"],
                "occupancy": rep["occupancy"]}
    model, ideal = chk["replay_latency"], chk["replay"]
    slack = {"asa_s": 0.15 * model["asa_s"] + t_s / 10, "service_level": 0.08,
             "occupancy": 0.02}
    band = sampling_band(AGENTS, rate, AHT, t_s, MMC["warmup_s"], MMC["duration_s"])
    theory = dict(zip(("asa_s", "service_level", "occupancy"), e))
    for k in measured:
        # the real system behaves as these customers in an ideal queue plus its latency
        assert abs(measured[k] - model[k]) <= slack[k], (k, measured[k], model[k], out)
        # the ideal replay is within sampling luck of Erlang C ...
        assert abs(ideal[k] - theory[k]) <= band[k], (k, ideal[k], theory[k], band[k])
        # ... so the measured figure is too, once the latency's share is allowed for
        allowed = band[k] + abs(model[k] - ideal[k]) + slack[k]
        assert abs(measured[k] - theory[k]) <= allowed, (k, measured[k], theory[k], allowed, out)


IMPATIENT = {"name": "overloaded, impatient", "time_scale": 600, "warmup_s": 600,
             "duration_s": 600 + 6000, "drain_s": 3600, "service_level_s": 20, "seed": 5,
             "queues": [{"name": "Hotline", "kind": "call", "arrivals_per_hour": 48,
                         "handling_time_s": 300, "patience_s": 60}],
             "agents": [{"group": "Few", "count": 3,
                         "skills": [{"skill": "Hotline", "capacity": 50}]}]}


def test_impatient_customers_abandon_when_their_patience_runs_out(cluster, tmp_path):
    start(cluster)
    rc, rep, rows, out = ccsim(cluster, tmp_path, IMPATIENT)
    assert rc == 0, out
    assert_conserved(rep)
    t_s, tot = IMPATIENT["service_level_s"], rep["total"]
    assert_figures_from_rows(rep, rows, t_s)
    assert tot["abandoned"] > 0 and tot["abandonment"] > 0.1, tot
    assert rep["check"]["erlang_c"] is None  # Erlang C assumes nobody abandons
    assert_replays(rep, rows, IMPATIENT)

    # each abandoned exactly when its patience ran out (the event may run late,
    # never early); each answered was offered before it ran out
    late = (rep["diagnostics"]["late_ms_max"] + 5) * IMPATIENT["time_scale"] / 1000
    for r in rows:
        if r["outcome"] == "abandoned":
            assert -1e-3 <= float(r["wait_s"]) - float(r["patience_drawn_s"]) <= late, r
        elif r["outcome"] == "answered":
            assert float(r["offer_wait_s"]) <= float(r["patience_drawn_s"]) + late, r

    # the same customers with the run's latency abandon as often, within the
    # few customers whose patience ends right where the latency's spread lies
    model = rep["check"]["replay_latency"]
    n = tot["answered"] + tot["abandoned"]
    assert abs(tot["abandonment"] - model["abandonment"]) <= 0.06 + 2 / n, (tot, model)
