"""A tiny Chrome DevTools Protocol client for browser tests: Debian's
headless Chromium driven over its DevTools WebSocket (python3-websocket).

Browser() starts chromium --headless=new on a free DevTools port with a
throw-away profile; browser.page() opens a tab in a fresh browser context
(its own storage). A Page navigates, evaluates JavaScript (awaiting
promises), waits for conditions by polling, clicks with real mouse events
at an element's centre, types with real key events or Input.insertText,
sets files on a file input, saves downloads, takes screenshots and records every console
error, uncaught exception and browser log error in `page.errors`. page.axe() runs
the axe-core accessibility checker (tools/axe, installed by `make deps`) on the
page: its source is evaluated over the DevTools connection, so the page's
Content-Security-Policy stays as strict as it is."""
import base64
import json
import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading
import time

import websocket

# Helpers the tests' expressions use: elements by accessible name or label.
HELPERS = r"""
window.__cc = {
  visible(e) { return !!e && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden"; },
  name(e) {
    if (e.getAttribute("aria-label")) return e.getAttribute("aria-label").trim();
    if (e.labels && e.labels.length) return e.labels[0].textContent.trim();
    return e.textContent.replace(/\s+/g, " ").trim();
  },
  button(name, exact = true, root = document) {
    const all = [...root.querySelectorAll("button, a[href], [role=tab], summary")];
    return all.find((b) => this.visible(b) && !b.disabled &&
      (exact ? this.name(b) === name : this.name(b).startsWith(name)));
  },
  control(label, root = document) {
    const l = [...root.querySelectorAll("label")].find((l) => this.visible(l) && l.textContent.trim() === label);
    if (l) return l.control || document.getElementById(l.htmlFor);
    return [...root.querySelectorAll("[aria-label]")].find((e) => this.visible(e) && e.getAttribute("aria-label") === label);
  },
};
"""


AXE_JS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "axe",
                      "node_modules", "axe-core", "axe.min.js")
_axe_source = None


def axe_source():
    global _axe_source
    if _axe_source is None:
        path = os.environ.get("CC_AXE_JS", AXE_JS)
        if not os.path.exists(path):
            raise RuntimeError(f"no axe-core at {path}: run make deps (it installs tools/axe)")
        with open(path, encoding="utf-8") as f:
            _axe_source = f.read()
    return _axe_source


def chromium_binary():
    for exe in ("/usr/lib/chromium/chromium", shutil.which("chromium"), shutil.which("chromium-browser"),
                shutil.which("google-chrome")):
        if exe and os.path.exists(exe):
            return exe
    raise RuntimeError("no chromium: apt-get install chromium (make deps)")


class CdpError(RuntimeError):
    pass


class Connection:
    """One DevTools WebSocket: commands with ids, events to a callback."""

    def __init__(self, url, on_event=None):
        # Chromium refuses WebSocket clients that send an Origin it does not allow
        self.ws = websocket.create_connection(url, timeout=30, suppress_origin=True,
                                              enable_multithread=True)
        self.on_event = on_event or (lambda m: None)
        self.next_id = 0
        self.lock = threading.Lock()
        self.waiting = {}
        self.closed = False
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while not self.closed:
            try:
                raw = self.ws.recv()
            except Exception:  # closed or broken: wake every waiter
                break
            if not raw:
                continue
            msg = json.loads(raw)
            if "id" in msg:
                q = self.waiting.pop(msg["id"], None)
                if q:
                    q.put(msg)
            else:
                self.on_event(msg)
        self.closed = True
        for q in list(self.waiting.values()):
            q.put({"error": {"message": "connection closed"}})

    def send(self, method, params=None, timeout=30):
        with self.lock:
            self.next_id += 1
            mid = self.next_id
            q = queue.Queue()
            self.waiting[mid] = q
            self.ws.send(json.dumps({"id": mid, "method": method, "params": params or {}}))
        try:
            msg = q.get(timeout=timeout)
        except queue.Empty:
            raise CdpError(f"{method}: no answer in {timeout}s") from None
        if "error" in msg:
            raise CdpError(f"{method}: {msg['error'].get('message')}")
        return msg.get("result", {})

    def close(self):
        self.closed = True
        try:
            self.ws.close()
        except Exception:
            pass


