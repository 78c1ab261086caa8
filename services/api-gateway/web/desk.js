// desk.js - the agent desk: the status panel (status, state and its timer,
// DnD / Ready / Callcenter, Pause with a cause, End wrap-up), invitations
// (chats: Accept, Open, Cancel, the time left, a sound and a visual cue;
// calls: answered on the SIP phone, calls.js), the chats panel (Active,
// Closed), the calls panel and the open chat (chat.js) or call (calls.js).
// #/desk shows a chat or a call beside the panels; #/chat/<id> is the chat's
// record page.
import { api, events, list, idleSignOut } from "./api.js";
import { h, clear, field, select, since, until, countdown, toast, fail, when, customerName, avatar, sourceIcon, shortTime,
  STATUS, STATE, CHAT_STATE, SOURCE } from "./ui.js";
import { chatView } from "./chat.js";
import { callInviteView, callsPanel, callView, loadCalls, caller } from "./calls.js";

// A short two-tone beep; the AudioContext is made on the first user gesture
// (browsers refuse sound before one).
let audio = null;
function armAudio() {
  if (audio || !window.AudioContext) return;
  try {
    audio = new AudioContext();
  } catch (e) {
    audio = null;
  }
}
addEventListener("pointerdown", armAudio, { capture: true });
addEventListener("keydown", armAudio, { capture: true });

function beep() {
  if (!audio || audio.state !== "running") return;
  const t = audio.currentTime;
  for (const [at, freq] of [[0, 880], [0.18, 1175]]) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, t + at);
    gain.gain.exponentialRampToValueAtTime(0.2, t + at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + at + 0.15);
    osc.connect(gain).connect(audio.destination);
    osc.start(t + at);
    osc.stop(t + at + 0.16);
  }
}

