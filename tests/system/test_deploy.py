"""deploy/ holds up offline: both kustomize overlays render with kubectl and
every rendered object validates against the Kubernetes 1.27 schemas
(kubernetes-models, pinned; deploy/tools/validate); the alert rules pass
promtool's check and unit tests; every service's real /metrics passes
`promtool check metrics`; the Grafana dashboard and the alert rules name only
metrics the services export; docker-compose.yml is valid with and without the
replica knobs. Tools come from make deps (kubectl, promtool, node)."""
import json
import os
import re
import shutil
import subprocess

import pytest
import requests
import yaml

from harness import ROOT, start_stack

DEPLOY = os.path.join(ROOT, "deploy")
OVERLAYS = os.path.join(DEPLOY, "kubernetes", "overlays")
VALIDATE = os.path.join(DEPLOY, "tools", "validate", "validate.mjs")
MONITORING = os.path.join(DEPLOY, "monitoring")
SERVICES = ["agent-registry", "skill-router", "chat-gateway", "call-router", "crm-sync",
            "api-gateway"]


def tool(name):
    path = shutil.which(name)
    assert path, f"{name} is not installed (make deps)"
    return path


def run(*args, stdin=None):
    return subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=120)


def render(overlay):
    r = run(tool("kubectl"), "kustomize", os.path.join(OVERLAYS, overlay))
    assert r.returncode == 0, r.stderr
    return r.stdout


def validate(text):
    assert os.path.isdir(os.path.join(DEPLOY, "tools", "validate", "node_modules",
                                      "kubernetes-models")), "make deps installs the validator"
    return run(tool("node"), VALIDATE, stdin=text)


def by_kind(text):
    out = {}
    for doc in yaml.safe_load_all(text):
        if doc:
            out.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
    return out


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_overlay_renders_and_every_object_validates(overlay):
    text = render(overlay)
    r = validate(text)
    assert r.returncode == 0, r.stdout + r.stderr
    objs = by_kind(text)
    assert re.search(r"^(\d+) objects, 0 invalid", r.stdout, re.M)
    deployments = objs["Deployment"]
    assert sorted(deployments) == sorted(SERVICES)
    assert sorted(objs["PodDisruptionBudget"]) == sorted(SERVICES)
    assert "default-deny" in objs["NetworkPolicy"]
    assert sorted(objs["Ingress"]) == ["chat", "staff"]
    for name, d in deployments.items():
        pod = d["spec"]["template"]["spec"]
        c = pod["containers"][0]
        assert d["metadata"]["namespace"] == "contact-center"
        assert c["resources"]["requests"]["cpu"] and c["resources"]["limits"]["memory"], name
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert c["securityContext"]["readOnlyRootFilesystem"] is True
        assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert pod["topologySpreadConstraints"], name
    config = objs["ConfigMap"]["cc-common"]["data"]
    secret = objs["Secret"]["cc-secrets"]["stringData"]
    # the shipped secret is placeholders the services refuse outside development
    assert all("change-me" in v for v in secret.values())
    if overlay == "dev":
        assert config["CC_DEV_SECRETS"] == "1"
        assert "HorizontalPodAutoscaler" not in objs
        assert all(d["spec"]["replicas"] == 1 for d in deployments.values())
    else:
        assert "CC_DEV_SECRETS" not in config
        assert config["CC_NATS_STREAM_REPLICAS"] == "3"
        assert sorted(objs["HorizontalPodAutoscaler"]) == ["api-gateway", "chat-gateway",
                                                           "skill-router"]
        for name, d in deployments.items():
            assert ("replicas" in d["spec"]) != (name in objs["HorizontalPodAutoscaler"]), name
            assert d["spec"].get("replicas", 2) >= 2
        assert objs["PersistentVolumeClaim"]["chat-files"]["spec"]["accessModes"] == \
            ["ReadWriteMany"]


