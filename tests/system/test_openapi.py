"""The OpenAPI document (docs/openapi.yaml) against api-gateway: the gateway
serves exactly that file, every route the gateway registers is documented,
every documented operation is routed, and every $ref in it resolves.

Only the first test starts processes; the others read files (the document
and services/api-gateway/*.c) and need no build."""
import glob
import os
import re
import shutil
import subprocess

import pytest
import yaml

from harness import ROOT, Api, start_stack

DOC_PATH = os.path.join(ROOT, "docs", "openapi.yaml")
GATEWAY_DIR = os.path.join(ROOT, "services", "api-gateway")
PREFIX = "/api/v1"
HTTP_METHODS = ("GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE")
OPERATION_KEYS = {m.lower() for m in HTTP_METHODS}


def load_doc():
    with open(DOC_PATH, "rb") as f:
        raw = f.read()
    return raw, yaml.safe_load(raw)


def norm(path):
    """A path template with every parameter written as {}: "/users/{id}" and
    "/users/{user_id}" (or ":id", "<id>") compare equal."""
    return re.sub(r"\{[^/{}]*\}|:[A-Za-z_]\w*|<[^/<>]*>", "{}", path)


# --- routes from the gateway's C source ------------------------------------------------
#
# How the routes are found (robust to the table being reshaped):
#
# 1. Macro expansion. The route table composes its patterns with macros
#    (today: `#define API "/api/v1/"`, ROUTE(...) and OBJECT_ROUTES(path, ...)
#    which stamps out the five verbs of a kind), so a plain scan of the source
#    for "/api/v1/..." literals would see almost nothing. Each .c file is run
#    through the C preprocessor with its #include lines removed and the
#    #define lines of the directory's own headers prepended: only macros are
#    expanded, so neither system nor generated (protobuf-c) headers are needed.
#    The preprocessor also drops comments, so the paths named in comments and
#    #define bodies themselves are not mistaken for routes.
# 2. Tokenising. The expanded text is split into C tokens (string and char
#    literals, identifiers, punctuation); adjacent string literals are joined
#    as the compiler joins them ("/api/v1/" "users" "/{id}").
# 3. Patterns. Every joined literal that starts with "/api/v1/" and looks like
#    a path (no spaces or format directives) is a route pattern.
# 4. Methods. A pattern's method is the method token beside it in the same
#    initializer or call, on either side across one comma, optionally through a
#    designator (`.method = "GET", .pattern = API "me"`); the token before
#    the pattern wins over the one after it. A method token is a literal
#    "GET" ... or an identifier ending in _GET ... (an enum). When a pattern
#    has no method beside it, methods are taken as not extractable for that
#    pattern and only its path is compared (both directions).

TOKEN = re.compile(r"""
    (?P<str>"(?:\\.|[^"\\\n])*")
  | (?P<chr>'(?:\\.|[^'\\\n])*')
  | (?P<id>[A-Za-z_]\w*)
  | (?P<num>\.?\d(?:[\w.]|[eEpP][+-])*)
  | (?P<ws>\s+)
  | (?P<punct>.)
""", re.X | re.S)
METHOD_ID = re.compile(r"(?:^|_)(%s)$" % "|".join(HTTP_METHODS))
PATTERN_OK = re.compile(r"^/api/v1/[A-Za-z0-9_.~{}:<>/-]*$")


