"""A stand-in Creatio server for crm-sync's tests (docs/crm.md, creatio.md section 8).

One process, all state in memory, a threaded http.server on loopback (TCP_NODELAY, one
write per response). It speaks what crm-sync uses of Creatio: forms login with cookies
and the BPMCSRF check, OAuth 2.0 client credentials, OData 4 under a configurable prefix
($filter subset, $select, $orderby, $top, $skip, $count, $expand of lookups,
@odata.nextLink paging, $batch in JSON form) and the outbound "Call web service" hook on
agent rows. /__test/* endpoints (no auth) reset, seed and dump the store, read the
request log, expire sessions, inject failures and delays.

As a module: `srv = Standin(...).start()` (a thread; srv.url, srv.stop()).
As a script: `python3 creatio_standin.py --port 8123 --page-size 2 --hook-url ...`.
"""
import argparse
import base64
import copy
import datetime as dt
import json
import os
import queue
import re
import secrets
import signal
import socket
import sys
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# ---------------------------------------------------------------- schema and seed

GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                     r"[0-9a-fA-F]{12}$")
COMMON_FIELDS = {"Id": "guid", "CreatedOn": "datetime", "ModifiedOn": "datetime"}


def _fields(spec):
    """'Name GivenName:str AccountId:guid' -> {field: type}; untyped names are str,
    names ending in Id are guid, Date/On datetime."""
    out = dict(COMMON_FIELDS)
    for item in spec.split():
        name, _, typ = item.partition(":")
        if not typ:
            typ = "guid" if name.endswith("Id") else \
                "datetime" if name.endswith("Date") or name.endswith("On") else "str"
        out[name] = typ
    return out


SCHEMA = {
    "Contact": _fields("Name GivenName Phone MobilePhone HomePhone Email AccountId TypeId "
                       "OwnerId"),
    "ContactCommunication": _fields("ContactId CommunicationTypeId Number SearchNumber"),
    "CommunicationType": _fields("Name"),
    "Account": _fields("Name Phone AdditionalPhone Web PrimaryContactId OwnerId TypeId"),
    "Case": _fields("Number Subject Symptoms ContactId AccountId StatusId PriorityId OriginId "
                    "CategoryId OwnerId ParentCaseId"),
    "Activity": _fields("Title StartDate DueDate TypeId ActivityCategoryId StatusId PriorityId "
                        "OwnerId ContactId AccountId CaseId Notes DetailedResult ResultId"),
    "Call": _fields("CallerId:str CalledId:str StartDate EndDate Duration:int TalkTime:int "
                    "HoldTime:int BeforeConnectionTime:int DirectionId ContactId AccountId "
                    "ResultId Comment Notes ActivityId IntegrationId:str ParentCallId"),
    "SysAdminUnit": _fields("Name ContactId AccountId SysAdminUnitTypeValue:int Active:bool "
                            "ConnectionType:int Email ParentRoleId"),
    "UsrWebitelUser": _fields("UsrName UsrContactId UsrSysAdminUnitId UsrExternalUserId:str "
                              "UsrIsAgent:bool UsrTeamId"),
    "UsrWebitelTeam": _fields("UsrName UsrExternalId:str"),
    "UsrWebitelSkill": _fields("UsrName UsrExternalId:str"),
    "UsrWebitelAgentSkill": _fields("UsrWebitelUserId UsrSkillId UsrCapacity:int "
                                    "UsrActive:bool"),
    "UsrChat": _fields("UsrName UsrExternalId:str UsrFrom UsrTo UsrSource UsrQueue "
                       "UsrStartDate UsrEndDate UsrState UsrResult UsrResultDetails "
                       "UsrAccountId UsrContactId UsrActivityId UsrCaseId"),
}
# Lookup navigation name -> entity set, where the name is not itself a set.
NAV_TARGETS = {"Owner": "Contact", "PrimaryContact": "Contact", "UsrContact": "Contact",
               "UsrAccount": "Account", "UsrTeam": "UsrWebitelTeam",
               "UsrSkill": "UsrWebitelSkill", "UsrSysAdminUnit": "SysAdminUnit",
               "ParentCase": "Case", "UsrCase": "Case", "UsrActivity": "Activity",
               "ParentCall": "Call", "ParentRole": "SysAdminUnit"}
HOOK_SETS = ("UsrWebitelUser", "UsrWebitelAgentSkill")

# Well-known ids (creatio.md section 3) and the seed rows.
COMM_TYPES = {"Mobile": "d4a2dc80-30ca-df11-9b2a-001d60e938c6",
              "Business": "3dddb3cc-53ee-49c4-a71f-e9e257f59e49",
              "Main": "6a3fb10c-67cc-df11-9b2a-001d60e938c6",
              "Additional": "2b387201-67cc-df11-9b2a-001d60e938c6",
              "Home": "0da6a26b-d7bc-df11-b00f-001d60e938c6",
              "Other": "21c0d693-9a52-43fa-b7f1-c6d8b53975d4",
              "Extension": "e9d91e45-8d92-4e38-95a0-ef8aa28c9e7a",
              "Fax": "9a7ab41b-67cc-df11-9b2a-001d60e938c6",
              "Email": "ee1c85c3-cfcb-df11-9b2a-001d60e938c6"}
ACCOUNT_1 = "405947d0-2ffb-4ded-8675-0475f19f5a81"
ACCOUNT_2 = "7d1a2c4e-0b6f-4b44-9f3e-2a6b1c9d0e11"
CONTACT_1 = "c4ed336c-3e9b-40fe-8b82-5632476472b4"   # two numbers, unique
CONTACT_2 = "5b0f7a9e-6c1d-4e3a-8f21-9d4c3b2a1e02"   # shares a number with CONTACT_3
CONTACT_3 = "e2c6d8f0-1a3b-4c5d-9e7f-0a1b2c3d4e03"
SHARED_NUMBER = "+380 67 000 1122"
TEAM_1 = "a1f0c2d3-4e5f-4a6b-8c7d-9e0f1a2b3c01"
SKILL_10 = "b2e1d3c4-5f6a-4b7c-8d9e-0f1a2b3c4d10"
SKILL_11 = "b2e1d3c4-5f6a-4b7c-8d9e-0f1a2b3c4d11"
USER_1 = "f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a01"
USER_2 = "f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a02"