def test_the_validator_refuses_invalid_objects():
    """A wrong enum, a misspelt field, a missing required field, an unknown kind."""
    text = render("dev")
    broken = text.replace("imagePullPolicy: IfNotPresent", "imagePullPolicy: Sometimes", 1) \
                 .replace("readOnlyRootFilesystem:", "readOnlyRootFilesytem:", 1)
    r = validate(broken)
    assert r.returncode == 1
    assert "imagePullPolicy: must be equal to one of the allowed values" in r.stdout
    assert "readOnlyRootFilesytem: unknown field" in r.stdout
    r = validate("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {}\n---\n"
                 "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: y}\n")
    assert r.returncode == 1
    assert "must have required property containers" in r.stdout
    assert "not a Kubernetes 1.27 kind" in r.stdout


def test_alert_rules_pass_promtool_check_and_unit_tests():
    r = run(tool("promtool"), "check", "rules", os.path.join(MONITORING, "alerts.yaml"))
    assert r.returncode == 0 and "SUCCESS" in r.stdout, r.stdout + r.stderr
    r = run(tool("promtool"), "test", "rules", os.path.join(MONITORING, "alerts-test.yaml"))
    assert r.returncode == 0, r.stdout + r.stderr


# PromQL words that are not metric names
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and",
                "or", "unless", "offset", "inf", "nan"}


