/* The web-chat widget. A website adds
 *   <script src="https://chat.example.com/webchat/widget.js" data-channel="chn_..." async></script>
 * (data-base: chat-gateway's address when it is not the script's; data-lang:
 * en, pl, es, uk to override the channel's and the browser's language).
 *
 * It reads the channel's settings (GET /webchat/v1/{channel}/config: title,
 * colour, pre-chat form, language), shows a launcher and a chat panel with
 * the channel's title and colour, asks the visitor's name and e-mail first
 * when the channel says so, and then talks to chat-gateway's web-chat API:
 * the session (id and token) is kept in localStorage per channel, the
 * agent's messages, the chat's changes and the agent's typing arrive over
 * server-sent events, the visitor's typing is told at most every 3 s. The
 * panel's open/closed state survives page loads. A message shows
 * "Sending…" until chat-gateway answers 2xx, is retried with the same
 * client_id (kept once) with backoff while the server is unreachable or
 * answers 5xx/429, and shows "Not sent" with a Retry button when it gives
 * up. When the agent ends the chat the panel says so and offers a new one. */
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me) return;
  var channel = me.getAttribute("data-channel");
  var base = me.getAttribute("data-base") || new URL(me.src, location.href).origin;
  var key = "cc-webchat-" + channel;        /* {session_id, token} */
  var uiKey = "cc-webchat-ui-" + channel;   /* {open, dismissed: an ended chat's id} */
  var BACKOFF_MS = [500, 1000, 2000, 4000, 8000]; /* then every 8 s */
  var GIVE_UP_MS = 60000;
  var TYPING_EVERY_MS = 3000, TYPING_SHOWN_MS = 6000;

  var STRINGS = {
    en: {launcher: "Chat with us", title: "Chat", close: "Minimize chat", message: "Message",
         placeholder: "Write a message…", send: "Send", emoji: "Emoji", attach: "Attach a file",
         waiting: "We will answer shortly", joined: "{name} joined the chat", with: "You are chatting with {name}",
         typing: "{name} is typing…", agent: "Agent", you: "You", sending: "Sending…", sent: "Sent",
         failed: "Not sent.", retry: "Retry", ended: "The chat has ended.", again: "Start a new chat",
         intro: "Please introduce yourself before we start.", name: "Your name", email: "E-mail",
         optional: "(optional)", start: "Start chat", required: "Please fill in your name and e-mail.",
         badEmail: "Please check the e-mail address.", conversation: "Conversation", unread: "{n} new",
         file: "file", image: "image"},
    pl: {launcher: "Czat z nami", title: "Czat", close: "Zminimalizuj czat", message: "Wiadomość",
         placeholder: "Napisz wiadomość…", send: "Wyślij", emoji: "Emoji", attach: "Dołącz plik",
         waiting: "Wkrótce odpowiemy", joined: "{name} dołącza do czatu", with: "Rozmawiasz z: {name}",
         typing: "{name} pisze…", agent: "Konsultant", you: "Ty", sending: "Wysyłanie…", sent: "Wysłano",
         failed: "Nie wysłano.", retry: "Ponów", ended: "Czat został zakończony.", again: "Rozpocznij nowy czat",
         intro: "Przedstaw się, zanim zaczniemy.", name: "Imię i nazwisko", email: "E-mail",
         optional: "(opcjonalnie)", start: "Rozpocznij czat", required: "Podaj imię i adres e-mail.",
         badEmail: "Sprawdź adres e-mail.", conversation: "Rozmowa", unread: "nowe: {n}",
         file: "plik", image: "obraz"},
    es: {launcher: "Chatea con nosotros", title: "Chat", close: "Minimizar el chat", message: "Mensaje",
         placeholder: "Escribe un mensaje…", send: "Enviar", emoji: "Emoji", attach: "Adjuntar un archivo",
         waiting: "Te responderemos enseguida", joined: "{name} se ha unido al chat", with: "Estás hablando con {name}",
         typing: "{name} está escribiendo…", agent: "Agente", you: "Tú", sending: "Enviando…", sent: "Enviado",
         failed: "No enviado.", retry: "Reintentar", ended: "El chat ha finalizado.", again: "Iniciar un nuevo chat",
         intro: "Preséntate antes de empezar.", name: "Tu nombre", email: "Correo electrónico",
         optional: "(opcional)", start: "Iniciar chat", required: "Indica tu nombre y tu correo electrónico.",
         badEmail: "Revisa el correo electrónico.", conversation: "Conversación", unread: "{n} nuevos",
         file: "archivo", image: "imagen"},
    uk: {launcher: "Напишіть нам", title: "Чат", close: "Згорнути чат", message: "Повідомлення",
         placeholder: "Напишіть повідомлення…", send: "Надіслати", emoji: "Емодзі", attach: "Додати файл",
         waiting: "Ми скоро відповімо", joined: "{name} приєднується до чату", with: "Ви спілкуєтеся з: {name}",
         typing: "{name} друкує…", agent: "Оператор", you: "Ви", sending: "Надсилання…", sent: "Надіслано",
         failed: "Не надіслано.", retry: "Повторити", ended: "Чат завершено.", again: "Почати новий чат",
         intro: "Будь ласка, представтеся, перш ніж ми почнемо.", name: "Ваше ім'я", email: "Електронна пошта",
         optional: "(необов'язково)", start: "Почати чат", required: "Вкажіть ім'я та електронну пошту.",
         badEmail: "Перевірте адресу електронної пошти.", conversation: "Розмова", unread: "нових: {n}",
         file: "файл", image: "зображення"}
  };
  var EMOJI = [["😀", "grinning face"], ["😊", "smiling face"], ["😉", "winking face"], ["😂", "tears of joy"],
    ["😍", "heart eyes"], ["🤔", "thinking face"], ["😢", "crying face"], ["😮", "surprised face"],
    ["👍", "thumbs up"], ["👎", "thumbs down"], ["👋", "waving hand"], ["🙏", "folded hands"],
    ["👏", "clapping hands"], ["❤️", "red heart"], ["🎉", "party popper"], ["✅", "check mark"]];

  var lang = "en", T = STRINGS.en, config = {title: "", color: "#1f5fbf", prechat: "off", language: ""};
  var session = null, events = null, shown = {}, chat = null, agentName = "";
  var lastTyping = 0, typingTimer = null, unread = 0, starting = null;

  function pickLanguage(wanted) {
    var tags = [wanted, me.getAttribute("data-lang")].concat(navigator.languages || [navigator.language]);
    for (var i = 0; i < tags.length; i++) {
      var t = (tags[i] || "").toLowerCase().split("-")[0];
      if (STRINGS[t]) return t;
    }
    return "en";
  }

  function tr(k, vars) {
    return (T[k] || STRINGS.en[k]).replace(/\{(\w+)\}/g, function (_, v) { return vars[v]; });
  }

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text) e.textContent = text;
    return e;
  }

  function loadUi() {
    try { return JSON.parse(localStorage.getItem(uiKey)) || {}; } catch (e) { return {}; }
  }
  function saveUi(change) {
    var ui = loadUi();
    Object.keys(change).forEach(function (k) { ui[k] = change[k]; });
    try { localStorage.setItem(uiKey, JSON.stringify(ui)); } catch (e) { /* private mode */ }
  }

  function initials(name) {
    var parts = (name || "").trim().split(/\s+/).filter(Boolean);
    if (!parts.length) return "";
    var first = Array.from(parts[0])[0] || "";
    var last = parts.length > 1 ? Array.from(parts[parts.length - 1])[0] || "" : "";
    return (first + last).toUpperCase();
  }

  function clock(iso) {
    var d = iso ? new Date(iso) : new Date();
    return isNaN(d) ? "" : d.toLocaleTimeString(lang, {hour: "numeric", minute: "2-digit"});
  }

  /* --- the elements --- */
  var root = el("div", {"class": "ccw", "data-cc-webchat": channel});
  var launcher = el("button", {"type": "button", "class": "ccw-launcher cc-open", "aria-haspopup": "dialog"});
  var launchText = el("span", {}, "");
  var badge = el("span", {"class": "ccw-badge", "aria-hidden": "true"});
  badge.hidden = true;
  launcher.appendChild(el("span", {"aria-hidden": "true"}, "💬"));
  launcher.appendChild(launchText);
  launcher.appendChild(badge);

  var panel = el("section", {"class": "ccw-panel cc-webchat", "role": "dialog", "aria-labelledby": "ccw-title"});
  panel.hidden = true;
  var head = el("header", {"class": "ccw-head"});
  var avatar = el("div", {"class": "ccw-avatar", "aria-hidden": "true"});
  var headText = el("div", {"class": "ccw-head-text"});
  var title = el("h2", {"class": "ccw-title", "id": "ccw-title"});
  var status = el("p", {"class": "ccw-status", "aria-live": "polite"});
  var closeBtn = el("button", {"type": "button", "class": "ccw-close"}, "×");
  headText.appendChild(title); headText.appendChild(status);
  head.appendChild(avatar); head.appendChild(headText); head.appendChild(closeBtn);

  var body = el("div", {"class": "ccw-body"});
  var scroller = el("div", {"class": "ccw-scroll", "role": "log", "aria-live": "polite"});
  var log = el("ol", {"class": "ccw-log cc-log"});
  scroller.appendChild(log);
  var typingLine = el("p", {"class": "ccw-typing", "aria-live": "polite"});
  var ended = el("div", {"class": "ccw-ended", "role": "status"});
  var endedText = el("p", {});
  var againBtn = el("button", {"type": "button", "class": "ccw-primary"});
  ended.appendChild(endedText); ended.appendChild(againBtn);
  ended.hidden = true;

  var form = el("form", {"class": "ccw-form"});
  var emojiGrid = el("div", {"class": "ccw-emoji", "role": "group", "id": "ccw-emoji-grid"});
  emojiGrid.hidden = true;
  var row = el("div", {"class": "ccw-row"});
  var emojiBtn = el("button", {"type": "button", "class": "ccw-tool", "aria-expanded": "false",
                               "aria-controls": "ccw-emoji-grid"}, "😊");
  var attachBtn = el("button", {"type": "button", "class": "ccw-tool"}, "📎");
  var fileInput = el("input", {"type": "file", "class": "ccw-file", "tabindex": "-1", "aria-hidden": "true"});
  var label = el("label", {"for": "cc-webchat-text", "class": "ccw-visually-hidden"});
  var input = el("textarea", {"id": "cc-webchat-text", "class": "ccw-text", "rows": "1", "autocomplete": "off"});
  var send = el("button", {"type": "submit", "class": "ccw-primary ccw-send"});
  row.appendChild(emojiBtn); row.appendChild(attachBtn); row.appendChild(label); row.appendChild(input);
  row.appendChild(send);
  form.appendChild(emojiGrid); form.appendChild(row); form.appendChild(fileInput);

  var pre = el("form", {"class": "ccw-prechat", "novalidate": ""});
  pre.hidden = true;

  body.appendChild(scroller); body.appendChild(typingLine); body.appendChild(ended); body.appendChild(form);
  panel.appendChild(head); panel.appendChild(pre); panel.appendChild(body);
  root.appendChild(launcher); root.appendChild(panel);

  EMOJI.forEach(function (e) {
    var b = el("button", {"type": "button", "aria-label": e[1], "title": e[1]}, e[0]);
    b.addEventListener("click", function () { insert(e[0]); });
    emojiGrid.appendChild(b);
  });

  /* Every text of the chrome in the chosen language. */
  function texts() {
    root.setAttribute("lang", lang);
    launchText.textContent = tr("launcher");
    launcher.setAttribute("aria-label", tr("launcher"));
    title.textContent = config.title || tr("title");
    closeBtn.setAttribute("aria-label", tr("close"));
    closeBtn.setAttribute("title", tr("close"));
    scroller.setAttribute("aria-label", tr("conversation"));
    label.textContent = tr("message");
    input.setAttribute("placeholder", tr("placeholder"));
    send.textContent = tr("send");
    emojiBtn.setAttribute("aria-label", tr("emoji"));
    emojiGrid.setAttribute("aria-label", tr("emoji"));
    attachBtn.setAttribute("aria-label", tr("attach"));
    endedText.textContent = tr("ended");
    againBtn.textContent = tr("again");
    headState();
  }

  /* The header: the agent's initials and name once one joined. */
  function headState() {
    if (agentName) {
      avatar.textContent = initials(agentName);
      status.textContent = tr("with", {name: agentName});
    } else {
      avatar.textContent = initials(config.title || tr("title")) || "💬";
      status.textContent = tr("waiting");
    }
  }

  /* --- messages --- */
  function show(m) {
    if (m.id && shown[m.id]) return null;
    if (m.id) shown[m.id] = true;
    var who = m.direction === "in" ? "in" : m.author === "bot" ? "bot" : "out";
    var li = el("li", {"class": "cc-" + m.direction + (who === "bot" ? " cc-bot" : "")});
    if (m.id) li.setAttribute("data-id", m.id);
    if (who === "out") li.appendChild(el("span", {"class": "ccw-who"}, agentName || tr("agent")));
    else if (who === "in") li.appendChild(el("span", {"class": "ccw-visually-hidden"}, tr("you") + ": "));
    if (m.text) li.appendChild(document.createTextNode(m.text));
    (m.attachments || []).forEach(function (a) { attach(li, a); });
    if (who !== "bot") {
      var meta = el("span", {"class": "ccw-meta"});
      meta.appendChild(el("time", {"datetime": m.created_at || new Date().toISOString()}, clock(m.created_at)));
      li.appendChild(meta);
    }
    log.appendChild(li);
    scroller.scrollTop = scroller.scrollHeight;
    if (who === "out" && panel.hidden) {
      unread++;
      badge.textContent = String(unread);
      badge.hidden = false;
      launcher.setAttribute("aria-label", tr("launcher") + " (" + tr("unread", {n: unread}) + ")");
    }
    return li;
  }

  function attach(li, a) {
    var link = el("a", {"href": a.url || "#", "target": "_blank", "rel": "noopener"});
    if (a.kind === "image" && a.url) {
      link.appendChild(el("img", {"src": a.url, "alt": a.name || tr("image")}));
    } else {
      link.textContent = "📎 " + (a.name || tr("file"));
    }
    var meta = li.querySelector(".ccw-meta");
    if (li.querySelector(":scope > a") || /\S/.test(Array.prototype.map.call(li.childNodes, function (c) {
      return c.nodeType === 3 ? c.textContent : ""; }).join(""))) li.insertBefore(document.createElement("br"), meta);
    li.insertBefore(link, meta);
  }

  function note(text) {
    log.appendChild(el("li", {"class": "cc-note", "role": "status"}, text));
    scroller.scrollTop = scroller.scrollHeight;
  }

  /* --- the API --- */
  function call(method, path, bodyValue, raw) {
    var headers = {};
    if (!raw) headers["Content-Type"] = "application/json";
    if (session) headers["X-Webchat-Token"] = session.token;
    return fetch(base + path, {method: method, headers: headers,
                               body: raw || (bodyValue ? JSON.stringify(bodyValue) : undefined)})
      .then(function (r) {
        if (r.status === 401 || (r.status === 404 && session)) throw new Error("session");
        if (!r.ok) {
          var e = new Error("HTTP " + r.status);
          e.status = r.status;
          e.retryAfter = parseInt(r.headers.get("Retry-After"), 10);
          throw e;
        }
        return r.status === 204 ? null : r.json();
      });
  }

  function savedSession() {
    try { return JSON.parse(localStorage.getItem(key)); } catch (e) { return null; }
  }

  function newSession(who) {
    var body = {language: lang};
    if (who && who.name) body.name = who.name;
    if (who && who.email) body.email = who.email;
    return call("POST", "/webchat/v1/" + channel + "/sessions", body).then(function (s) {
      localStorage.setItem(key, JSON.stringify(s));
      return s;
    });
  }

  /* The chat as the customer sees it ({state, agent_name}): header and end. */
  function onChat(c) {
    if (!c) return;
    var before = agentName;
    chat = c;
    if (c.agent_name && c.agent_name !== before) {
      agentName = c.agent_name;
      if (c.state !== "completed") note(tr("joined", {name: agentName}));
    }
    headState();
    var done = c.state === "completed" && loadUi().dismissed !== c.id;
    ended.hidden = !done;
    form.hidden = done;
    if (done) typing(false);
  }

  function typing(on, name) {
    clearTimeout(typingTimer);
    typingLine.textContent = on ? tr("typing", {name: name || agentName || tr("agent")}) : "";
    if (on) typingTimer = setTimeout(function () { typing(false); }, TYPING_SHOWN_MS);
  }

  function connect(s) {
    session = s;
    return call("GET", "/webchat/v1/sessions/" + s.session_id + "/messages").then(function (list) {
      var dismissed = loadUi().dismissed;
      if (!(list.chat && list.chat.id === dismissed)) {
        if (list.chat && list.chat.agent_name) agentName = list.chat.agent_name;
        list.items.forEach(show);
        onChat(list.chat);
      }
      headState();
      if (events) events.close();
      events = new EventSource(base + "/webchat/v1/sessions/" + s.session_id +
                               "/events?token=" + encodeURIComponent(s.token));
      events.addEventListener("message", function (e) {
        var m = JSON.parse(e.data);
        if (m.direction === "out") { typing(false); show(m); }
      });
      events.addEventListener("chat_updated", function (e) { onChat(JSON.parse(e.data)); });
      events.addEventListener("typing", function (e) {
        var t = JSON.parse(e.data);
        if (t.who === "agent") typing(true, t.name);
      });
    });
  }

  /* The session: the saved one, or (after the pre-chat form when the
   * channel has one) a new one. Resolves when the chat is shown. */
  function start(who) {
    var saved = savedSession();
    if (!saved && !who && config.prechat !== "off") { showPrechat(); return Promise.resolve(); }
    if (starting) return starting;
    starting = (saved ? Promise.resolve(saved) : newSession(who)).then(connect).catch(function (e) {
      starting = null;
      if (e.message === "session" && saved) {  /* expired: start over */
        localStorage.removeItem(key);
        session = null;
        return start(who);
      }
      throw e;
    });
    return starting;
  }

  /* --- the pre-chat form --- */
  function showPrechat() {
    var required = config.prechat === "required";
    pre.textContent = "";
    pre.appendChild(el("p", {}, tr("intro")));
    var nameIn = el("input", {"id": "ccw-name", "autocomplete": "name", "maxlength": "128"});
    var emailIn = el("input", {"id": "ccw-email", "type": "email", "autocomplete": "email", "maxlength": "254"});
    if (required) { nameIn.setAttribute("required", ""); emailIn.setAttribute("required", ""); }
    [[nameIn, tr("name")], [emailIn, tr("email")]].forEach(function (p) {
      var l = el("label", {"for": p[0].id}, p[1] + (required ? "" : " " + tr("optional")));
      pre.appendChild(l);
      pre.appendChild(p[0]);
    });
    var error = el("p", {"class": "ccw-error", "role": "alert"});
    pre.appendChild(error);
    pre.appendChild(el("button", {"type": "submit", "class": "ccw-primary"}, tr("start")));
    pre.onsubmit = function (ev) {
      ev.preventDefault();
      var who = {name: nameIn.value.trim(), email: emailIn.value.trim()};
      if (required && (!who.name || !who.email)) { error.textContent = tr("required"); return; }
      if (who.email && !emailIn.checkValidity()) { error.textContent = tr("badEmail"); return; }
      start(who).then(function () {
        pre.hidden = true;
        body.hidden = false;
        input.focus();
      }, function () { error.textContent = tr("badEmail"); });
    };
    pre.hidden = false;
    body.hidden = true;
    nameIn.focus();
  }

  /* --- sending --- */
  function mark(li, state) {
    var n = li.querySelector(".cc-state");
    if (!n) {
      n = el("span", {"class": "cc-state"});
      (li.querySelector(".ccw-meta") || li).appendChild(n);
    }
    li.setAttribute("data-state", state);
    n.textContent = state === "pending" ? tr("sending") : state === "failed" ? tr("failed") + " " : tr("sent");
    if (state === "failed") {
      var again = el("button", {"type": "button", "class": "cc-retry"}, tr("retry"));
      again.addEventListener("click", function () { deliver(li); });
      n.appendChild(again);
    }
  }

  function retryable(e) {
    return !e.status || e.status === 408 || e.status === 429 || e.status >= 500;
  }

  /* Sends li's message (or file) until a 2xx (same client_id every time),
   * backing off; gives up after GIVE_UP_MS or on an answer a retry cannot
   * change. */
  function deliver(li) {
    var started = Date.now(), tries = 0;
    mark(li, "pending");
    function attempt() {
      var id = li.getAttribute("data-client"), file = li.cwFile;
      var p = file
        ? call("POST", "/webchat/v1/sessions/" + session.session_id + "/files?name=" +
               encodeURIComponent(file.name) + "&client_id=" + encodeURIComponent(id), null, file)
        : call("POST", "/webchat/v1/sessions/" + session.session_id + "/messages",
               {text: li.getAttribute("data-text"), client_id: id});
      p.then(function (m) {
        if (file && m && m.attachments && !li.querySelector("a")) { /* the file's link instead of its name */
          Array.prototype.slice.call(li.childNodes).forEach(function (c) { if (c.nodeType === 3) li.removeChild(c); });
          attach(li, m.attachments[0]);
        }
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

  function clientId() {
    return Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
  }

  /* Runs fn once the session exists (at once when it does). */
  function withSession(fn) {
    if (session) fn();
    else if (starting) starting.then(function () { if (session) fn(); });
  }

  function submit() {
    var text = input.value.trim();
    if (!text || (!session && !starting)) return;
    var li = show({direction: "in", text: text, created_at: new Date().toISOString()});
    li.setAttribute("data-text", text);
    li.setAttribute("data-client", clientId());
    input.value = "";
    lastTyping = 0; /* the next words are news again */
    toggleEmoji(false);
    mark(li, "pending");
    withSession(function () { deliver(li); });
  }

  function sendFile(file) {
    if (!file || (!session && !starting)) return;
    var li = show({direction: "in", text: "📎 " + file.name, created_at: new Date().toISOString()});
    li.setAttribute("data-text", file.name);
    li.setAttribute("data-client", clientId());
    li.cwFile = file;
    mark(li, "pending");
    withSession(function () { deliver(li); });
  }

  function insert(s) {
    var a = input.selectionStart || input.value.length, b = input.selectionEnd || input.value.length;
    input.value = input.value.slice(0, a) + s + input.value.slice(b);
    input.selectionStart = input.selectionEnd = a + s.length;
    input.focus();
  }

  function toggleEmoji(open) {
    var show_ = open === undefined ? emojiGrid.hidden : open;
    emojiGrid.hidden = !show_;
    emojiBtn.setAttribute("aria-expanded", String(show_));
  }

  /* --- opening, closing --- */
  function openPanel(focus) {
    panel.hidden = false;
    launcher.hidden = true;
    unread = 0;
    badge.hidden = true;
    launcher.setAttribute("aria-label", tr("launcher"));
    saveUi({open: true});
    start().then(function () { if (focus && !form.hidden && body.hidden === false) input.focus(); },
                 function () { /* shown again on the next try */ });
  }

  function closePanel() {
    panel.hidden = true;
    launcher.hidden = false;
    saveUi({open: false});
    launcher.focus();
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); submit(); });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
    else if (e.key === "Escape") toggleEmoji(false);
  });
  input.addEventListener("input", function () {
    var now = Date.now();
    if (!session || !input.value.trim() || now - lastTyping < TYPING_EVERY_MS) return;
    lastTyping = now;
    call("POST", "/webchat/v1/sessions/" + session.session_id + "/typing").catch(function () {});
  });
  emojiBtn.addEventListener("click", function () { toggleEmoji(); });
  attachBtn.addEventListener("click", function () { fileInput.click(); });
  fileInput.addEventListener("change", function () {
    Array.prototype.forEach.call(fileInput.files, sendFile);
    fileInput.value = "";
  });
  launcher.addEventListener("click", function () { openPanel(true); });
  closeBtn.addEventListener("click", closePanel);
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape" && emojiGrid.hidden) closePanel(); });
  againBtn.addEventListener("click", function () {
    /* the conversation's next message opens a new chat */
    if (chat) saveUi({dismissed: chat.id});
    log.textContent = "";
    shown = {};
    agentName = "";
    chat = null;
    ended.hidden = true;
    form.hidden = false;
    headState();
    input.focus();
  });

  function apply(c) {
    config.title = c.title || "";
    if (/^#[0-9a-fA-F]{6}$/.test(c.color || "")) config.color = c.color;
    config.prechat = c.prechat || "off";
    config.language = c.language || "";
    lang = pickLanguage(config.language);
    T = STRINGS[lang];
    root.style.setProperty("--ccw-color", config.color);
    /* dark text on a light colour, white on a dark one */
    var n = parseInt(config.color.slice(1), 16);
    var lum = 0.2126 * (n >> 16) + 0.7152 * ((n >> 8) & 255) + 0.0722 * (n & 255);
    root.style.setProperty("--ccw-ink", lum > 150 ? "#1d1d1f" : "#fff");
    texts();
  }

  var css = el("link", {"rel": "stylesheet", "href": base + "/webchat/widget.css"});
  document.head.appendChild(css);
  apply({});
  function mount() {
    document.body.appendChild(root);
    fetch(base + "/webchat/v1/" + channel + "/config").then(function (r) {
      return r.ok ? r.json() : {};
    }).catch(function () { return {}; }).then(function (c) {
      apply(c);
      if (loadUi().open) openPanel(false);
    });
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