class Page:
    def __init__(self, browser, target_id, context_id):
        self.browser, self.target_id, self.context_id = browser, target_id, context_id
        self.errors = []   # console errors, exceptions, browser log errors
        self.console = []  # every console line, for a post-mortem
        self.conn = Connection(f"ws://127.0.0.1:{browser.port}/devtools/page/{target_id}", self._event)
        for domain in ("Page", "Runtime", "Log", "DOM"):
            self.conn.send(f"{domain}.enable")
        self.conn.send("Page.addScriptToEvaluateOnNewDocument", {"source": HELPERS})
        self.conn.send("Emulation.setDeviceMetricsOverride", {
            "width": browser.width, "height": browser.height, "deviceScaleFactor": 1, "mobile": False})

    def _event(self, msg):
        method, p = msg.get("method"), msg.get("params", {})
        if method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            self.console.append(f"{p.get('type')}: {text}")
            if p.get("type") in ("error", "assert"):
                self.errors.append(f"console.{p.get('type')}: {text}")
        elif method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            desc = d.get("exception", {}).get("description") or d.get("text")
            self.errors.append(f"exception: {desc} at {d.get('url')}:{d.get('lineNumber')}")
        elif method == "Log.entryAdded":
            e = p.get("entry", {})
            self.console.append(f"log {e.get('level')}: {e.get('text')} {e.get('url', '')}")
            if e.get("level") == "error":
                self.errors.append(f"log: {e.get('text')} {e.get('url', '')}")

    # --- navigation and scripts ---

    def goto(self, url, timeout=20):
        self.conn.send("Page.navigate", {"url": url})
        self.wait("document.readyState === 'complete' && !!window.__cc", timeout)

    def eval(self, expr, timeout=30):
        """The value of a JavaScript expression (a promise is awaited)."""
        r = self.conn.send("Runtime.evaluate", {"expression": expr, "awaitPromise": True,
                                                "returnByValue": True, "userGesture": True},
                           timeout=timeout)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise CdpError(f"{expr[:200]}: {d.get('exception', {}).get('description') or d.get('text')}")
        return r.get("result", {}).get("value")

    def wait(self, expr, timeout=15, interval=0.1):
        """Polls `expr` until it is truthy; returns its value."""
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            try:
                v = self.eval(expr)
            except CdpError as e:
                v, last = None, e
            if v:
                return v
            time.sleep(interval)
        raise AssertionError(f"not true after {timeout}s: {expr}\nlast error: {last}\n"
                             f"page text:\n{self.text()[:3000]}\nconsole: {self.console[-20:]}")

    def text(self):
        try:
            return self.eval("document.body ? document.body.innerText : ''") or ""
        except CdpError:
            return ""

    # --- input ---

    def _center(self, js_element):
        box = self.eval(f"""(() => {{
            const e = {js_element};
            if (!e) return null;
            e.scrollIntoView({{block: "center", inline: "center"}});
            const r = e.getBoundingClientRect();
            return [r.left + r.width / 2, r.top + r.height / 2];
        }})()""")
        return box

    def click_element(self, js_element, timeout=15):
        """Clicks the element `js_element` evaluates to with real mouse
        events at its centre, once it exists."""
        deadline = time.time() + timeout
        while True:  # the element may be redrawn between the wait and the click
            self.wait(f"!!({js_element})", max(0.5, deadline - time.time()))
            box = self._center(js_element)
            if box or time.time() > deadline:
                break
            time.sleep(0.05)
        assert box, f"{js_element}: gone before it could be clicked"
        x, y = box
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.conn.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left",
                                                        "buttons": 1 if kind == "mousePressed" else 0,
                                                        "clickCount": 1})

    def click(self, name, exact=True, timeout=15):
        """Clicks the visible, enabled button (or link, tab) named `name`."""
        self.click_element(f"__cc.button({json.dumps(name)}, {json.dumps(exact)})", timeout)

    def click_css(self, selector, timeout=15):
        self.click_element(f"document.querySelector({json.dumps(selector)})", timeout)

    def focus(self, label, timeout=15):
        js = f"__cc.control({json.dumps(label)})"
        self.wait(f"!!({js})", timeout)
        self.eval(f"{js}.focus()")
        return js

    def type(self, text):
        """Types into the focused element (any Unicode, emoji included)."""
        self.conn.send("Input.insertText", {"text": text})

    def fill(self, label, value, timeout=15):
        """Replaces the value of the control labelled `label`: typed into a
        text field, chosen (by option text or value) in a select, set on a
        checkbox."""
        js = self.focus(label, timeout)
        kind = self.eval(f"{js}.tagName.toLowerCase() + ':' + ({js}.type || '')")
        if kind.startswith("select"):
            ok = self.eval(f"""(() => {{
                const s = {js}, want = {json.dumps(str(value))};
                const o = [...s.options].find((o) => o.text === want || o.value === want);
                if (!o) return false;
                s.value = o.value;
                s.dispatchEvent(new Event("input", {{bubbles: true}}));
                s.dispatchEvent(new Event("change", {{bubbles: true}}));
                return true;
            }})()""")
            assert ok, f"{label}: no option {value!r}"
        elif kind.endswith("checkbox"):
            if bool(self.eval(f"{js}.checked")) != bool(value):
                self.click_element(js)
        else:
            self.eval(f"{js}.select ? {js}.select() : null")
            self.conn.send("Input.dispatchKeyEvent", {"type": "keyDown", "key": "Delete", "code": "Delete",
                                                      "windowsVirtualKeyCode": 46})
            self.conn.send("Input.dispatchKeyEvent", {"type": "keyUp", "key": "Delete", "code": "Delete",
                                                      "windowsVirtualKeyCode": 46})
            if value != "":
                self.type(str(value))

    def press(self, key):
        """A key press on the focused element: Enter, Escape, Tab."""
        codes = {"Enter": (13, "\r"), "Escape": (27, ""), "Tab": (9, "")}
        vk, text = codes[key]
        down = {"type": "keyDown", "key": key, "code": key, "windowsVirtualKeyCode": vk}
        if text:
            down["text"] = text
        self.conn.send("Input.dispatchKeyEvent", down)
        self.conn.send("Input.dispatchKeyEvent", {"type": "keyUp", "key": key, "code": key,
                                                  "windowsVirtualKeyCode": vk})

    def set_files(self, selector, paths):
        """Chooses `paths` in the file input `selector` (fires its change event)."""
        doc = self.conn.send("DOM.getDocument", {"depth": 0})
        node = self.conn.send("DOM.querySelector", {"nodeId": doc["root"]["nodeId"], "selector": selector})
        assert node.get("nodeId"), f"no {selector}"
        self.conn.send("DOM.setFileInputFiles", {"nodeId": node["nodeId"], "files": list(paths)})

    def allow_downloads(self, path):
        """Files this page downloads are saved into `path` (the browser's own name kept)."""
        self.browser.conn.send("Browser.setDownloadBehavior", {
            "behavior": "allow", "downloadPath": str(path), "browserContextId": self.context_id})

    def axe(self, impacts=("serious", "critical")):
        """The axe-core violations of the page now (WCAG 2.x A/AA and best
        practices) whose impact is one of `impacts`: a list of
        {id, impact, help, nodes: [target and summary]}."""
        if not self.eval("typeof window.axe === 'object'"):
            self.conn.send("Runtime.evaluate", {"expression": axe_source(), "returnByValue": True})
        # colours are read with transitions and animations off (as a person
        # asking for reduced motion sees them), not half way through a fade
        self.conn.send("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-reduced-motion", "value": "reduce"}]})
        try:
            found = self._axe_run()
        finally:
            self.conn.send("Emulation.setEmulatedMedia", {"features": []})
        return [v for v in found if v["impact"] in impacts]

    def _axe_run(self):
        return self.eval("""axe.run(document, {resultTypes: ["violations"]}).then((r) => r.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + ": " + (n.failureSummary || "").replace(/\\s+/g, " "))})))""",
                         timeout=60)

    def assert_accessible(self, where=""):
        """No serious or critical axe-core violation on the page now."""
        bad = self.axe()
        assert not bad, f"accessibility ({where or self.eval('location.hash')}):\n" + "\n".join(
            f"- {v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"]) for v in bad)

    def screenshot(self, path):
        r = self.conn.send("Page.captureScreenshot", {"format": "png"})
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))

    def close(self):
        try:
            self.browser.conn.send("Target.closeTarget", {"targetId": self.target_id}, timeout=5)
            self.browser.conn.send("Target.disposeBrowserContext", {"browserContextId": self.context_id},
                                   timeout=5)
        except CdpError:
            pass
        self.conn.close()


