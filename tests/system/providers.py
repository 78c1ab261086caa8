"""A local stand-in for the chat providers' APIs, and the providers' side of
webhooks: bodies from tests/fixtures/providers signed the way each provider
signs them (SPEC section 8)."""
import hashlib
import hmac
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures",
                        "providers")

# channel type -> webhook path name, fixture directory, credentials
PROVIDERS = {
    "telegram": ("telegram", "telegram", {"bot_token": "123456:ABC-token", "secret_token": "tg-secret"}),
    "viber": ("viber", "viber", {"auth_token": "viber-auth-token"}),
    "infobip_whatsapp": ("infobip", "infobip", {"api_key": "ib-key", "sender": "41793026731",
                                                 "webhook_authorization": "Basic aWI6c2VjcmV0"}),
    "whatsapp_cloud": ("whatsapp", "whatsapp", {"access_token": "wa-token", "app_secret": "wa-secret",
                                                "verify_token": "wa-verify",
                                                "phone_number_id": "106540352242922"}),
    "messenger": ("messenger", "messenger", {"page_access_token": "fb-token",
                                             "app_secret": "fb-secret", "verify_token": "fb-verify"}),
}

# where each provider's send request goes, and the header that carries the key
SEND_PATH = {
    "telegram": "/bot123456:ABC-token/sendMessage",
    "viber": "/pa/send_message",
    "infobip_whatsapp": "/whatsapp/1/message/text",
    "whatsapp_cloud": "/v21.0/106540352242922/messages",
    "messenger": "/v21.0/me/messages",
}
SEND_AUTH = {
    "telegram": None,
    "viber": ("X-Viber-Auth-Token", "viber-auth-token"),
    "infobip_whatsapp": ("Authorization", "App ib-key"),
    "whatsapp_cloud": ("Authorization", "Bearer wa-token"),
    "messenger": ("Authorization", "Bearer fb-token"),
}


def fixture(provider, name):
    with open(os.path.join(FIXTURES, PROVIDERS[provider][1], name + ".json"), "rb") as f:
        return f.read()


def sign(provider, body):
    """The headers the provider sends with `body`."""
    cred = PROVIDERS[provider][2]
    if provider == "telegram":
        return {"X-Telegram-Bot-Api-Secret-Token": cred["secret_token"]}
    if provider == "viber":
        return {"X-Viber-Content-Signature":
                hmac.new(cred["auth_token"].encode(), body, hashlib.sha256).hexdigest()}
    if provider == "infobip_whatsapp":
        return {"Authorization": cred["webhook_authorization"]}
    return {"X-Hub-Signature-256":
            "sha256=" + hmac.new(cred["app_secret"].encode(), body, hashlib.sha256).hexdigest()}


class StandIn:
    """An HTTP server playing every provider's API: it records each request
    and answers what `answer(method, path, body)` returns, by default the
    provider's documented success (send_ok fixtures) and files from `files`."""

    def __init__(self):
        self.requests = []
        self.files = {}  # path -> bytes served on GET
        self.redirects = {}  # path -> where a request for it is sent (302 Location)
        self.delays = {}  # path -> seconds to wait before answering it
        self.script = []  # (status, body) answered to the next sends, in order
        self.lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def handle_one(self, method):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                with standin.lock:
                    standin.requests.append({"method": method, "path": self.path,
                                             "headers": dict(self.headers), "body": body})
                time.sleep(standin.delays.get(self.path.split("?")[0], 0))
                where = standin.redirects.get(self.path.split("?")[0])
                if where:
                    self.send_response(302)
                    self.send_header("Location", where)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status, out, ctype = standin.answer(method, self.path, body)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def do_GET(self):
                self.handle_one("GET")

            def do_POST(self):
                self.handle_one("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, method, path, body):
        bare = path.split("?")[0]
        if method == "GET" and bare in self.files:
            return 200, self.files[bare], "application/octet-stream"
        if "getFile" in path:
            return 200, json.dumps({"ok": True, "result": {"file_id": "x", "file_path":
                                                           "photos/file_1.jpg"}}).encode(), \
                "application/json"
        with self.lock:
            scripted = self.script.pop(0) if self.script else None
        if scripted:
            return scripted[0], scripted[1], "application/json"
        for provider, p in SEND_PATH.items():
            base = p.rsplit("/", 1)[0]
            if bare.startswith(base) and method == "POST":
                return 200, fixture(provider, "send_ok"), "application/json"
        return 404, b'{"error":"not found"}', "application/json"

    def sent(self, path_part):
        with self.lock:
            return [r for r in self.requests if r["method"] == "POST" and path_part in r["path"]]

    def close(self):
        self.server.shutdown()
        self.server.server_close()