export function deskView(root, me, recordId) {
  const state = { status: null, offers: new Map(), active: [], closed: [], tab: "active", causes: [], results: new Map(),
    calls: { active: [], closed: [] } };
  const queues = new Map();
  let current = null; // the open chat (chatView) or call (callView)
  let stopped = false;
  const baseTitle = recordId ? "Chat · Contact center" : "Desk · Contact center";
  document.title = baseTitle;

  // --- status panel ---
  // the words are a live region (announced when they change); the timer
  // beside them is not
  const words = h("span.status-words", { role: "status", "aria-live": "polite" });
  const timerSlot = h("span.timer-slot");
  const indicator = h("div.indicator", { id: "status-indicator" }, h("span.dot", { "aria-hidden": "true" }), words, timerSlot);
  // only agents work queues (Callcenter); DnD and Ready are for everyone
  const statuses = me.role === "agent" ? ["dnd", "ready", "callcenter"] : ["dnd", "ready"];
  const statusButtons = statuses.map((s) =>
    h("button.seg-button", { type: "button", dataset: { status: s }, "aria-pressed": "false", onclick: () => setStatus({ status: s }) },
      STATUS[s]));
  const cause = select([], "", { id: "pause-cause" });
  const pauseButton = h("button", { type: "button", onclick: () => setStatus({ state: "pause", pause_cause_id: cause.value }) }, "Pause");
  const waitingButton = h("button.primary", { type: "button", onclick: () => setStatus({ state: "waiting" }) }, "End wrap-up");
  const pauseRow = h("div.pause-row", field("Pause cause", cause), pauseButton);
  const pendingNote = h("p.pending");
  const statusPanel = h("section.panel.status-panel", { "aria-labelledby": "status-title" },
    h("h2", { id: "status-title" }, "Status"), indicator,
    h("div.seg", { role: "group", "aria-label": "Status" }, statusButtons),
    pauseRow, waitingButton, pendingNote);

  // --- invitations ---
  const invites = h("ul.invites", { id: "invitations", "aria-label": "Invitations" });
  const invitePanel = h("section.panel.invite-panel", { "aria-labelledby": "invites-title" },
    h("h2", { id: "invites-title" }, "Invitations"), invites);

  // --- chats ---
  const tabs = ["active", "closed"].map((t) =>
    h("button", { type: "button", role: "tab", id: `tab-${t}`, "aria-controls": "chat-panel", onclick: () => { state.tab = t; renderChats(); } },
      t === "active" ? "Active" : "Closed"));
  const chatList = h("ul.chat-list", { id: "chat-list" });
  const chatPanel = h("div.chat-panel", { id: "chat-panel", role: "tabpanel" }, chatList);
  const chatsPanel = h("section.panel.chats-panel", { "aria-labelledby": "chats-title" },
    h("h2", { id: "chats-title" }, "Chats"), h("div.tabs", { role: "tablist", "aria-label": "Chats" }, tabs), chatPanel);
  tabs[0].parentElement.addEventListener("keydown", (ev) => {
    if (ev.key !== "ArrowLeft" && ev.key !== "ArrowRight") return;
    state.tab = state.tab === "active" ? "closed" : "active";
    renderChats();
    document.getElementById(`tab-${state.tab}`).focus();
  });

  const calls = callsPanel((id) => openCall(id));

  const convo = h("div.conversation-slot", h("p.empty", "Accept an invitation or pick a chat or a call from the lists."));
  const desk = h("div.desk", { class: recordId ? "desk record" : "desk" },
    h("div.left", statusPanel, invitePanel, recordId ? null : chatsPanel, recordId ? null : calls.el), convo);
  clear(root, desk);

  function renderStatus() {
    const s = state.status;
    if (!s) return;
    const stateText = s.state ? STATE[s.state] || s.state : null;
    const causeName = s.pause_cause_id ? (state.causes.find((c) => c.id === s.pause_cause_id) || {}).name : null;
    indicator.className = `indicator status-${s.status} state-${s.state || "none"}`;
    indicator.dataset.status = s.status;
    indicator.dataset.state = s.state || "";
    clear(words, h("strong.status-text", STATUS[s.status] || s.status),
      stateText ? h("span.state-text", ` · ${stateText}${causeName ? ` (${causeName})` : ""}`) : null);
    // a timed state (wrap-up, missed, a limited pause) counts down to its end
    clear(timerSlot, s.state_until ? [countdown(s.state_until), h("span.left-word", " left")] : since(s.state_since));
    timerSlot.dataset.kind = s.state_until ? "left" : "since";
    for (const b of statusButtons) b.setAttribute("aria-pressed", String(b.dataset.status === s.status));
    const cc = s.status === "callcenter";
    pauseRow.hidden = !cc || !state.causes.length;
    pauseButton.textContent = s.state === "pause" ? "Change cause" : "Pause";
    waitingButton.hidden = !cc || !(s.state === "post_processing" || s.state === "pause");
    waitingButton.textContent = s.state === "pause" ? "End pause" : "End wrap-up";
    const pend = s.pending ? STATE[s.pending] || STATUS[s.pending] || s.pending : null;
    pendingNote.textContent = pend ? `${pend} when the last chat ends.` : "";
    pendingNote.hidden = !pend;
    if (!state.offers.size) renderInvites(); // why nothing rings follows the status
  }

  async function setStatus(body) {
    try {
      state.status = await api("PUT", "/me/status", body);
      renderStatus();
    } catch (e) {
      fail(e);
    }
  }

  // --- invitations ---
  function renderInvites() {
    const now = Date.now();
    for (const [k, o] of state.offers) if (Date.parse(o.expires_at) + 1000 < now) state.offers.delete(k);
    clear(invites, [...state.offers.values()].map(inviteView));
    invitePanel.classList.toggle("ringing", state.offers.size > 0);
    document.title = state.offers.size ? `(${state.offers.size}) Invitation · ${baseTitle}` : baseTitle;
    if (!state.offers.size) invites.append(h("li.empty", h("span", "No invitations."), " ", h("span.why", whyNoInvites())));
  }

  // Why nothing rings: the status decides which work reaches the agent.
  function whyNoInvites() {
    const s = state.status;
    if (!s) return "";
    if (s.status === "dnd") return "You are in DnD: nothing rings. Choose Ready for direct calls" +
      (me.role === "agent" ? " or Callcenter for chats and calls from your queues." : ".");
    if (s.status === "ready") return me.role === "agent"
      ? "Ready takes direct calls only. Choose Callcenter to receive chats and calls from your queues."
      : "Ready takes direct calls only; queue work goes to agents in Callcenter.";
    if (s.status !== "callcenter") return "";
    if (s.state === "pause") return "You are on a pause: End pause to receive queue work again.";
    if (s.state === "post_processing") return "Wrap-up: new work arrives when it ends (or End wrap-up now).";
    if (s.state === "busy") return "New chats arrive while you have room for them in your queues.";
    return "Callcenter: chats and calls from your queues ring here.";
  }

  function inviteView(o) {
    if (o.kind === "call") return callInviteView(o, o.queue_name || queues.get(o.queue_id));
    const c = o.customer || {};
    const titleId = `invite-${o.offer_id}`;
    const queue = o.queue_name || queues.get(o.queue_id);
    const source = SOURCE[o.source] || o.source;
    const who = customerName({ name: c.name, phone: c.phone, from: c.id, source: o.source });
    return h("li.invite", { "aria-labelledby": titleId, dataset: { chat: o.chat_id || "", offer: o.offer_id } },
      h("div.invite-head", avatar(who), h("h3", { id: titleId }, `Chat from ${who}`)),
      queue || source ? h("p.meta", [source, queue ? `Queue: ${queue}` : null].filter(Boolean).join(" · ")) : null,
      o.preview ? h("blockquote.preview", o.preview) : null,
      h("p.left-time", "Time left: ", until(o.expires_at)),
      h("div.row",
        h("button.primary", { type: "button", onclick: () => answer(o, "accept") }, "Accept"),
        h("button", { type: "button", onclick: () => answer(o, "open") }, "Open"),
        h("button.ghost", { type: "button", onclick: () => answer(o, "cancel") }, "Cancel")));
  }

  function addOffer(o, cue) {
    if (!o || !((o.kind === "chat" && o.chat_id) || (o.kind === "call" && o.interaction_id))) return;
    const isNew = !state.offers.has(o.offer_id);
    state.offers.set(o.offer_id, o);
    renderInvites();
    if (!isNew || !cue) return;
    const c = o.customer || {};
    if (o.kind === "call") {
      toast(`Call from ${c.name || c.phone || "an unknown number"}: answer on your SIP phone.`);
      return; // the phone rings: no beep here
    }
    beep();
    toast(`New chat from ${customerName({ name: c.name, phone: c.phone, from: c.id, source: o.source })}.`);
  }

  // By offer id: a declined chat may already ring again here under a new offer.
  function dropOffer(o) {
    for (const [k, x] of state.offers) {
      if (o.offer_id ? k === o.offer_id : x.interaction_id === o.interaction_id) state.offers.delete(k);
    }
    renderInvites();
  }

  async function answer(o, how) {
    const verb = how === "cancel" ? "decline" : "accept";
    try {
      await api("POST", `/chats/${o.chat_id}/${verb}`, {});
      dropOffer(o);
      if (how === "cancel") {
        toast("Invitation cancelled: the chat goes to another agent.");
        return;
      }
      await loadChats();
      if (how === "open") location.hash = `#/chat/${encodeURIComponent(o.chat_id)}`;
      else openChat(o.chat_id);
    } catch (e) {
      if (e.status !== 0 && e.status !== 503) dropOffer(o); // unavailable: the invitation stays to try again
      fail(e);
    }
  }

  // --- chats ---
  function renderChats() {
    for (const t of tabs) t.setAttribute("aria-selected", String(t.id === `tab-${state.tab}`));
    for (const t of tabs) t.tabIndex = t.id === `tab-${state.tab}` ? 0 : -1;
    tabs[0].textContent = `Active (${state.active.length})`;
    tabs[1].textContent = `Closed (${state.closed.length})`;
    chatPanel.setAttribute("aria-labelledby", `tab-${state.tab}`);
    // the active chats as an inbox: the latest message first
    const latest = (c) => Date.parse(c.last_at || c.start_time || c.created_at || 0) || 0;
    const items = state.tab === "active" ? [...state.active].sort((a, b) => latest(b) - latest(a)) : state.closed;
    clear(chatList, items.map(chatItem));
    if (!items.length) chatList.append(h("li.empty", state.tab === "active" ? "No active chats." : "No closed chats."));
  }

  // One chat as an inbox row: avatar, name, time of the latest message,
  // the channel's mark, the preview, the unread count; a closed chat says
  // when it closed and its result.
  function chatItem(c) {
    const who = customerName(c);
    const open = current && current.id === c.id;
    const unread = open ? 0 : c.unread || 0;
    const closed = c.state === "completed";
    const result = c.result_id ? state.results.get(c.result_id) || "result set" : "no result";
    const preview = c.last_text ? `${c.last_direction === "out" ? "You: " : ""}${c.last_text}` : "No messages yet";
    return h("li", h("button.chat-item", {
      type: "button", "aria-current": open ? "true" : null, dataset: { chat: c.id, unread: String(unread), chatState: c.state },
      class: closed ? "chat-item closed" : "chat-item", onclick: () => openChat(c.id),
    },
    avatar(who),
    h("span.item-body",
      h("span.item-top", h("span.name", who), h("time.item-time", { datetime: c.last_at || null }, shortTime(c.last_at))),
      h("span.item-bottom", sourceIcon(c.source), h("span.snippet", preview),
        unread ? h("span.badge", { "aria-label": `${unread} unread` }, String(unread)) : null),
      closed
        ? h("span.item-closed", { title: `Closed ${when(c.end_time)}` }, `Closed ${shortTime(c.end_time)} · ${result}`)
        : h("span.item-state", CHAT_STATE[c.state] || c.state))));
  }

  async function loadChats() {
    try {
      const [a, c] = await Promise.all([api("GET", "/chats?view=active"), api("GET", "/chats?view=closed")]);
      state.active = a.items.filter((x) => x.agent_id === me.id);
      state.closed = c.items;
      renderChats();
      reopen();
    } catch (e) {
      fail(e);
    }
  }

  // The chat or call open before the page was reloaded opens again
  // (sessionStorage: this tab only), once the lists show it is still there.
  const OPEN_KEY = "cc.desk.open";
  let reopened = !!recordId;
  function reopen() {
    if (reopened || current) return;
    let was = null;
    try {
      was = JSON.parse(sessionStorage.getItem(OPEN_KEY) || "null");
    } catch (e) {
      was = null;
    }
    if (!was) return (reopened = true);
    if (was.kind === "chat" && [...state.active, ...state.closed].some((c) => c.id === was.id)) {
      reopened = true;
      openChat(was.id);
    } else if (was.kind === "call" && [...state.calls.active, ...state.calls.closed].some((c) => c.id === was.id)) {
      reopened = true;
      openCall(was.id);
    }
  }

  function remember(kind, id) {
    if (!recordId) sessionStorage.setItem(OPEN_KEY, JSON.stringify({ kind, id }));
  }

  // Tells the server the agent has seen chat `id`'s messages (at most once a second).
  const readTimers = new Map();
  function markRead(id) {
    if (readTimers.has(id)) return;
    readTimers.set(id, setTimeout(() => {
      readTimers.delete(id);
      api("POST", `/chats/${encodeURIComponent(id)}/read`, {}).catch(() => {});
    }, 1000));
  }

  function openChat(id) {
    if (current) current.close();
    for (const c of [...state.active, ...state.closed]) if (c.id === id) c.unread = 0;
    current = chatView(convo, id, { me, queues, record: !!recordId, onChanged: loadChats });
    remember("chat", id);
    renderChats();
    renderCalls();
  }

  // --- calls ---
  function renderCalls() {
    calls.render(state.calls.active, state.calls.closed, current && current.kind === "call" ? current.id : null);
  }

  async function refreshCalls() {
    try {
      state.calls = await loadCalls(me);
      if (!stopped) renderCalls();
      if (!stopped) reopen();
    } catch (e) {
      fail(e);
    }
  }

  function openCall(id) {
    if (current) current.close();
    current = callView(convo, id, { me, queues, onChanged: refreshCalls });
    remember("call", id);
    renderCalls();
    renderChats();
  }

  // A call of the agent changed: its invitation stops ringing once it is
  // answered, missed or gone; an answered call opens by itself.
  function callUpdated(c) {
    const mine = c.agent_id === me.id;
    for (const [k, o] of state.offers) {
      if (o.kind === "call" && o.interaction_id === c.id && (c.state !== "ringing" || !mine)) state.offers.delete(k);
    }
    renderInvites();
    if (current && current.onCall) current.onCall(c);
    if (mine && c.state === "connected" && !recordId && !(current && current.id === c.id)) {
      openCall(c.id);
      toast(`On a call with ${caller(c)}.`);
    }
    refreshCalls();
  }

  // --- load and listen ---
  async function loadAll() {
    try {
      const [s, offers] = await Promise.all([api("GET", "/me/status"), api("GET", "/me/offers")]);
      if (stopped) return;
      state.status = s;
      renderStatus();
      state.offers.clear();
      offers.items.forEach((o) => addOffer(o, false));
      renderInvites();
    } catch (e) {
      fail(e);
    }
    loadChats();
    if (!recordId) refreshCalls();
  }

  async function loadLookups() {
    try {
      // only agents pause (other roles cannot be in Callcenter, and managers may not read causes)
      if (me.role === "agent") state.causes = await list("/pause-causes");
      for (const r of await list("/results")) state.results.set(r.id, r.name);
      renderChats();
      clear(cause, state.causes.map((c) => h("option", { value: c.id }, c.name)));
      if (me.role === "admin" || me.role === "supervisor") {
        for (const q of await list("/queues")) queues.set(q.id, q.name);
      }
      renderStatus();
      renderInvites();
    } catch (e) {
      fail(e);
    }
  }

  const stream = events("/me/events", {
    open: loadAll,
    status(s) {
      if (s.agent_id !== me.id) return;
      if (s.status === "offline" && s.reason === "idle_logout") {
        idleSignOut(false);
        return;
      }
      state.status = s;
      renderStatus();
    },
    offer: (o) => addOffer(o, true),
    offer_withdrawn: (o) => dropOffer(o),
    message(m) {
      const c = state.active.find((x) => x.id === m.chat_id);
      if (c) { // the row's preview and time follow at once
        c.last_text = m.text || ((m.attachments || [])[0] || {}).name || c.last_text;
        c.last_at = m.created_at || c.last_at;
        c.last_direction = m.direction;
      }
      if (current && current.id === m.chat_id) {
        current.onMessage(m);
        if (m.direction === "in") markRead(m.chat_id);
      } else if (c && m.direction === "in") {
        c.unread = (c.unread || 0) + 1;
      }
      renderChats();
    },
    chat_updated(c) {
      if (current) current.onChat(c);
      loadChats();
    },
    call_updated: (c) => callUpdated(c),
    typing(t) {
      if (current && current.onTyping) current.onTyping(t);
    },
  });
  // expired invitations go (the countdown itself is ui.js's timer)
  const sweep = setInterval(() => {
    const now = Date.now();
    if ([...state.offers.values()].some((o) => Date.parse(o.expires_at) + 1000 < now)) renderInvites();
  }, 1000);

  loadLookups();
  if (recordId) openChat(recordId);
  renderInvites();
  renderChats();

  return () => {
    stopped = true;
    stream.close();
    clearInterval(sweep);
    for (const t of readTimers.values()) clearTimeout(t);
    if (current) current.close();
    document.title = "Contact center";
  };
}