class Browser:
    """A headless Chromium with its DevTools endpoint; close() ends it."""

    def __init__(self, width=1366, height=768):
        self.width, self.height = width, height
        self.profile = tempfile.mkdtemp(prefix="cc-chromium-")
        argv = [chromium_binary(), "--headless=new", "--remote-debugging-port=0",
                f"--user-data-dir={self.profile}", f"--window-size={width},{height}",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--disable-background-networking", "--disable-sync", "--disable-gpu",
                "--disable-dev-shm-usage", "--mute-audio", "--hide-scrollbars",
                "--disable-features=Translate,MediaRouter,OptimizationHints",
                "--password-store=basic", "--use-mock-keychain", "about:blank"]
        if os.geteuid() == 0:  # chromium's sandbox refuses to run as root
            argv.insert(1, "--no-sandbox")
        self.p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.stderr = []
        url = self._devtools_url(30)
        self.port = int(re.search(r":(\d+)/", url).group(1))
        threading.Thread(target=self._drain, daemon=True).start()
        self.conn = Connection(url)
        self.pages = []

    def _devtools_url(self, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            line = self.p.stderr.readline().decode("utf-8", "replace")
            if not line and self.p.poll() is not None:
                break
            self.stderr.append(line)
            m = re.search(r"DevTools listening on (ws://\S+)", line)
            if m:
                return m.group(1)
        self.close()
        raise RuntimeError("chromium did not start:\n" + "".join(self.stderr[-40:]))

    def _drain(self):
        for line in self.p.stderr:
            self.stderr.append(line.decode("utf-8", "replace"))
            del self.stderr[:-200]

    def page(self):
        ctx = self.conn.send("Target.createBrowserContext", {"disposeOnDetach": True})["browserContextId"]
        target = self.conn.send("Target.createTarget", {"url": "about:blank", "browserContextId": ctx,
                                                        "width": self.width, "height": self.height})
        page = Page(self, target["targetId"], ctx)
        self.pages.append(page)
        return page

    def close(self):
        for page in getattr(self, "pages", []):
            page.conn.close()
        if getattr(self, "conn", None):
            self.conn.close()
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        shutil.rmtree(self.profile, ignore_errors=True)