def seed_rows():
    """The default store: 2 accounts, 3 contacts (one with two numbers, two sharing
    SHARED_NUMBER), the communication types, two users, a team and two skills."""
    return {
        "Account": [{"Id": ACCOUNT_1, "Name": "Kovalenko Logistics", "Phone": "+380 44 200 1000"},
                    {"Id": ACCOUNT_2, "Name": "Petrenko Farm", "Phone": "+380 32 300 2000"}],
        "Contact": [
            {"Id": CONTACT_1, "Name": "Olena Kovalenko", "GivenName": "Olena",
             "MobilePhone": "+380 50 123 4567", "Phone": "+380 44 555 0101",
             "Email": "olena@example.com", "AccountId": ACCOUNT_1},
            {"Id": CONTACT_2, "Name": "Ivan Petrenko", "GivenName": "Ivan",
             "HomePhone": SHARED_NUMBER, "Email": "ivan@example.com", "AccountId": ACCOUNT_2},
            {"Id": CONTACT_3, "Name": "Maria Petrenko", "GivenName": "Maria",
             "HomePhone": SHARED_NUMBER, "Email": "maria@example.com", "AccountId": ACCOUNT_2}],
        "ContactCommunication": [
            {"Id": "0c000001-0000-4000-8000-000000000001", "ContactId": CONTACT_1,
             "CommunicationTypeId": COMM_TYPES["Mobile"], "Number": "+380 50 123 4567"},
            {"Id": "0c000001-0000-4000-8000-000000000002", "ContactId": CONTACT_1,
             "CommunicationTypeId": COMM_TYPES["Business"], "Number": "+380 44 555 0101"},
            {"Id": "0c000001-0000-4000-8000-000000000003", "ContactId": CONTACT_2,
             "CommunicationTypeId": COMM_TYPES["Home"], "Number": SHARED_NUMBER},
            {"Id": "0c000001-0000-4000-8000-000000000004", "ContactId": CONTACT_3,
             "CommunicationTypeId": COMM_TYPES["Home"], "Number": SHARED_NUMBER},
            {"Id": "0c000001-0000-4000-8000-000000000005", "ContactId": CONTACT_1,
             "CommunicationTypeId": COMM_TYPES["Email"], "Number": "olena@example.com"}],
        "CommunicationType": [{"Id": i, "Name": n} for n, i in COMM_TYPES.items()],
        "SysAdminUnit": [
            {"Id": USER_1, "Name": "Olena Kovalenko", "ContactId": CONTACT_1,
             "SysAdminUnitTypeValue": 4, "Active": True, "ConnectionType": 0},
            {"Id": USER_2, "Name": "Ivan Petrenko", "ContactId": CONTACT_2,
             "SysAdminUnitTypeValue": 4, "Active": True, "ConnectionType": 0}],
        "UsrWebitelTeam": [{"Id": TEAM_1, "UsrName": "Support", "UsrExternalId": "1"}],
        "UsrWebitelSkill": [{"Id": SKILL_10, "UsrName": "English", "UsrExternalId": "10"},
                            {"Id": SKILL_11, "UsrName": "Billing", "UsrExternalId": "11"}],
    }


# ---------------------------------------------------------------- values

class ODataError(Exception):
    """An error answered as {"error":{"code":"","message":...}} with `status`."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status, self.message = status, message


def now_iso():
    t = dt.datetime.now(dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def parse_dt(s):
    """ISO 8601 with Z or an offset -> aware datetime; ValueError otherwise."""
    if not isinstance(s, str) or "T" not in s:
        raise ValueError("not a datetime")
    t = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    if t.tzinfo is None:
        raise ValueError("no zone")
    return t.astimezone(dt.timezone.utc)


def fmt_dt(t):
    base = t.strftime("%Y-%m-%dT%H:%M:%S")
    return base + (f".{t.microsecond // 1000:03d}Z" if t.microsecond else "Z")


def entity_type(set_name):
    return f"Terrasoft.Configuration.{set_name}"


def check_value(set_name, field, typ, value):
    """The stored form of `value` for a field of `typ`; ODataError 400 when it does not fit."""
    if value is None:
        return None
    ok = {"str": isinstance(value, str),
          "guid": isinstance(value, str) and GUID_RE.match(value or "") is not None,
          "int": isinstance(value, int) and not isinstance(value, bool),
          "bool": isinstance(value, bool),
          "datetime": isinstance(value, str)}[typ]
    if ok and typ == "datetime":
        try:
            return fmt_dt(parse_dt(value))
        except ValueError:
            ok = False
    if not ok:
        raise ODataError(400, f"Cannot convert the literal '{value}' to the expected type "
                              f"for property '{field}' of '{entity_type(set_name)}'.")
    return value.lower() if typ == "guid" else value


def comparable(typ, value):
    if value is None:
        return None
    if typ == "datetime":
        return parse_dt(value)
    if typ in ("str", "guid"):
        return value.lower()
    return value


# ---------------------------------------------------------------- $filter

TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<punct>[(),])
  | (?P<string>'(?:[^']|'')*')
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))
  | (?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b)
  | (?P<number>-?\d+(?:\.\d+)?\b)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:/[A-Za-z_][A-Za-z0-9_]*)*)
""", re.X)
COMPARE = {"eq": lambda a, b: a == b, "ne": lambda a, b: a != b,
           "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b,
           "lt": lambda a, b: a < b, "le": lambda a, b: a <= b}
STRFUNC = {"contains": lambda a, b: b in a, "startswith": lambda a, b: a.startswith(b),
           "endswith": lambda a, b: a.endswith(b)}
