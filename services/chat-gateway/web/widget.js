/* The web-chat widget: <script src=".../webchat/widget.js" data-channel="chn_..."
 * data-base="https://chat.example.com"></script> adds a chat box to the page.
 * The session (id and token) is kept in localStorage per channel; the agent's
 * replies arrive over server-sent events. */
(function () {
  "use strict";
  var me = document.currentScript;
  var channel = me.getAttribute("data-channel");
  var base = me.getAttribute("data-base") || "";
  var key = "cc-webchat-" + channel;
  var session = null, events = null, shown = {};

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
    if (m.id && shown[m.id]) return;
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
  }

  function call(method, path, body) {
    var headers = {"Content-Type": "application/json"};
    if (session) headers["X-Webchat-Token"] = session.token;
    return fetch(base + path, {method: method, headers: headers,
                               body: body ? JSON.stringify(body) : undefined})
      .then(function (r) {
        if (r.status === 401 || r.status === 404) throw new Error("session");
        if (!r.ok) throw new Error("HTTP " + r.status);
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

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text || !session) return;
    var client = Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
    input.value = "";
    show({direction: "in", text: text});
    call("POST", "/webchat/v1/sessions/" + session.session_id + "/messages",
         {text: text, client_id: client});
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
