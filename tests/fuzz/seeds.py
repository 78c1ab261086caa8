#!/usr/bin/env python3
"""Writes the seed corpora of the libFuzzer targets (tests/fuzz/<target>/).

Seeds come from the test fixtures (tests/fixtures/providers: webhook bodies,
send and media answers) and from the .proto files (proto/cc/v1): one JSON
body per API type with every field set, and the same object packed as
protobuf for the bus. A target that fuzzes several parsers takes the first
byte as the choice of parser (tests/fuzz/fuzz.h), so each seed starts with
the byte that selects its parser. Files are named by content hash, as
libFuzzer names what it finds; regression inputs (crashes fixed) are kept
beside them under names starting with "regress-" and are never rewritten.

Usage: tests/fuzz/seeds.py   (from the repository root)
Run it again after a fixture or a .proto changes: it replaces every seed it
wrote before (every file not named regress-*) with the current ones.
"""
import hashlib
import json
import os
import re
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "fixtures", "providers")
OUT = os.path.join(ROOT, "tests", "fuzz")

# --- the .proto model (proto2, no oneof, no nesting: what proto/cc/v1 uses) ---
FIELD = re.compile(r"^\s*(optional|repeated|required)\s+([\w.]+)\s+(\w+)\s*=\s*(\d+)")


def load_protos():
    msgs, cur = {}, None
    for name in sorted(os.listdir(os.path.join(ROOT, "proto", "cc", "v1"))):
        for line in open(os.path.join(ROOT, "proto", "cc", "v1", name)):
            line = line.split("//")[0]
            m = re.match(r"^\s*message\s+(\w+)", line)
            if m:
                cur = msgs.setdefault(m.group(1), [])
                continue
            m = FIELD.match(line)
            if m and cur is not None:
                cur.append((m.group(1), m.group(2).split(".")[-1], m.group(3), int(m.group(4))))
    return msgs


SCALAR_JSON = {"string": "x1", "bool": True, "int64": 7, "int32": 7, "uint32": 7, "uint64": 7,
               "double": 1.5, "float": 1.5, "bytes": "AAEC"}


def example_json(msgs, name, depth=0):
    obj = {}
    for label, typ, fname, _ in msgs[name]:
        if typ in msgs:
            if depth >= 2:
                continue
            v = example_json(msgs, typ, depth + 1)
        else:
            v = SCALAR_JSON[typ]
        obj[fname] = [v] if label == "repeated" else v
    return obj


def varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def example_pb(msgs, name, depth=0):
    out = bytearray()
    for label, typ, _, num in msgs[name]:
        for _ in range(2 if label == "repeated" else 1):
            if typ in msgs:
                if depth >= 2:
                    break
                body = example_pb(msgs, typ, depth + 1)
                out += varint(num << 3 | 2) + varint(len(body)) + body
            elif typ in ("string", "bytes"):
                out += varint(num << 3 | 2) + varint(2) + b"x1"
            elif typ == "double":
                out += varint(num << 3 | 1) + struct.pack("<d", 1.5)
            elif typ == "float":
                out += varint(num << 3 | 5) + struct.pack("<f", 1.5)
            else:
                out += varint(num << 3) + varint(1 if typ == "bool" else 7)
    return bytes(out)


def snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