EQ_ANY_RE = re.compile(r"\s*(\w+) eq '[^']*'(?:\s+or\s+\1 eq '[^']*')*\s*")
LITERAL_TYPE = {"string": "str", "guid": "guid", "datetime": "datetime", "number": "int"}


def tokenize(text):
    out, pos = [], 0
    while pos < len(text):
        m = TOKEN_RE.match(text, pos)
        if not m:
            raise ODataError(400, "The query specified in the URI is not valid. "
                                  f"Syntax error at position {pos}.")
        if m.lastgroup != "ws":
            out.append((m.lastgroup, m.group(), pos))
        pos = m.end()
    out.append(("end", "", pos))
    return out


class FilterParser:
    """Recursive descent over the $filter subset; compiles to a predicate over a row.
    Fields resolve through `resolve(path) -> (type, getter)` so Nav/Id and Nav/Field work."""

    def __init__(self, text, resolve):
        self.toks, self.i, self.resolve = tokenize(text), 0, resolve

    def fail(self):
        pos = self.toks[self.i][2]
        raise ODataError(400, f"The query specified in the URI is not valid. "
                              f"Syntax error at position {pos}.")

    def peek(self, value=None):
        kind, text, _ = self.toks[self.i]
        return text if value is None else (kind == "name" and text == value) or \
            (kind == "punct" and text == value)

    def take(self, value=None):
        if value is not None and not self.peek(value):
            self.fail()
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def parse(self):
        pred = self.expr_or()
        if self.toks[self.i][0] != "end":
            self.fail()
        return pred

    def expr_or(self):
        left = self.expr_and()
        while self.peek("or"):
            self.take()
            right = self.expr_and()
            left = (lambda a, b: lambda r: a(r) or b(r))(left, right)
        return left

    def expr_and(self):
        left = self.unary()
        while self.peek("and"):
            self.take()
            right = self.unary()
            left = (lambda a, b: lambda r: a(r) and b(r))(left, right)
        return left

    def unary(self):
        if self.peek("not"):
            self.take()
            inner = self.unary()
            return lambda r: not inner(r)
        if self.peek("("):
            self.take("(")
            inner = self.expr_or()
            self.take(")")
            return inner
        kind, text, _ = self.toks[self.i]
        if kind == "name" and text in STRFUNC and self.toks[self.i + 1][1] == "(":
            return self.strfunc()
        return self.comparison()

    def literal(self):
        kind, text, _ = self.take()
        if kind == "string":
            return "str", text[1:-1].replace("''", "'")
        if kind == "guid":
            return "guid", text.lower()
        if kind == "datetime":
            try:
                return "datetime", parse_dt(text)
            except ValueError:
                self.i -= 1
                self.fail()
        if kind == "number":
            return "int", float(text) if "." in text else int(text)
        if kind == "name" and text in ("true", "false"):
            return "bool", text == "true"
        if kind == "name" and text == "null":
            return "null", None
        self.i -= 1
        self.fail()

    def field(self):
        kind, text, _ = self.take()
        if kind != "name":
            self.i -= 1
            self.fail()
        return self.resolve(text)

    def strfunc(self):
        fn = STRFUNC[self.take()[1]]
        self.take("(")
        typ, get = self.field()
        self.take(",")
        ltyp, lit = self.literal()
        self.take(")")
        if typ != "str" or ltyp != "str":
            raise ODataError(400, "The string function requires Edm.String arguments.")
        lit = lit.lower()
        pred = lambda r: get(r) is not None and fn(get(r).lower(), lit)
        if self.peek("eq") or self.peek("ne"):   # contains(...) eq true
            op = self.take()[1]
            btyp, want = self.literal()
            if btyp != "bool":
                self.fail()
            want = want if op == "eq" else not want
            return lambda r: pred(r) == want
        return pred

    def comparison(self):
        typ, get = self.field()
        kind, op, _ = self.take()
        if kind != "name" or op not in COMPARE:
            self.i -= 1
            self.fail()
        ltyp, lit = self.literal()
        if ltyp != "null" and ltyp != typ and not (ltyp == "int" and typ == "int"):
            raise ODataError(400, "A binary operator with incompatible types was detected. "
                                  f"Found operand types 'Edm.{typ}' and 'Edm.{ltyp}' for "
                                  f"operator kind '{op}'.")
        cmp = COMPARE[op]
        if ltyp == "str":   # SQL Server's default collation: case-insensitive
            lit = lit.lower()

        def pred(row):
            value = comparable(typ, get(row))
            if value is None or lit is None:   # null only equals null; never orders
                same = value is None and lit is None
                return same if op == "eq" else (not same) if op == "ne" else False
            return cmp(value, lit)
        return pred


# ---------------------------------------------------------------- the store

