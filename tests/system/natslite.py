"""A small NATS client for tests (the plain text protocol, no extra package):
publish, subscribe (for responders standing in for a service), request/reply,
and reading a JetStream stream through the $JS.API direct requests. Also a
protobuf wire decoder for the few messages tests read (no protobuf package)."""
import base64
import itertools
import json
import queue
import socket
import threading


class NatsError(Exception):
    pass


class Nats:
    """One connection with a reader thread; callbacks run on that thread."""

    def __init__(self, port, host="127.0.0.1", timeout=5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.rfile = self.sock.makefile("rb")
        self.wlock = threading.Lock()
        self.subs = {}
        self.sids = itertools.count(1)
        self.pongs = queue.Queue()
        info = self.rfile.readline()
        if not info.startswith(b"INFO"):
            raise NatsError(f"not a NATS server: {info!r}")
        self._send(b'CONNECT {"verbose":false,"pedantic":false,"headers":true,'
                   b'"no_responders":true,"protocol":1}\r\nPING\r\n')
        self.sock.settimeout(None)
        self.closed = False
        self.reader = threading.Thread(target=self._read_loop, daemon=True)
        self.reader.start()
        self.pongs.get(timeout=timeout)

    def close(self):
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def _send(self, data):
        with self.wlock:
            self.sock.sendall(data)

    def flush(self, timeout=5.0):
        self._send(b"PING\r\n")
        self.pongs.get(timeout=timeout)

    # -- reading
    def _read_loop(self):
        try:
            while not self.closed:
                line = self.rfile.readline()
                if not line:
                    return
                self._dispatch(line.rstrip(b"\r\n"))
        except (OSError, ValueError):
            return

    def _dispatch(self, line):
        if line == b"PING":
            self._send(b"PONG\r\n")
        elif line == b"PONG":
            self.pongs.put(True)
        elif line.startswith(b"MSG ") or line.startswith(b"HMSG "):
            self._message(line)
        elif line.startswith(b"-ERR"):
            raise NatsError(line.decode())

    def _message(self, line):
        parts = line.decode().split()
        hmsg = parts[0] == "HMSG"
        subject, sid = parts[1], int(parts[2])
        reply = parts[3] if len(parts) == (6 if hmsg else 5) else None
        total = int(parts[-1])
        hlen = int(parts[-2]) if hmsg else 0
        raw = self.rfile.read(total + 2)[:total]
        headers = parse_headers(raw[:hlen]) if hmsg else {}
        cb = self.subs.get(sid)
        if cb:
            cb(subject, reply, headers, raw[hlen:])

    # -- writing
    def publish(self, subject, data=b"", reply=None, headers=None):
        data = data.encode() if isinstance(data, str) else data
        r = f" {reply}" if reply else ""
        if headers:
            h = ("NATS/1.0\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) +
                 "\r\n").encode()
            self._send(f"HPUB {subject}{r} {len(h)} {len(h) + len(data)}\r\n".encode() + h +
                       data + b"\r\n")
        else:
            self._send(f"PUB {subject}{r} {len(data)}\r\n".encode() + data + b"\r\n")

    def subscribe(self, subject, cb, queue_group=None):
        """cb(subject, reply, headers, data) on the reader thread. Returns the sid."""
        sid = next(self.sids)
        self.subs[sid] = cb
        q = f" {queue_group}" if queue_group else ""
        self._send(f"SUB {subject}{q} {sid}\r\n".encode())
        return sid

    def unsubscribe(self, sid):
        self.subs.pop(sid, None)
        self._send(f"UNSUB {sid}\r\n".encode())

    def request(self, subject, data=b"", timeout=5.0, headers=None):
        """(headers, data) of the first reply; NatsError on no responders or timeout."""
        inbox = "_INBOX.t" + base64.b32encode(next(self.sids).to_bytes(8, "big") +
                                              socket.gethostname().encode()[:4]).decode().strip("=")
        got = queue.Queue()
        sid = self.subscribe(inbox, lambda s, r, h, d: got.put((h, d)))
        try:
            self.publish(subject, data, reply=inbox, headers=headers)
            try:
                h, d = got.get(timeout=timeout)
            except queue.Empty:
                raise NatsError(f"request {subject}: timeout")
            if h.get(":status") == "503":
                raise NatsError(f"request {subject}: no responders")
            return h, d
        finally:
            self.unsubscribe(sid)

    # -- JetStream
    def js_api(self, what, body=None, timeout=5.0):
        _, d = self.request("$JS.API." + what, json.dumps(body or {}).encode(), timeout)
        return json.loads(d)

    def stream_messages(self, stream, subject=None):
        """Every message of `stream` (matching `subject`) in order:
        [{"subject", "seq", "headers", "data"}]."""
        out, seq = [], 1
        while True:
            req = {"seq": seq}
            if subject:
                req["next_by_subj"] = subject
            ans = self.js_api(f"STREAM.MSG.GET.{stream}", req)
            if "error" in ans:
                if ans["error"].get("code") == 404:
                    return out
                raise NatsError(ans["error"])
            m = ans["message"]
            raw_h = base64.b64decode(m["hdrs"]) if m.get("hdrs") else b""
            out.append({"subject": m["subject"], "seq": m["seq"],
                        "headers": parse_headers(raw_h) if raw_h else {},
                        "data": base64.b64decode(m.get("data") or "")})
            seq = m["seq"] + 1


def parse_headers(raw):
    lines = raw.decode("utf-8", "replace").split("\r\n")
    out = {}
    status = lines[0][len("NATS/1.0"):].strip() if lines and lines[0].startswith("NATS/1.0") else ""
    if status:
        out[":status"] = status.split()[0]
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out


# ---------------------------------------------------------------- protobuf wire format

def _varint(buf, i):
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7


def pb_decode(buf, schema):
    """Decodes `buf` with schema {number: (name, kind, subschema)}, kind in str, int, msg,
    bool; repeated fields (name ending in []) become lists. Unknown fields are skipped."""
    out, i = {}, 0
    while i < len(buf):
        key, i = _varint(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 2:
            n, i = _varint(buf, i)
            value, i = buf[i:i + n], i + n
        elif wire == 1:
            value, i = buf[i:i + 8], i + 8
        elif wire == 5:
            value, i = buf[i:i + 4], i + 4
        else:
            raise ValueError(f"wire type {wire}")
        if num not in schema:
            continue
        name, kind, sub = schema[num]
        if kind == "str":
            value = value.decode()
        elif kind == "msg":
            value = pb_decode(value, sub)
        elif kind == "int":
            value = value - (1 << 64) if value >= 1 << 63 else value
        elif kind == "bool":
            value = bool(value)
        if name.endswith("[]"):
            out.setdefault(name[:-2], []).append(value)
        else:
            out[name] = value
    return out


def pb_encode(fields, schema):
    """The inverse for str, int, bool and msg fields: {name: value} -> bytes."""
    by_name = {v[0].rstrip("[]"): (k, v[1], v[2]) for k, v in schema.items()}
    out = b""
    for name, value in fields.items():
        if value is None:
            continue
        num, kind, sub = by_name[name]
        values = value if isinstance(value, list) else [value]
        for v in values:
            if kind in ("int", "bool"):
                out += _enc_varint(num << 3) + _enc_varint(int(v) & ((1 << 64) - 1))
            else:
                raw = v.encode() if kind == "str" else pb_encode(v, sub)
                out += _enc_varint(num << 3 | 2) + _enc_varint(len(raw)) + raw
    return out


def _enc_varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


S = "str"
CHAT_LINKS = {1: ("account_id", S, None), 2: ("contact_id", S, None),
              3: ("activity_id", S, None), 4: ("case_id", S, None)}
CHAT = {1: ("id", S, None), 2: ("channel_id", S, None), 3: ("source", S, None),
        4: ("queue_id", S, None), 5: ("agent_id", S, None), 6: ("state", S, None),
        7: ("name", S, None), 8: ("from", S, None), 9: ("to", S, None),
        10: ("start_time", S, None), 11: ("end_time", S, None), 12: ("result_id", S, None),
        13: ("result_details", S, None), 14: ("links", "msg", CHAT_LINKS),
        15: ("created_at", S, None), 16: ("offered_to", S, None), 17: ("queue_name", S, None)}
RECORD = {1: ("kind", S, None), 2: ("id", S, None), 3: ("version", "int", None),
          4: ("changed_at", S, None), 6: ("chat", "msg", CHAT)}
CALLER = {1: ("user_id", S, None), 2: ("role", S, None)}
CONTACT = {1: ("id", S, None), 2: ("name", S, None), 3: ("account_id", S, None),
           4: ("account_name", S, None), 5: ("phone", S, None), 6: ("email", S, None),
           7: ("url", S, None)}
CONTACT_QUERY = {1: ("caller", "msg", CALLER), 2: ("channel", S, None),
                 3: ("customer_id", S, None), 4: ("phone", S, None), 5: ("q", S, None)}
CONTACT_LIST = {1: ("items[]", "msg", CONTACT)}