def c_unquote(lit):
    body = lit[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def c_tokens(text):
    """[(kind, value)] with whitespace dropped and adjacent strings joined."""
    out = []
    for m in TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "ws":
            continue
        value = m.group(kind)
        if kind == "str":
            value = c_unquote(value)
            if out and out[-1][0] == "str":
                out[-1] = ("str", out[-1][1] + value)
                continue
        out.append((kind, value))
    return out


def header_defines():
    """The #define lines (continuations joined) of services/api-gateway/*.h."""
    lines = []
    for h in sorted(glob.glob(os.path.join(GATEWAY_DIR, "*.h"))):
        with open(h, encoding="utf-8") as f:
            text = f.read().replace("\\\n", " ")
        lines += [ln for ln in text.splitlines() if re.match(r"\s*#\s*define\b", ln)]
    return "\n".join(lines)


def preprocess(path, defines):
    with open(path, encoding="utf-8") as f:
        text = f.read().replace("\\\n", " ")
    body = "\n".join("" if re.match(r"\s*#\s*include\b", ln) else ln
                     for ln in text.splitlines())
    cc = next((c for c in (os.environ.get("CC"), "cc", "gcc", "clang", "cpp")
               if c and shutil.which(c)), None)
    assert cc, "no C compiler or preprocessor to expand the route table's macros"
    argv = [cc, "-P", "-w", "-"] if os.path.basename(cc) == "cpp" else \
        [cc, "-E", "-P", "-w", "-x", "c", "-"]
    out = subprocess.run(argv, input=defines + "\n" + body, capture_output=True, text=True)
    assert out.returncode == 0, f"preprocessing {path} failed:\n{out.stderr}"
    return out.stdout


def method_at(toks, i):
    if 0 <= i < len(toks):
        kind, value = toks[i]
        if kind == "str" and value in HTTP_METHODS:
            return value
        if kind == "id":
            m = METHOD_ID.search(value)
            if m:
                return m.group(1)
    return None


def skip_designator_back(toks, i):
    """Index before `. name =` ending at i (or i itself)."""
    if i >= 2 and toks[i] == ("punct", "=") and toks[i - 1][0] == "id" and \
            toks[i - 2] == ("punct", "."):
        return i - 3
    return i


def skip_designator_fwd(toks, i):
    if i + 2 < len(toks) and toks[i] == ("punct", ".") and toks[i + 1][0] == "id" and \
            toks[i + 2] == ("punct", "="):
        return i + 3
    return i


def gateway_routes():
    """{path without /api/v1: set of methods (empty when not extractable)}."""
    defines = header_defines()
    routes = {}
    for src in sorted(glob.glob(os.path.join(GATEWAY_DIR, "*.c"))):
        toks = c_tokens(preprocess(src, defines))
        for i, (kind, value) in enumerate(toks):
            if kind != "str" or not value.startswith(PREFIX + "/") or not PATTERN_OK.match(value):
                continue
            methods = routes.setdefault(value[len(PREFIX):], set())
            m = None
            j = skip_designator_back(toks, i - 1)
            if j >= 1 and toks[j] == ("punct", ","):
                m = method_at(toks, skip_designator_back(toks, j - 1))
            if not m and i + 1 < len(toks) and toks[i + 1] == ("punct", ","):
                m = method_at(toks, skip_designator_fwd(toks, i + 2))
            if m:
                methods.add(m)
    return routes


def documented_operations(doc):
    """{normalised path: set of upper-case methods}."""
    ops = {}
    for path, item in doc["paths"].items():
        ops.setdefault(norm(path), set()).update(
            k.upper() for k in item if k in OPERATION_KEYS)
    return ops


def routed_operations():
    routes = {}
    for path, methods in gateway_routes().items():
        routes.setdefault(norm(path), set()).update(methods)
    assert "/auth/login" in routes, \
        f"route extraction found no /api/v1/auth/login; it found {sorted(routes)}"
    return routes


# --- tests -------------------------------------------------------------------------------

def test_gateway_serves_this_document_without_a_token(cluster):
    admin = start_stack(cluster)
    raw, doc = load_doc()
    for api in (admin, Api(admin.base)):
        r = api.get(PREFIX + "/openapi.yaml")
        assert r.status_code == 200, r.text
        assert "yaml" in r.headers.get("Content-Type", ""), r.headers
        assert r.content == raw, "served document differs from docs/openapi.yaml"
    served = yaml.safe_load(r.content)
    assert served == doc
    assert re.fullmatch(r"3\.0\.\d+", str(served["openapi"])), served["openapi"]
    assert served["servers"][0]["url"] == PREFIX


def test_document_is_openapi_3_0_and_well_formed():
    _, doc = load_doc()
    assert isinstance(doc, dict)
    assert re.fullmatch(r"3\.0\.\d+", str(doc.get("openapi"))), doc.get("openapi")
    assert doc["info"]["title"] and doc["info"]["version"]
    assert [s["url"] for s in doc["servers"]] == [PREFIX]
    assert "bearerAuth" in doc["components"]["securitySchemes"]
    op_ids = []
    for path, item in doc["paths"].items():
        assert path.startswith("/") and not path.startswith(PREFIX + "/"), path
        declared_at_path = item.get("parameters", [])
        for method, op in item.items():
            if method not in OPERATION_KEYS:
                continue
            op_ids.append(op["operationId"])
            assert op.get("responses"), (path, method)
            assert op.get("description"), f"{method.upper()} {path}: no description (role rules)"
            # every {param} of the template is declared as a required path parameter
            params = [resolve(doc, p["$ref"]) if "$ref" in p else p
                      for p in declared_at_path + op.get("parameters", [])]
            in_path = {p["name"] for p in params if p["in"] == "path"}
            assert set(re.findall(r"\{([^}]+)\}", path)) == in_path, (path, method, in_path)
            assert all(p.get("required") for p in params if p["in"] == "path"), (path, method)
    assert len(op_ids) == len(set(op_ids)), "operationId used twice"


def test_every_route_of_the_gateway_is_documented():
    _, doc = load_doc()
    documented = documented_operations(doc)
    routed = routed_operations()
    missing_paths = sorted(set(routed) - set(documented))
    assert not missing_paths, f"routed by api-gateway but not in docs/openapi.yaml: {missing_paths}"
    missing_ops = sorted(f"{m} {p}" for p, ms in routed.items() for m in ms
                         if m not in ("HEAD", "OPTIONS") and m not in documented[p])
    assert not missing_ops, f"routed but not documented: {missing_ops}"


def test_every_documented_operation_is_routed():
    _, doc = load_doc()
    routed = routed_operations()
    unrouted = []
    for path, methods in documented_operations(doc).items():
        if path not in routed:
            unrouted.append(f"{path} (no such route)")
            continue
        if routed[path]:  # methods extractable for this pattern
            unrouted += [f"{m} {path}" for m in sorted(methods - routed[path])]
    assert not unrouted, f"documented but not routed by api-gateway: {unrouted}"


def resolve(doc, ref):
    assert ref.startswith("#/"), f"only local references are used: {ref}"
    node = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"unresolved $ref {ref}"
        node = node[part]
    return node


def refs_in(node, where="#"):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                yield where, v
            else:
                yield from refs_in(v, f"{where}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from refs_in(v, f"{where}/{i}")


def test_every_ref_resolves():
    _, doc = load_doc()
    refs = list(refs_in(doc))
    assert refs, "the document uses no $ref at all?"
    bad = []
    for where, ref in refs:
        try:
            resolve(doc, ref)
        except AssertionError as e:
            bad.append(f"{where}: {e}")
    assert not bad, "\n".join(bad)
    # every reusable component is used somewhere
    used = {ref for _, ref in refs}
    for section in ("schemas", "responses", "parameters"):
        for name in doc["components"].get(section, {}):
            assert f"#/components/{section}/{name}" in used, f"unused component {section}/{name}"