class Store:
    """Entity sets in memory: set -> {id: row}. Not thread-safe; Standin holds the lock."""

    def __init__(self):
        self.schema = copy.deepcopy(SCHEMA)
        self.rows = {name: {} for name in self.schema}
        self.case_seq = 0

    def fields(self, set_name):
        if set_name not in self.schema:
            raise ODataError(404, f"Resource not found for the segment '{set_name}'.")
        return self.schema[set_name]

    def nav_target(self, nav):
        return nav if nav in self.schema else NAV_TARGETS.get(nav)

    def resolve(self, set_name, path):
        """A field path (Field, Nav/Id, Nav/Field) -> (type, getter over a row)."""
        fields = self.fields(set_name)
        head, _, rest = path.partition("/")
        if not rest:
            if head not in fields:
                raise ODataError(400, f"Could not find a property named '{head}' on type "
                                      f"'{entity_type(set_name)}'.")
            return fields[head], lambda r: r.get(head)
        target = self.nav_target(head)
        if target is None or head + "Id" not in fields:
            raise ODataError(400, f"Could not find a property named '{head}' on type "
                                  f"'{entity_type(set_name)}'.")
        typ, inner = self.resolve(target, rest)
        rows = self.rows[target]
        return typ, lambda r: inner(rows.get(r.get(head + "Id") or "", {}))

    def validate(self, set_name, body):
        """Checked copy of a POST/PATCH body; ODataError 400 on unknown fields or types."""
        if not isinstance(body, dict):
            raise ODataError(400, "The request body must be a JSON object.")
        fields, out = self.fields(set_name), {}
        for key, value in body.items():
            if key.startswith("@odata"):
                continue
            if key not in fields:
                raise ODataError(400, f"The property '{key}' does not exist on type "
                                      f"'{entity_type(set_name)}'.")
            out[key] = check_value(set_name, key, fields[key], value)
        cap = out.get("UsrCapacity")
        if set_name == "UsrWebitelAgentSkill" and cap is not None and not 1 <= cap <= 100:
            raise ODataError(400, "UsrCapacity must be between 1 and 100.")
        return out

    def derive(self, set_name, row):
        if set_name == "ContactCommunication":
            digits = re.sub(r"\D", "", row.get("Number") or "")
            row["SearchNumber"] = digits[::-1]
        if set_name == "Case" and not row.get("Number"):
            self.case_seq += 1
            row["Number"] = f"SR{self.case_seq:08d}"

    def insert(self, set_name, body, server_times=True):
        row = self.validate(set_name, body)
        rid = row.get("Id") or str(uuid.uuid4())
        if rid in self.rows[set_name]:
            raise ODataError(500, "Cannot insert duplicate key row in object "
                                  f"'dbo.{set_name}'. The duplicate key value is ({rid}).")
        full = {f: None for f in self.fields(set_name)}
        full.update(row)
        full["Id"] = rid
        stamp = now_iso()
        if server_times or not full.get("CreatedOn"):
            full["CreatedOn"] = stamp
        if server_times or not full.get("ModifiedOn"):
            full["ModifiedOn"] = stamp
        self.derive(set_name, full)
        self.rows[set_name][rid] = full
        return full

    def get(self, set_name, rid):
        self.fields(set_name)
        row = self.rows[set_name].get(rid.lower())
        if row is None:
            raise ODataError(404, f"Resource not found for the segment '{set_name}'.")
        return row

    def update(self, set_name, rid, body):
        row = self.get(set_name, rid)
        changes = self.validate(set_name, body)
        changes.pop("Id", None)
        row.update(changes)
        row["ModifiedOn"] = now_iso()
        self.derive(set_name, row)
        return row

    def delete(self, set_name, rid):
        row = self.get(set_name, rid)
        del self.rows[set_name][row["Id"]]
        return row

    def add_schema(self, schema):
        """{"Set": {"Field": "type"}} from /__test/seed: new sets or fields."""
        for set_name, fields in schema.items():
            base = self.schema.setdefault(set_name, dict(COMMON_FIELDS))
            self.rows.setdefault(set_name, {})
            for name, typ in fields.items():
                if typ not in ("str", "guid", "int", "bool", "datetime"):
                    raise ODataError(400, f"unknown type {typ}")
                base[name] = typ


# ---------------------------------------------------------------- queries

def parse_nonneg(name, value):
    if not re.fullmatch(r"\d+", value or ""):
        raise ODataError(400, f"Invalid value '{value}' for ${name} query option.")
    return int(value)


def order_rows(store, set_name, rows, orderby):
    for item in reversed([s.strip() for s in orderby.split(",") if s.strip()]):
        parts = item.split()
        if len(parts) > 2 or (len(parts) == 2 and parts[1] not in ("asc", "desc")):
            raise ODataError(400, f"Syntax error in $orderby '{orderby}'.")
        typ, get = store.resolve(set_name, parts[0])
        key = (lambda g, t: lambda r: (0,) if g(r) is None else (1, comparable(t, g(r))))(
            get, typ)
        rows.sort(key=key, reverse=len(parts) == 2 and parts[1] == "desc")
    return rows


def parse_expand(text):
    """'Account($select=Name),Owner' -> [(nav, [fields] or None)]."""
    out = []
    for m in re.finditer(r"\s*([A-Za-z_]\w*)(?:\(\$select=([\w,]+)\))?\s*(?:,|$)", text):
        if m.group(1):
            out.append((m.group(1), m.group(2).split(",") if m.group(2) else None))
    if not out and text.strip():
        raise ODataError(400, f"Syntax error in $expand '{text}'.")
    return out


def shape(store, set_name, row, select, expand):
    """The row as answered: $select'ed fields plus expanded lookups."""
    fields = store.fields(set_name)
    if select:
        for f in select:
            if f not in fields:
                raise ODataError(400, f"Could not find a property named '{f}' on type "
                                      f"'{entity_type(set_name)}'.")
        out = {f: row.get(f) for f in select}
    else:
        out = dict(row)
    for nav, sub in expand:
        target = store.nav_target(nav)
        if target is None or nav + "Id" not in fields:
            raise ODataError(400, f"Could not find a property named '{nav}' on type "
                                  f"'{entity_type(set_name)}'.")
        ref = store.rows[target].get(row.get(nav + "Id") or "")
        out[nav] = None if ref is None else shape(store, target, ref, sub, [])
    return out


# ---------------------------------------------------------------- the server

