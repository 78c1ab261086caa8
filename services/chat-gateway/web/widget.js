/* The web-chat widget: <script src=".../webchat/widget.js" data-channel="chn_..."
 * data-base="https://chat.example.com"></script> adds a chat box to the page.
 * The session (id and token) is kept in localStorage per channel; the agent's
 * replies arrive over server-sent events. A message shows "Sending…" until
 * chat-gateway answers 2xx, is retried with the same client_id (the server
 * keeps it once) with backoff while the server is unreachable or answers
 * 5xx/429, and shows "Not sent" with a Retry button when it gives up. */
(function () {
  "use strict";
  var me = document.currentScript;
  var channel = me.getAttribute("data-channel");
  var base = me.getAttribute("data-base") || "";
  var key = "cc-webchat-" + channel;
  var session = null, events = null, shown = {};
  var BACKOFF_MS = [500, 1000, 2000, 4000, 8000]; /* then every 8 s */
  var GIVE_UP_MS = 60000;

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text) e.textContent = text;
    return e;
  }

  var box = el("section", {"aria-label": "Chat", "class": "cc-webchat",
    "style": "position:fixed;right:1rem;bottom:1rem;width:20rem;font:14px sans-serif;" +
             "background:#fff;border:1px solid #888;border-radius:8px;display:none;flex-direction:column"});
  var log = el("ol", {"aria-live": "polite", "class": "cc-log",
    "style": "list-style:none;margin:0;padding:.5rem;height:16rem;overflow-y:auto"});
  var form = el("form", {"style": "display:flex;gap:.25rem;padding:.5rem"});
  var label = el("label", {"for": "cc-webchat-text", "style": "position:absolute;left:-9999px"}, "Message");
  var input = el("input", {"id": "cc-webchat-text", "autocomplete": "off", "style": "flex:1"});
  var send = el("button", {"type": "submit"}, "Send");
  var open = el("button", {"type": "button", "class": "cc-open",
    "style": "position:fixed;right:1rem;bottom:1rem"}, "Chat with us");
  form.appendChild(label); form.appendChild(input); form.appendChild(send);
  box.appendChild(log); box.appendChild(form);

  function show(m) {
    if (m.id && shown[m.id]) return null;
    if (m.id) shown[m.id] = true;
    var li = el("li", {"class": "cc-" + m.direction,
      "style": "margin:.25rem 0;text-align:" + (m.direction === "in" ? "right" : "left")}, m.text || "");
    (m.attachments || []).forEach(function (a) {
      var link = el("a", {"href": a.url, "target": "_blank", "rel": "noopener"}, a.name || "file");
      if (a.kind === "image") {
        link.textContent = "";
        link.appendChild(el("img", {"src": a.url, "alt": a.name || "image", "style": "max-width:100%"}));
      }
      li.appendChild(document.createElement("br"));
      li.appendChild(link);
    });
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
    return li;
  }

  function call(method, path, body) {
    var headers = {"Content-Type": "application/json"};
    if (session) headers["X-Webchat-Token"] = session.token;
    return fetch(base + path, {method: method, headers: headers,
                               body: body ? JSON.stringify(body) : undefined})
      .then(function (r) {
        if (r.status === 401 || r.status === 404) throw new Error("session");
        if (!r.ok) {
          var e = new Error("HTTP " + r.status);
          e.status = r.status;
          e.retryAfter = parseInt(r.headers.get("Retry-After"), 10);
          throw e;
        }
        return r.json();
      });
  }

  function start() {
    var saved = null;
    try { saved = JSON.parse(localStorage.getItem(key)); } catch (e) { saved = null; }
    var ready = saved ? Promise.resolve(saved)
      : call("POST", "/webchat/v1/" + channel + "/sessions", {}).then(function (s) {
          localStorage.setItem(key, JSON.stringify(s));
          return s;
        });
    return ready.then(function (s) {
      session = s;
      return call("GET", "/webchat/v1/sessions/" + s.session_id + "/messages");
    }).then(function (list) {
      list.items.forEach(show);
      events = new EventSource(base + "/webchat/v1/sessions/" + session.session_id +
                               "/events?token=" + encodeURIComponent(session.token));
      events.addEventListener("message", function (e) {
        var m = JSON.parse(e.data);
        if (m.direction === "out") show(m);
      });
    }).catch(function (e) {
      if (e.message === "session" && saved) {  /* expired: start over */
        localStorage.removeItem(key);
        session = null;
        return start();
      }
    });
  }

  /* A customer message's delivery state, under its text. */
  function mark(li, state) {
    var note = li.querySelector(".cc-state");
    if (!note) {
      note = el("small", {"class": "cc-state", "style": "display:block;font-size:11px;color:#666"});
      li.appendChild(note);
    }
    li.setAttribute("data-state", state);
    note.textContent = state === "pending" ? "Sending…" : state === "failed" ? "Not sent. " : "Sent";
    if (state === "failed") {
      var again = el("button", {"type": "button", "class": "cc-retry"}, "Retry");
      again.addEventListener("click", function () { deliver(li); });
      note.appendChild(again);
    }
  }

  function retryable(e) {
    return !e.status || e.status === 408 || e.status === 429 || e.status >= 500;
  }

  /* Sends li's message until a 2xx (same client_id every time), backing off;
   * gives up after GIVE_UP_MS or on an answer a retry cannot change. */
  function deliver(li) {
    var started = Date.now(), tries = 0;
    mark(li, "pending");
    function attempt() {
      call("POST", "/webchat/v1/sessions/" + session.session_id + "/messages",
           {text: li.getAttribute("data-text"), client_id: li.getAttribute("data-client")})
        .then(function (m) {
          if (m && m.id) shown[m.id] = true;
          mark(li, "sent");
        }, function (e) {
          var wait = e.retryAfter > 0 ? Math.min(e.retryAfter * 1000, 10000)
                                      : BACKOFF_MS[Math.min(tries, BACKOFF_MS.length - 1)];
          tries++;
          if (!retryable(e) || Date.now() - started + wait > GIVE_UP_MS) mark(li, "failed");
          else setTimeout(attempt, wait + Math.random() * 250);
        });
    }
    attempt();
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text || !session) return;
    var li = show({direction: "in", text: text});
    li.setAttribute("data-text", text);
    li.setAttribute("data-client", Date.now().toString(36) + Math.random().toString(36).slice(2, 8));
    input.value = "";
    deliver(li);
  });
  open.addEventListener("click", function () {
    box.style.display = "flex";
    open.style.display = "none";
    if (!session) start();
    input.focus();
  });
  document.body.appendChild(box);
  document.body.appendChild(open);
})();