def metric_names(expr):
    """The metric names a PromQL expression reads: identifiers that are not
    functions, keywords, label names or label values."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)           # string literals
    e = re.sub(r"\{[^}]*\}", "", e)                        # label matchers
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", e)
    e = re.sub(r"\[[^\]]*\]", "", e)                       # ranges
    names = set()
    for m in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", e):
        word, rest = m.group(0), e[m.end():].lstrip()
        if rest.startswith("(") or word in PROMQL_WORDS:
            continue
        names.add(word)
    return names


def exported(names, name):
    """`name` is a series of an exported metric (histograms: _bucket, _sum, _count)."""
    if name in names:
        return True
    base = re.sub(r"_(bucket|sum|count)$", "", name)
    return base != name and base in names


@pytest.fixture(scope="module")
def scraped(tmp_path_factory):
    """Every service running (the sanitizer build the tests use), its /metrics text."""
    from harness import Cluster
    c = Cluster(str(tmp_path_factory.mktemp("deploy")))
    try:
        start_stack(c)
        for name in SERVICES[1:5]:
            c.start(name, env={"CC_PUBLIC_URL": "self"} if name == "chat-gateway" else None)
        yield {k: (requests.get(s.url("/metrics"), timeout=5).text, s.port)
               for k, s in c.services.items()}
    finally:
        failures = c.close()
    assert not failures, failures


def test_every_service_metrics_pass_promtool(scraped):
    assert sorted(scraped) == sorted(SERVICES)
    for name, (text, _) in scraped.items():
        r = run(tool("promtool"), "check", "metrics", stdin=text)
        assert r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(), \
            (name, r.stdout, r.stderr)


def test_dashboard_and_alerts_name_only_exported_metrics(scraped):
    names = set()
    for text, _ in scraped.values():
        names |= set(re.findall(r"^# TYPE (\S+) ", text, re.M))
        names |= set(re.findall(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", text, re.M))
    with open(os.path.join(MONITORING, "grafana-dashboard.json")) as f:
        dash = json.load(f)
    exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    assert len(exprs) >= 20
    used = set()
    for expr in exprs:
        for name in metric_names(expr):
            assert exported(names, name), f"dashboard: {name} is not exported ({expr})"
            used.add(name)
    # the alert rules too, but for what other exporters provide
    outside = {"jetstream_consumer_num_pending", "up"}
    with open(os.path.join(MONITORING, "alerts.yaml")) as f:
        rules = [r for g in yaml.safe_load(f)["groups"] for r in g["rules"]]
    for rule in rules:
        for name in metric_names(rule["expr"]) - outside:
            assert exported(names, name), f"{rule['alert']}: {name} is not exported"
    # the check itself can fail
    assert not exported(names, "cc_router_no_such_metric_total")
    assert metric_names('sum by (queue) (rate(cc_a_total{x="y"}[5m])) / on(q) cc_b') == \
        {"cc_a_total", "cc_b"}


@pytest.mark.parametrize("knobs", [{}, {"ROUTERS": "3", "CHATGWS": "2", "REGISTRIES": "2"}])
def test_compose_file_is_valid_with_replica_knobs(knobs):
    env = dict(os.environ, **knobs)
    r = subprocess.run([tool("docker-compose"), "-f", os.path.join(ROOT, "docker-compose.yml"),
                        "config"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr
    conf = yaml.safe_load(r.stdout)
    for svc, knob in (("skill-router", "ROUTERS"), ("chat-gateway", "CHATGWS"),
                      ("agent-registry", "REGISTRIES")):
        assert conf["services"][svc]["deploy"]["replicas"] == int(knobs.get(knob, "1"))


def test_image_health_check_asks_readyz(scraped):
    """deploy/docker/cc-healthcheck (the image's HEALTHCHECK and compose's):
    0 on a ready service, 1 on a closed port."""
    check = os.path.join(DEPLOY, "docker", "cc-healthcheck")
    port = scraped["skill-router"][1]
    r = subprocess.run([check], env=dict(os.environ, CC_HTTP_ADDR=f"0.0.0.0:{port}"),
                       capture_output=True, timeout=10)
    assert r.returncode == 0, r.stderr
    from harness import free_port
    r = subprocess.run([check], env=dict(os.environ, CC_HTTP_ADDR=f"0.0.0.0:{free_port()}"),
                       capture_output=True, timeout=10)
    assert r.returncode == 1


def test_runtime_image_has_no_compiler_and_runs_as_non_root():
    with open(os.path.join(ROOT, "Dockerfile")) as f:
        stages = re.split(r"^FROM ", f.read(), flags=re.M)
    runtime = stages[-1]
    assert "AS build" in stages[-2] and "--from=build" in runtime
    installs = " ".join(re.findall(r"apt-get install[^&]*", runtime))
    for forbidden in ("build-essential", "gcc", "clang", "-dev", "make", "pkg-config"):
        assert forbidden not in installs, forbidden
    assert re.search(r"^USER 10001", runtime, re.M)
    assert re.search(r"^HEALTHCHECK .*cc-healthcheck", runtime, re.M)


def test_helm_values_ask_for_a_three_node_jetstream_cluster_and_sentinel():
    """No helm here to render the charts: the values files parse and hold the
    settings docs/deploy.md promises."""
    with open(os.path.join(DEPLOY, "helm", "nats-values.yaml")) as f:
        nats = yaml.safe_load(f)
    assert nats["config"]["cluster"] == {"enabled": True, "replicas": 3}
    assert nats["config"]["jetstream"]["fileStore"]["enabled"] is True
    assert nats["config"]["merge"]["authorization"]["user"] == "cc"
    assert "NATS_PASSWORD" in nats["container"]["env"]
    with open(os.path.join(DEPLOY, "helm", "redis-values.yaml")) as f:
        redis = yaml.safe_load(f)
    assert redis["architecture"] == "replication" and redis["sentinel"]["enabled"] is True
    assert redis["sentinel"]["quorum"] == 2 and redis["replica"]["replicaCount"] == 3
    assert redis["sentinel"]["masterSet"] == "mymaster"
    assert "appendfsync everysec" in redis["commonConfiguration"]
    # the services are pointed at them
    config = by_kind(render("prod"))["ConfigMap"]["cc-common"]["data"]
    assert config["CC_REDIS_MASTER"] == redis["sentinel"]["masterSet"]
    assert config["CC_REDIS_SENTINELS"].endswith(":26379")