# --- writing -------------------------------------------------------------------
def write(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def fixture(provider, name):
    with open(os.path.join(FIX, provider, name), "rb") as f:
        return f.read()


PROVIDERS = ["telegram", "viber", "infobip", "whatsapp", "messenger"]  # as webhook.c, answers.c
STATUSES = [200, 201, 0, 400, 401, 403, 404, 408, 429, 500, 502, 503, 299, 302]  # answers.c
ANSWERS = {"send_", "getfile", "media"}


def providers():
    for i, p in enumerate(PROVIDERS):
        for name in sorted(os.listdir(os.path.join(FIX, p))):
            body = fixture(p, name)
            if not any(name.startswith(a) for a in ANSWERS):
                write("webhook", bytes([i]) + body)
                continue
            if name.startswith("send_"):
                status = 200 if name == "send_ok.json" else 400
                if "throttled" in name or "too_many" in name or "rate_limited" in name:
                    status = 429
                write("answers", bytes([i, STATUSES.index(status)]) + body)
            else:  # a media lookup answer (Telegram getFile, WhatsApp Cloud's media)
                status = 404 if "not_found" in name else 200
                write("answers", bytes([5 + i, STATUSES.index(status)]) + body)
    # downloaded files whose type is sniffed
    for blob in (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", b"\xff\xd8\xff\xe0\0\x10JFIF\0", b"%PDF-1.7\n%",
                 b"GIF89a\1\0\1\0", b"PK\3\4\x14\0\0\0", b"hello, plain text\n", b"OggS\0\2"):
        write("answers", bytes([6, 0]) + blob)


API_TYPES = ["User", "Team", "Skill", "Queue", "PauseCause", "QuickReply", "Result", "Channel",
             "AgentSkill", "Permissions", "CrmSettings", "Call", "Callback", "Chat", "Contact",
             "CaseReply", "ContactList"]  # as api_json.c


def api(msgs):
    for i, t in enumerate(API_TYPES):
        write("api_json", bytes([i]) + json.dumps(example_json(msgs, t)).encode())
        write("api_json", bytes([i]) + b"{}")
    write("api_json", b"\0" + json.dumps({"login": "ana", "password": "pw", "rights": {"print": True},
                                          "agent": {"enabled": False, "team_id": None}}).encode())


def bus(msgs):
    # the order of build/fuzz/gen/fuzz_types.h: headers by name, messages in file order
    names = []
    for f in sorted(os.listdir(os.path.join(ROOT, "proto", "cc", "v1"))):
        for line in open(os.path.join(ROOT, "proto", "cc", "v1", f)):
            m = re.match(r"^\s*message\s+(\w+)", line.split("//")[0])
            if m:
                names.append(m.group(1))
    for i, t in enumerate(names):
        pb = example_pb(msgs, t)
        write("bus", bytes([i, len(pb) // 2 % 256]) + pb)


def small():
    write("webchat", b"\0")
    write("webchat", b"\0" + b'{"name":"Ana Lima"}')
    write("webchat", b"\0" + b'{"name":null}')
    write("webchat", b"\0" + b'{"name":"Ana","email":"ana@example.com","language":"pt-BR"}')
    write("webchat", b"\1" + b'{"text":"Hello! \xf0\x9f\x98\x80","client_id":"c-1"}')
    write("webchat", b"\1" + b'{"text":"ol\xc3\xa1"}')
    write("pbx", b"\0" + b'{"call_id":"a84b4c76e66710@pbx","queue_id":"q_1","from":"+351 912 345 678","to":"800","priority":5}')
    write("pbx", b"\1" + b'{"type":"answered","offer_id":"off_1","by":"agent"}')
    write("pbx", b"\1" + b'{"type":"hangup","by":"caller","reason":"normal clearing"}')
    write("pbx", b"\2" + b'{"call_id":"c-9","direction":"outbound","from":"1001","to":"+44 20 7946 0000"}')
    write("pbx", b"\3" + b'{"status":"failed","reason":"busy here"}')
    write("pbx", b"\4" + b"a84b4c76e66710%40pbx.example")
    crm = [
        (0, '{"@odata.context":"x","value":[{"Id":"c0a8f1a2-0000-4000-8000-000000000001","Name":"Ana"},'
            '{"Id":"b"}],"@odata.nextLink":"Contact?$skip=2"}'),
        (1, '{"error":{"code":"","message":"The property \'Foo\' does not exist"}}'),
        (2, '{"Code":0,"Message":""}'),
        (2, '{"Code":1,"Message":"Either username or password is incorrect"}'),
        (3, '{"access_token":"tok-1","expires_in":3600,"token_type":"Bearer"}'),
        (5, '{"responses":[{"id":"r1","status":204},{"id":"r0","status":201,"body":{"Id":"x"}},'
            '{"id":"r2","status":500,"body":{"error":{"message":"no"}}}]}'),
        (7, "Set-Cookie: .ASPXAUTH=A1B2; path=/; HttpOnly\r\nSet-Cookie: BPMCSRF=x9; path=/\r\n"
            "Content-Type: application/json\r\n"),
        (8, "120"),
        (8, "Wed, 21 Oct 2026 07:28:00 GMT"),
        (9, '{"items":[{"id":"42","name":"Ana Lima","phone":"+351912345678","account_name":"Acme"}]}'),
        (10, '{"id":"42","name":"Ana Lima"}'),
        (11, '{"id":"c-7","number":"CS0007"}'),
    ]
    for sel, text in crm:
        write("crm", bytes([sel]) + text.encode())


def records(msgs):
    write("crm", b"\x0c" + example_pb(msgs, "Chat"))
    write("crm", b"\x0d" + example_pb(msgs, "Call"))


TARGETS = ["webhook", "answers", "api_json", "bus", "webchat", "pbx", "crm"]


def clear():
    for t in TARGETS:
        d = os.path.join(OUT, t)
        for name in os.listdir(d) if os.path.isdir(d) else []:
            if not name.startswith("regress-"):
                os.remove(os.path.join(d, name))


if __name__ == "__main__":
    clear()
    msgs = load_protos()
    providers()
    api(msgs)
    bus(msgs)
    small()
    records(msgs)
