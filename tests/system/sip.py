"""SIP end-to-end harness: the product's Kamailio config (deploy/kamailio,
configured by its configure.sh) on free UDP/TCP ports in a temporary
directory, agents' SIP phones as SIPp UAS that register to it, and SIPp
callers (scenarios under tests/sip/). Everything it starts is stopped by
close(); logs stay in the work directory."""
import os
import re
import shutil
import signal
import socket
import subprocess
import time

from harness import ROOT, Proc, free_port

SCENARIOS = os.path.join(ROOT, "tests", "sip")
CONFIGURE = os.path.join(ROOT, "deploy", "kamailio", "configure.sh")
IP = "127.0.0.1"


def available():
    """True when kamailio and sipp are installed (make deps)."""
    return bool(shutil.which("kamailio") and shutil.which("sipp"))


def free_sip_port():
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(50):
        port = free_port()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            try:
                u.bind((IP, port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free UDP+TCP port")


def free_udp_port():
    """A free UDP port for a SIPp, below the ephemeral range like every
    test port (harness.free_port)."""
    return free_sip_port()


def udp_bound(port):
    """Whether something listens on UDP 127.0.0.1:port (/proc/net/udp)."""
    want = "0100007F:%04X" % port
    with open("/proc/net/udp") as f:
        return any(line.split()[1] == want for line in f.readlines()[1:])


def wait_for(fn, timeout=10.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.05)
    raise TimeoutError(f"{what} not met after {timeout}s")


_TS = re.compile(r"^-{10,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)")


def parse_messages(text):
    """SIPp -trace_msg text -> [(epoch, "sent"|"received", first line,
    Call-ID)], one per message, in the log's order."""
    out, ts, way, first = [], None, None, None
    for line in text.splitlines():
        m = _TS.match(line)
        if m:
            ts = time.mktime(time.strptime(m.group(1)[:19], "%Y-%m-%d %H:%M:%S")) + \
                float("0" + m.group(1)[19:])
            way = first = None
        elif ts is None:
            continue
        elif way is None:
            way = "received" if "message received" in line else \
                "sent" if "message sent" in line else "other"
        elif first is None:
            if line.strip():
                first = line.strip()
        elif line.lower().startswith("call-id:"):
            out.append((ts, way, first, line.split(":", 1)[1].strip()))
            ts = None
    return out


class Kamailio(Proc):
    """Kamailio with the product config, pointed at call-router's PBX API."""

    def __init__(self, workdir, pbx_url, token, numbers=None, gateway=None, tuning=None):
        self.port = free_sip_port()
        self.dir = os.path.join(workdir, f"kamailio-{self.port}")
        os.makedirs(self.dir, exist_ok=True)
        numbers_file = os.path.join(self.dir, "numbers")
        with open(numbers_file, "w") as f:
            for number, queue in (numbers or {}).items():
                f.write(f"{number} {queue}\n")
        tune = {"DEFAULT_RING_MS": 20000, "LOG_LEVEL": 2, "ASYNC_WORKERS": 8,
                "SIP_WORKERS": 2, **(tuning or {})}
        env = dict(os.environ, CC_PBX_TOKEN=token, CC_PBX_URL=pbx_url, CC_SIP_ADDR=IP,
                   CC_SIP_PORT=str(self.port), CC_SIP_NUMBERS=numbers_file,
                   CC_SIP_GATEWAY=gateway or "",
                   CC_SIP_TUNING=" ".join(f"{k}={v}" for k, v in tune.items()))
        subprocess.run(["sh", CONFIGURE, self.dir], env=env, check=True)
        self.cfg = os.path.join(self.dir, "kamailio.cfg")
        super().__init__(f"kamailio-{self.port}", ["kamailio", "-f", self.cfg, "-DD", "-E",
                                                   "-m", "256", "-M", "16"], workdir)

    def start(self):
        super().start()
        try:
            wait_for(lambda: udp_bound(self.port) or not self.alive(), 15, "kamailio UDP port")
            # the port is bound before the children are forked: a SIGTERM
            # before the last fork would miss that child and hang the shutdown
            wait_for(lambda: self._all_forked() or not self.alive(), 15, "kamailio processes")
        except TimeoutError:
            self.stop()  # nothing left running behind a failed start
            raise
        if not self.alive():
            raise RuntimeError(f"kamailio exited:\n{self.log()[-3000:]}")
        return self

    def children(self):
        """Pids of the main process's children (Kamailio's workers)."""
        try:
            with open(f"/proc/{self.p.pid}/task/{self.p.pid}/children") as f:
                return [int(x) for x in f.read().split()]
        except OSError:
            return []

    def _all_forked(self):
        """Whether every process of Kamailio's table (kamcmd core.psx, the
        main one included) runs."""
        try:
            out = subprocess.run(["kamcmd", "-s", "unix:" + os.path.join(self.dir, "kamailio.ctl"),
                                  "core.psx"], capture_output=True, text=True, timeout=5)
        except subprocess.TimeoutExpired:
            return False
        want = out.stdout.count("IDX:")
        return out.returncode == 0 and want > 1 and len(self.children()) >= want - 1

    def set_number(self, number, queue_id):
        """Maps a queue number at run time (kamcmd through the ctl socket;
        "s:" keeps a number a string: kamcmd would send 5000 as an integer)."""
        out = subprocess.run(["kamcmd", "-s", "unix:" + os.path.join(self.dir, "kamailio.ctl"),
                              "htable.sets", "numbers", "s:" + number, "s:" + queue_id],
                             check=True, capture_output=True, text=True, timeout=10)
        if not out.stdout.startswith("Ok"):
            raise RuntimeError(f"kamcmd htable.sets: {out.stdout} {out.stderr}")

    def errors(self):
        """Log lines that mean a crash or a config bug (the TCP main process's
        "receive_fd(): EOF" after the shutdown notice is its children ending)."""
        bad = re.compile(r"CRITICAL|ALERT|BUG:|exited by a signal|core was generated|"
                         r"rval_get_int|conversion to int failed|runaway while")
        out, stopping = [], False
        for line in self.log().splitlines():
            stopping |= "Thank you for flying" in line
            if bad.search(line) and not (stopping and "receive_fd(): EOF" in line):
                out.append(line)
        return out

    def stop(self, timeout=20):
        """SIGTERM; a worker that does not end in `timeout` is killed (and the
        exit code is then not 0)."""
        kids = self.children()
        try:
            return super().stop(timeout)
        except subprocess.TimeoutExpired:
            for pid in kids:  # ours: never left behind
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        if self.cfg.encode() in f.read():
                            os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            return -9


class Sipp(Proc):
    """One SIPp process with its message and error logs."""

    def __init__(self, name, workdir, scenario, args):
        self.msg_log = os.path.join(workdir, f"{name}.msg")
        self.err_log = os.path.join(workdir, f"{name}.err")
        argv = ["sipp", *args, "-sf", os.path.join(SCENARIOS, scenario), "-i", IP,
                "-nostdin", "-trace_msg", "-message_file", self.msg_log,
                "-trace_err", "-error_file", self.err_log]
        super().__init__(name, argv, workdir)

    def messages(self):
        try:
            with open(self.msg_log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def wait(self, timeout):
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise AssertionError(f"{self.name} did not finish in {timeout}s:\n"
                                 f"{self.log()[-2000:]}")

    def stop(self, timeout=5):
        if self.alive():
            self.p.send_signal(signal.SIGKILL)
            self.p.wait(timeout)


class Uas:
    """A SIPp UAS on its own UDP port that answers every INVITE the way
    `behaviour` says: answer (after ring_ms), busy (486), noanswer (rings
    until canceled), hangup (answers, hangs up itself after ring_ms), join
    (answers, and takes a supervisor's RFC 3911 Join too), supervisor (a
    supervisor's phone called by the PBX: no SDP in the INVITE, the offer in
    its 200, the answer expected in the ACK)."""

    SCENARIO = {"answer": "agent_answer.xml", "busy": "agent_busy.xml",
                "noanswer": "agent_noanswer.xml", "hangup": "agent_hangup.xml",
                "join": "agent_join.xml", "supervisor": "supervisor_answer.xml"}

    def __init__(self, workdir, name, behaviour="answer", ring_ms=300, port=None):
        self.workdir, self.name = workdir, name
        self.behaviour, self.ring_ms = behaviour, ring_ms
        self.port = port or free_udp_port()
        self.uas = None

    def start(self):
        self.uas = Sipp(self.name, self.workdir, self.SCENARIO[self.behaviour],
                        ["-p", str(self.port), "-d", str(self.ring_ms)]).start()
        try:
            wait_for(lambda: udp_bound(self.port), 10, self.name)
        except TimeoutError:
            self.uas.stop()
            raise
        return self

    def received(self, method):
        """Call-IDs of the `method` requests received, in order, once each."""
        out = []
        for _, way, first, cid in parse_messages(self.uas.messages()):
            if way == "received" and first.startswith(method + " ") and cid not in out:
                out.append(cid)
        return out

    def invites(self):
        """Call-IDs of the INVITEs received, in order."""
        return self.received("INVITE")

    def traced(self, way, start):
        """Whole text of every message `way` ("received" or "sent") whose
        first line starts with `start`, in order (SIPp -trace_msg blocks;
        retransmissions included)."""
        out = []
        for block in re.split(r"^-{10,}.*$", self.uas.messages(), flags=re.M):
            lines = block.strip().splitlines()
            if len(lines) > 2 and f"message {way}" in lines[0]:
                text = "\n".join(lines[1:]).strip()
                if text.startswith(start):
                    out.append(text)
        return out

    def first_time(self, method):
        """When the first `method` request arrived (epoch seconds)."""
        for ts, way, first, _ in parse_messages(self.uas.messages()):
            if way == "received" and first.startswith(method + " "):
                return ts
        return None

    def stop(self):
        if self.uas:
            self.uas.stop()


class Phone(Uas):
    """An agent's SIP phone: registers `account` to Kamailio first."""

    def __init__(self, kam, workdir, account, behaviour="answer", ring_ms=300):
        super().__init__(workdir, f"phone-{account}", behaviour, ring_ms)
        self.kam, self.account = kam, account

    def register(self):
        reg = Sipp(f"register-{self.account}", self.workdir, "register.xml",
                   [f"{IP}:{self.kam.port}", "-p", str(self.port), "-key", "account",
                    self.account, "-m", "1", "-timeout", "10", "-timeout_error"]).start()
        rc = reg.wait(20)
        assert rc == 0, f"REGISTER {self.account} failed:\n{reg.log()[-2000:]}"
        return self

    def start(self):
        self.register()
        return super().start()


class Caller:
    """A SIPp caller dialing `service` (a queue number, an agent, a phone
    number) from `caller`; call ids are "<tag>-<n>@127.0.0.1"."""

    _seq = 0

    def __init__(self, kam, workdir, service, scenario="caller.xml", caller="600100",
                 hold_ms=500, calls=1, rate=None, tag=None, extra=None):
        Caller._seq += 1
        self.tag = tag or f"c{Caller._seq}x{os.getpid()}"
        args = [f"{IP}:{kam.port}", "-s", service, "-key", "caller", caller,
                "-p", str(free_udp_port()), "-m", str(calls), "-d", str(hold_ms),
                "-cid_str", f"{self.tag}-%u@{IP}", "-timeout", "60", "-timeout_error",
                *(["-r", str(rate)] if rate else []), *(extra or [])]
        self.sipp = Sipp(f"caller-{self.tag}", workdir, scenario, args)
        self.calls = calls

    def call_id(self, n=1):
        return f"{self.tag}-{n}@{IP}"

    def start(self):
        self.sipp.start()
        return self

    def wait(self, timeout=60):
        return self.sipp.wait(timeout)

    def run(self, timeout=60):
        """Starts, waits; returns SIPp's exit code (0: every call went as
        the scenario says)."""
        return self.start().wait(timeout)

    def final_code(self):
        """The first final (>= 300) reply the caller received."""
        for _, way, first, _ in parse_messages(self.sipp.messages()):
            m = re.match(r"SIP/2\.0 ([3-6]\d\d) ", first)
            if way == "received" and m:
                return int(m.group(1))
        return None

    def stop(self):
        self.sipp.stop()


class SipWorld:
    """Kamailio + phones + callers in one work directory; close() stops all
    and returns problems found in Kamailio's log."""

    def __init__(self, workdir, pbx_url, token, numbers=None, gateway=None, tuning=None):
        self.workdir = workdir
        self.kam = Kamailio(workdir, pbx_url, token, numbers, gateway, tuning).start()
        self.phones, self.callers = [], []

    def phone(self, account, behaviour="answer", ring_ms=300):
        ph = Phone(self.kam, self.workdir, account, behaviour, ring_ms).start()
        self.phones.append(ph)
        return ph

    def caller(self, service, **kw):
        c = Caller(self.kam, self.workdir, service, **kw)
        self.callers.append(c)
        return c

    def close(self):
        for c in self.callers:
            c.stop()
        for ph in self.phones:
            ph.stop()
        problems = self.kam.errors()
        code = self.kam.stop()
        if code != 0:
            problems.append(f"kamailio exited {code} on SIGTERM")
        return problems