class Standin:
    """The fake Creatio. Thread-safe: one lock around the store and the logs."""

    def __init__(self, port=0, prefix="/0", user="Supervisor", password="Supervisor",
                 client_id="cc-client", client_secret="cc-secret", page_size=20000,
                 hook_url=None, hook_user=None, hook_password=None, hook_token=None,
                 token_ttl=3600, seed=True, host="127.0.0.1"):
        self.host, self.port, self.prefix = host, port, prefix.rstrip("/")
        self.user, self.password = user, password
        self.client_id, self.client_secret = client_id, client_secret
        self.page_size, self.token_ttl = page_size, token_ttl
        self.hook_url, self.hook_user, self.hook_password = hook_url, hook_user, hook_password
        self.hook_token = hook_token
        self.lock = threading.RLock()
        self.hook_q = queue.Queue()
        self.with_seed = seed
        self.reset()
        self.httpd = None

    # -- state
    def reset(self):
        with self.lock:
            self.store = Store()
            self.sessions = {}          # .ASPXAUTH -> BPMCSRF
            self.tokens = {}            # access token -> expiry (epoch s)
            self.requests = []          # the request log
            self.hooks = []             # outbound hook calls and their answers
            self.faults = []            # {"path","status","count","retryAfter"}
            self.delay_ms, self.delay_path = 0, ""
            if self.with_seed:
                self.seed(seed_rows())

    def seed(self, dump):
        """Rows {"Set": [row, ...]} (and optional "schema") added as given: Id, CreatedOn
        and ModifiedOn are kept when present."""
        with self.lock:
            self.store.add_schema(dump.get("schema") or {})
            for set_name, rows in dump.items():
                if set_name == "schema":
                    continue
                if not isinstance(rows, list):
                    raise ODataError(400, f"{set_name}: a list of rows is expected")
                for row in rows:
                    self.store.insert(set_name, row, server_times=False)

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

    @property
    def odata(self):
        return self.prefix + "/odata"

    # -- lifecycle
    def start(self):
        """Serve in a daemon thread; returns self (port filled when 0 was asked)."""
        self.httpd = _Server((self.host, self.port), _Handler)
        self.httpd.standin = self
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        threading.Thread(target=self._hook_loop, daemon=True).start()
        return self

    def down(self):
        """The CRM unreachable: the listening socket closed and every open connection
        cut, so clients see connection refused / reset until up()."""
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd.cut_all()
            self.httpd = None

    def up(self):
        """Serving again on the same port, with the same store and logs."""
        if self.httpd is None:
            self.httpd = _Server((self.host, self.port), _Handler)
            self.httpd.standin = self
            threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
        self.hook_q.put(None)

    # -- auth
    def login(self, body):
        try:
            creds = json.loads(body or b"")
        except ValueError:
            raise ODataError(400, "The request body is not valid JSON.")
        if not isinstance(creds, dict):
            raise ODataError(400, "The request body is not valid JSON.")
        if creds.get("UserName") != self.user or creds.get("UserPassword") != self.password:
            return None
        auth, csrf = secrets.token_hex(32).upper(), \
            base64.b64encode(secrets.token_bytes(16)).decode().rstrip("=")
        with self.lock:
            self.sessions[auth] = csrf
        return auth, csrf

    def token(self, form, basic):
        cid, secret = form.get("client_id"), form.get("client_secret")
        if basic:
            cid, secret = basic
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}
        if cid != self.client_id or secret != self.client_secret:
            return 400, {"error": "invalid_client"}
        tok = "tok-" + secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[tok] = time.time() + self.token_ttl
        return 200, {"access_token": tok, "expires_in": self.token_ttl,
                     "token_type": "Bearer", "scope": "ApplicationAccess"}

    def authorized(self, headers, cookies):
        """None when the OData call may proceed, else the 401's extra headers."""
        authz = headers.get("Authorization") or ""
        with self.lock:
            if authz.startswith("Bearer "):
                exp = self.tokens.get(authz[7:].strip())
                if exp is not None and exp > time.time():
                    return None
            csrf = self.sessions.get(cookies.get(".ASPXAUTH", ""))
            if csrf is not None and headers.get("BPMCSRF") == csrf:
                return None
        if authz.startswith("Bearer "):
            return {"WWW-Authenticate": 'Bearer error="invalid_token"'}
        return {}

    def expire_sessions(self):
        with self.lock:
            self.sessions.clear()
            self.tokens.clear()

    # -- faults
    def take_fault(self, path):
        with self.lock:
            for f in self.faults:
                if f["count"] > 0 and path.startswith(f["path"]):
                    f["count"] -= 1
                    return f
        return None

    def delay_for(self, path):
        with self.lock:
            return self.delay_ms if path.startswith(self.delay_path) else 0

    # -- outbound hook (Signal start event + Call web service), in order, one thread
    def emit_hooks(self, events):
        """Queues the hooks of a change with the URL and credentials set at that moment
        (as a process started by the change would use them), sent in order later."""
        auth = None
        if self.hook_token:
            auth = "Bearer " + self.hook_token
        elif self.hook_user is not None:
            pair = f"{self.hook_user}:{self.hook_password or ''}".encode()
            auth = "Basic " + base64.b64encode(pair).decode()
        for ev in events:
            self.hook_q.put((ev, self.hook_url, auth))

    def _hook_loop(self):
        while True:
            item = self.hook_q.get()
            if item is None:
                return
            self._hook_send(*item)

    def _hook_send(self, ev, url, auth):
        entry = {"t": time.time(), "body": ev, "status": None, "error": None}
        if url:
            req = urllib.request.Request(url, data=json.dumps(ev).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
            if auth:
                req.add_header("Authorization", auth)
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    entry["status"], entry["answer"] = resp.status, resp.read().decode(
                        "utf-8", "replace")
            except urllib.error.HTTPError as e:
                entry["status"], entry["answer"] = e.code, e.read().decode("utf-8", "replace")
            except OSError as e:
                entry["error"] = str(e)
        else:
            entry["error"] = "no hook url"
        with self.lock:
            self.hooks.append(entry)

    # -- OData
    def odata_call(self, method, target, body, headers, hooks):
        """One OData request (also one member of a $batch): (status, json or None).
        Appends hook events for agent rows to `hooks`. Raises ODataError."""
        parts = urllib.parse.urlsplit(target)
        path, query = urllib.parse.unquote(parts.path), parts.query
        m = re.fullmatch(r"/?([A-Za-z_]\w*)(?:\(([^)]*)\))?", path)
        if not m:
            raise ODataError(404, f"Resource not found for the segment '{path}'.")
        set_name, key = m.group(1), m.group(2)
        self.store.fields(set_name)
        if key is not None and not GUID_RE.match(key):
            raise ODataError(400, f"The key value '{key}' is not a valid Edm.Guid.")
        params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        if method == "GET":
            if key is None:
                return 200, self.query(set_name, params, query)
            return 200, self.get_one(set_name, key, params)
        data = None
        if method in ("POST", "PATCH"):
            try:
                data = json.loads(body or b"null") if isinstance(body, (bytes, str)) else body
            except ValueError:
                raise ODataError(400, "The request body is not valid JSON.")
        if method == "POST" and key is None:
            row = self.store.insert(set_name, data)
            self._hook(set_name, "Inserted", row, hooks)
            return 201, dict(row, **{"@odata.context": self._ctx(set_name) + "/$entity"})
        if method == "PATCH" and key is not None:
            self._hook(set_name, "Updated", self.store.update(set_name, key, data), hooks)
            return 204, None
        if method == "DELETE" and key is not None:
            self._hook(set_name, "Deleted", self.store.delete(set_name, key), hooks)
            return 204, None
        raise ODataError(405, f"The method {method} is not allowed here.")

    def _hook(self, set_name, action, row, hooks):
        if set_name in HOOK_SETS:
            hooks.append({"EntityName": set_name, "Action": action, "Id": row["Id"],
                          "ModifiedOn": row.get("ModifiedOn")})

    def _ctx(self, set_name, select=None):
        sel = f"({','.join(select)})" if select else ""
        return f"{self.url}{self.odata}/$metadata#{set_name}{sel}"

    def get_one(self, set_name, key, params):
        select = [s for s in params.get("$select", "").split(",") if s]
        expand = parse_expand(params.get("$expand", ""))
        out = shape(self.store, set_name, self.store.get(set_name, key), select, expand)
        return dict({"@odata.context": self._ctx(set_name, select) + "/$entity"}, **out)

    def query(self, set_name, params, raw_query):
        rows = list(self.store.rows[set_name].values())
        eq_any = self._eq_any(set_name, params.get("$filter") or "")
        if eq_any:
            field, values = eq_any
            rows = [r for r in rows if r.get(field) is not None and r[field].lower() in values]
        elif params.get("$filter"):
            pred = FilterParser(params["$filter"],
                                lambda p: self.store.resolve(set_name, p)).parse()
            rows = [r for r in rows if pred(r)]
        if params.get("$orderby"):
            rows = order_rows(self.store, set_name, rows, params["$orderby"])
        total = len(rows)
        skip = parse_nonneg("skip", params["$skip"]) if "$skip" in params else 0
        top = parse_nonneg("top", params["$top"]) if "$top" in params else None
        want = rows[skip:] if top is None else rows[skip:skip + top]
        page = want[:self.page_size]
        select = [s for s in params.get("$select", "").split(",") if s]
        expand = parse_expand(params.get("$expand", ""))
        out = {"@odata.context": self._ctx(set_name, select)}
        if params.get("$count") == "true":
            out["@odata.count"] = total
        out["value"] = [shape(self.store, set_name, r, select, expand) for r in page]
        if len(want) > len(page):
            out["@odata.nextLink"] = self._next_link(set_name, raw_query, skip + len(page),
                                                     None if top is None else top - len(page))
        return out

    def _eq_any(self, set_name, text):
        """`F eq 'a' or F eq 'b' ...` on one string field (crm-sync's look-up by
        external id): (F, the values in lower case) to match with one set test per
        row, or None for the general parser. The same rows either way; only the
        CRM bench's thousands of rows need it fast."""
        m = EQ_ANY_RE.fullmatch(text)
        if not m or self.store.fields(set_name).get(m.group(1)) != "str":
            return None
        return m.group(1), {v.lower() for v in re.findall(r"eq '([^']*)'", text)}

    def _next_link(self, set_name, raw_query, skip, top):
        kept = [(k, v) for k, v in urllib.parse.parse_qsl(raw_query, keep_blank_values=True)
                if k not in ("$skip", "$top")]
        kept.append(("$skip", str(skip)))
        if top is not None:
            kept.append(("$top", str(top)))
        q = urllib.parse.urlencode(kept, safe="$,'/()", quote_via=urllib.parse.quote)
        return f"{self.url}{self.odata}/{set_name}?{q}"

    def batch(self, body, headers):
        """JSON $batch: (status, answer). Stops at the first failure unless Prefer asks
        continue-on-error; an atomicityGroup is all-or-nothing."""
        try:
            doc = json.loads(body or b"")
        except ValueError:
            raise ODataError(400, "The batch request body is not valid JSON.")
        reqs = doc.get("requests") if isinstance(doc, dict) else None
        if not isinstance(reqs, list) or not reqs:
            raise ODataError(400, "The batch request must carry a non-empty 'requests' list.")
        if len(reqs) > 100:
            raise ODataError(400, "The batch request exceeds the limit of 100 requests.")
        go_on = "continue-on-error" in (headers.get("Prefer") or "")
        responses, hooks, i = [], [], 0
        with self.lock:
            while i < len(reqs):
                group = self._group_end(reqs, i)
                ok = self._batch_group(reqs[i:group], responses, hooks)
                i = group
                if not ok and not go_on:
                    break
        self.emit_hooks(hooks)
        return 200, {"responses": responses}

    @staticmethod
    def _group_end(reqs, i):
        g = reqs[i].get("atomicityGroup") if isinstance(reqs[i], dict) else None
        j = i + 1
        while g is not None and j < len(reqs) and isinstance(reqs[j], dict) and \
                reqs[j].get("atomicityGroup") == g:
            j += 1
        return j

    def _batch_group(self, group, responses, hooks):
        """Runs adjacent requests of one atomicity group (or one lone request, which
        has nothing to undo: no copy of the store, so a batch costs what its rows do)."""
        snap = (copy.deepcopy(self.store.rows), self.store.case_seq) if len(group) > 1 else None
        out, group_hooks, failed = [], [], False
        for r in group:
            rid = r.get("id") if isinstance(r, dict) else None
            status, answer = self._batch_one(r, group_hooks)
            out.append({"id": rid, "status": status,
                        "headers": {"content-type": "application/json"}, "body": answer})
            if status >= 400:
                failed = True
                break
        if failed and len(group) > 1:   # undo the group; its other members fail too
            self.store.rows, self.store.case_seq = snap
            group_hooks = []
            dep = err_body("Failed dependency: the atomicity group failed.")
            out = [o if k == len(out) - 1 else dict(o, status=424, body=dep)
                   for k, o in enumerate(out)]
            out += [{"id": r.get("id"), "status": 424,
                     "headers": {"content-type": "application/json"}, "body": dep}
                    for r in group[len(out):]]
        responses.extend(out)
        hooks.extend(group_hooks)
        return not failed

    def _batch_one(self, r, hooks):
        if not isinstance(r, dict) or not isinstance(r.get("method"), str) or \
                not isinstance(r.get("url"), str):
            return 400, err_body("Each batch request needs 'method' and 'url'.")
        url = r["url"]
        if url.startswith("http://") or url.startswith("https://"):
            url = urllib.parse.urlsplit(url)._replace(scheme="", netloc="").geturl()
        if url.startswith(self.odata + "/"):
            url = url[len(self.odata) + 1:]
        try:
            return self.odata_call(r["method"].upper(), url, r.get("body"),
                                   r.get("headers") or {}, hooks)
        except ODataError as e:
            return e.status, err_body(e.message)


def err_body(message):
    return {"error": {"code": "", "message": message}}


FAULT_500 = {"error": {"code": "", "message": "An error has occurred.",
                       "innererror": {"message": "Test fault", "type": "System.Exception",
                                      "stacktrace": ""}}}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.conns, self.conns_lock = set(), threading.Lock()

    def get_request(self):
        sock, addr = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.conns_lock:
            self.conns.add(sock)
        return sock, addr

    def shutdown_request(self, request):
        with self.conns_lock:
            self.conns.discard(request)
        super().shutdown_request(request)

    def cut_all(self):
        """Cuts the keep-alive connections still open (down())."""
        with self.conns_lock:
            conns, self.conns = list(self.conns), set()
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "CreatioStandin/1"

    def log_message(self, *args):
        pass

    # one write per response: status line, headers and body in one buffer
    def reply(self, status, body=None, headers=None, cookies=()):
        data = b"" if body is None else (body if isinstance(body, bytes)
                                         else json.dumps(body).encode())
        lines = [f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}"]
        hdrs = {"Content-Length": str(len(data))}
        if body is not None:
            hdrs["Content-Type"] = "application/json; charset=utf-8"
        hdrs.update(headers or {})
        if self.close_connection:
            hdrs["Connection"] = "close"
        lines += [f"{k}: {v}" for k, v in hdrs.items()]
        lines += [f"Set-Cookie: {c}" for c in cookies]
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode() + data)
        self.status = status

    def read_body(self):
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > 64 << 20:
            raise ODataError(413, "The request body is too large.")
        return self.rfile.read(n) if n else b""

    def cookies(self):
        out = {}
        for part in (self.headers.get("Cookie") or "").split(";"):
            name, eq, value = part.strip().partition("=")
            if eq:
                out[name] = value
        return out

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PATCH(self):
        self.handle_any("PATCH")

    def do_DELETE(self):
        self.handle_any("DELETE")

    def do_PUT(self):
        self.handle_any("PUT")

    def handle_any(self, method):
        st = self.server.standin
        path = urllib.parse.urlsplit(self.path).path
        self.status, body = 0, b""
        t0 = time.time()
        try:
            body = self.read_body()
            if path.startswith("/__test/"):
                return self.control(st, method, path, body)
            self.route(st, method, path, body)
        except ODataError as e:
            self.reply(e.status, err_body(e.message))
        except (ValueError, KeyError, TypeError) as e:
            self.reply(400, err_body(f"Bad request: {e}"))
        except Exception as e:   # a stand-in bug: answer 500 and say so on stderr
            traceback.print_exc()
            self.reply(500, err_body(f"stand-in error: {e!r}"))
        finally:
            if not path.startswith("/__test/"):
                self.log_request_entry(st, method, body, t0)

    def log_request_entry(self, st, method, body, t0):
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = body.decode("utf-8", "replace")
        entry = {"t": t0, "t_done": time.time(), "method": method, "path": self.path,
                 "headers": dict(self.headers.items()), "body": parsed,
                 "status": self.status}
        if getattr(self, "sub_status", None) is not None:   # a $batch: each request's status
            entry["sub_status"], self.sub_status = self.sub_status, None
        with st.lock:
            if len(st.requests) < 500000:
                st.requests.append(entry)

    def route(self, st, method, path, body):
        delay = st.delay_for(path)
        if delay:
            time.sleep(delay / 1000.0)
        fault = st.take_fault(path)
        if fault:
            hdrs = {"Retry-After": str(fault.get("retryAfter", 1))} \
                if fault["status"] in (429, 503) else {}
            return self.reply(fault["status"], FAULT_500 if fault["status"] == 500 else
                              err_body("Test fault"), hdrs)
        if method == "POST" and path in ("/ServiceModel/AuthService.svc/Login",
                                         st.prefix + "/ServiceModel/AuthService.svc/Login"):
            return self.do_login(st, body)
        if method == "POST" and path == "/connect/token":
            return self.do_token(st, body)
        if path == st.odata + "/$batch" or path.startswith(st.odata + "/"):
            return self.do_odata(st, method, path, body)
        self.reply(404, err_body(f"No route for {method} {path}."))

    def do_login(self, st, body):
        pair = st.login(body)
        if pair is None:
            return self.reply(200, {"Code": 1, "Message":
                                    "Either the username or password is incorrect.",
                                    "Exception": None, "PasswordChangeUrl": None,
                                    "RedirectUrl": None})
        auth, csrf = pair
        user = "|".join(str(ord(c)) for c in st.user)
        cookies = [f"BPMLOADER={secrets.token_hex(12)}; path=/; HttpOnly",
                   f".ASPXAUTH={auth}; path=/; HttpOnly", f"BPMCSRF={csrf}; path=/",
                   f"UserName={user}; path=/; HttpOnly",
                   f"BPMSESSIONID={secrets.token_hex(12)}; path=/; HttpOnly"]
        self.reply(200, {"Code": 0, "Message": "", "Exception": None,
                         "PasswordChangeUrl": None, "RedirectUrl": None}, cookies=cookies)

    def do_token(self, st, body):
        form = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"),
                                           keep_blank_values=True))
        basic = None
        authz = self.headers.get("Authorization") or ""
        if authz.startswith("Basic "):
            try:
                cid, _, secret = base64.b64decode(authz[6:]).decode().partition(":")
                basic = (urllib.parse.unquote_plus(cid), urllib.parse.unquote_plus(secret))
            except ValueError:
                return self.reply(400, {"error": "invalid_client"})
        status, answer = st.token(form, basic)
        self.reply(status, answer, {"Cache-Control": "no-store"})

    def do_odata(self, st, method, path, body):
        denied = st.authorized(self.headers, self.cookies())
        if denied is not None:
            return self.reply(401, None, denied)
        if path == st.odata + "/$batch":
            if method != "POST":
                raise ODataError(405, "$batch takes POST.")
            if "json" not in (self.headers.get("Content-Type") or ""):
                raise ODataError(400, "Only the JSON batch format is supported here.")
            status, answer = st.batch(body, self.headers)
            self.sub_status = [r["status"] for r in answer["responses"]]
            return self.reply(status, answer)
        target = self.path[len(st.odata) + 1:]
        hooks = []
        with st.lock:
            status, answer = st.odata_call(method, target, body, self.headers, hooks)
        st.emit_hooks(hooks)
        self.reply(status, answer, {"OData-Version": "4.0"})

    # -- /__test/*
    def control(self, st, method, path, body):
        name = path[len("/__test/"):]
        try:
            arg = json.loads(body) if body else {}
        except ValueError:
            raise ODataError(400, "control body is not JSON")
        if method == "GET":
            return self.control_get(st, name)
        if name == "reset":
            st.reset()
        elif name == "seed":
            st.seed(arg)
        elif name == "expire-sessions":
            st.expire_sessions()
        elif name == "fail":
            self.control_fail(st, arg)
        elif name == "delay":
            with st.lock:
                st.delay_ms, st.delay_path = int(arg.get("ms", 0)), arg.get("path", "")
        elif name == "clear-requests":
            with st.lock:
                st.requests, st.hooks = [], []
        elif name == "config":
            self.control_config(st, arg)
        elif name == "touch":
            with st.lock:
                row = st.store.get(arg["entity"], arg["id"])
            st.emit_hooks([{"EntityName": arg["entity"], "Action": arg.get("action", "Updated"),
                            "Id": row["Id"], "ModifiedOn": row["ModifiedOn"]}])
        else:
            raise ODataError(404, f"no control {name}")
        self.reply(200, {"ok": True})

    def control_get(self, st, name):
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
        with st.lock:
            if name == "requests":
                since = int(q.get("since", 0))
                return self.reply(200, {"requests": st.requests[since:],
                                        "next": len(st.requests)})
            if name == "hooks":
                return self.reply(200, {"hooks": list(st.hooks)})
            if name == "dump":
                sets = [q["set"]] if "set" in q else list(st.store.rows)
                return self.reply(200, {s: list(st.store.rows.get(s, {}).values())
                                        for s in sets})
        raise ODataError(404, f"no control {name}")

    @staticmethod
    def control_fail(st, arg):
        if arg.get("clear"):
            with st.lock:
                st.faults = []
            return
        status = int(arg.get("status", 500))
        if status < 400 or status > 599:
            raise ODataError(400, "status must be 4xx or 5xx")
        with st.lock:
            st.faults.append({"path": arg.get("path", ""), "status": status,
                              "count": int(arg.get("count", 1)),
                              "retryAfter": int(arg.get("retryAfter", 1))})

    @staticmethod
    def control_config(st, arg):
        with st.lock:
            for key in ("hook_url", "hook_user", "hook_password", "hook_token",
                        "page_size", "token_ttl"):
                if key in arg:
                    setattr(st, key, arg[key])


# ---------------------------------------------------------------- script

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=int(os.environ.get("CREATIO_PORT", 0)))
    p.add_argument("--prefix", default="/0", help="site prefix of OData (/0 or empty)")
    p.add_argument("--user", default="Supervisor")
    p.add_argument("--password", default="Supervisor")
    p.add_argument("--client-id", default="cc-client")
    p.add_argument("--client-secret", default="cc-secret")
    p.add_argument("--page-size", type=int, default=20000)
    p.add_argument("--token-ttl", type=int, default=3600)
    p.add_argument("--hook-url")
    p.add_argument("--hook-user")
    p.add_argument("--hook-password")
    p.add_argument("--hook-token")
    p.add_argument("--no-seed", action="store_true")
    a = p.parse_args(argv)
    st = Standin(port=a.port, prefix=a.prefix, user=a.user, password=a.password,
                 client_id=a.client_id, client_secret=a.client_secret,
                 page_size=a.page_size, hook_url=a.hook_url, hook_user=a.hook_user,
                 hook_password=a.hook_password, hook_token=a.hook_token,
                 token_ttl=a.token_ttl, seed=not a.no_seed, host=a.host).start()
    print(f"creatio stand-in on {st.url}{st.odata}", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    st.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
