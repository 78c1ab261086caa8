// supervisor.js - the supervisor view: every agent with status, state and
// time in state (live from /monitor/events), who is on a call and since
// when, listening, whispering or barging into an agent's call (and the
// recent supervisions), setting an agent's status, the queues with their
// waiting count and oldest wait, the open chats and an interaction's
// routing trace.
import { api, events, idleSignOut } from "./api.js";
import { h, clear, field, select, since, when, fail, toast, customerName, avatar, sourceIcon, STATUS, STATE, CHAT_STATE, SOURCE } from "./ui.js";

// The monitor stream says when an agent, what waits, a chat (it rings, is
// taken, ends) or the configuration (teams, queues: what this supervisor is
// assigned to) changes; the queues and open chats are read again then.
const QUEUE_REFRESH_MS = 15000; // a fallback only
// After a supervision is asked for, its call's records are read this often
// until the PBX has answered (no event says so), for at most SUP_POLL_MAX_MS.
const SUP_POLL_MS = 1000;
const SUP_POLL_MAX_MS = 12000;
const AUDIT_ROWS = 10;
const SUP_VERB = { listen: "Listen", whisper: "Whisper", barge: "Barge" };
const SUP_ACTIVE = { listen: "listening", whisper: "whispering", barge: "barging in", stop: "stopped" };

export function supervisorView(root, me) {
  document.title = "Supervisor · Contact center";
  const agents = new Map();
  let queueStats = [];
  let chats = [];
  const calls = new Map(); // agent id -> the agent's active call (/calls?view=active)
  const sups = new Map(); // call id -> its newest supervision record
  const refused = new Map(); // call id -> why the engine refused the last request
  const supPolls = new Map(); // call id -> the timer reading its supervisions
  let audit = [];
  let stopped = false;

  const agentRows = h("tbody", { id: "agents-body" });
  const queueRows = h("tbody", { id: "queues-body" });
  const chatRows = h("tbody", { id: "open-chats-body" });
  const auditRows = h("tbody", { id: "supervisions-body" });
  const traceId = h("input", { id: "trace-id", autocomplete: "off", placeholder: "cht_…" });
  const traceOut = h("div.trace", { id: "trace", "aria-live": "polite" });
  const live = h("span.live", { id: "live-state" }, "connecting…");

  clear(root, h("div.supervisor",
    h("section.panel.wide", { "aria-labelledby": "agents-title" },
      h("div.panel-head", h("h2", { id: "agents-title" }, "Agents"), live),
      h("table.grid", h("caption.visually-hidden", "Agents with status, state and time in state"),
        h("thead", h("tr", ["Agent", "Status", "State", "Time in state", "Chats", "Call", "Supervise", "Set status"].map((t) => h("th", { scope: "col" }, t)))),
        agentRows)),
    h("div.columns",
      h("section.panel", { "aria-labelledby": "queues-title" },
        h("h2", { id: "queues-title" }, "Queues"),
        h("table.grid", h("caption.visually-hidden", "Queues with waiting count and oldest wait"),
          h("thead", h("tr", ["Queue", "Channel", "Waiting", "Oldest wait"].map((t) => h("th", { scope: "col" }, t)))),
          queueRows)),
      h("section.panel", { "aria-labelledby": "chats-title" },
        h("h2", { id: "chats-title" }, "Open chats"),
        h("table.grid", h("caption.visually-hidden", "Open chats"),
          h("thead", h("tr", ["Customer", "Source", "State", "Agent", "Trace"].map((t) => h("th", { scope: "col" }, t)))),
          chatRows))),
    h("section.panel.wide", { "aria-labelledby": "sup-audit-title" },
      h("h2", { id: "sup-audit-title" }, "Recent supervisions"),
      h("table.grid", h("caption.visually-hidden", "Recent listen, whisper and barge requests"),
        h("thead", h("tr", ["Asked at", "Supervisor", "Agent", "Mode", "State", "Reason"].map((t) => h("th", { scope: "col" }, t)))),
        auditRows)),
    h("section.panel.wide", { "aria-labelledby": "trace-title" },
      h("h2", { id: "trace-title" }, "Routing trace"),
      h("form.row", { onsubmit: (ev) => { ev.preventDefault(); showTrace(traceId.value.trim()); } },
        field("Interaction id", traceId), h("button.primary", { type: "submit" }, "Open trace")),
      traceOut)));

  function name(id) {
    const a = agents.get(id);
    return a ? a.name || id : id || "—";
  }

  const rows = new Map(); // agent id -> {tr, cells}

  function agentRow(a) {
    const set = select([["", "—"], ...["dnd", "ready", "callcenter"].map((s) => [s, STATUS[s]])], "",
      { "aria-label": `Status for ${a.name || a.agent_id}` });
    const go = h("button", { type: "button", "aria-label": `Set status of ${a.name || a.agent_id}`, onclick: async () => {
      if (!set.value) return;
      const who = agents.get(a.agent_id) || a;
      try {
        merge(await api("PUT", `/agents/${a.agent_id}/status`, { status: set.value }));
        toast(`${who.name || who.agent_id}: ${STATUS[set.value]}.`);
        set.value = "";
      } catch (e) {
        fail(e);
      }
    } }, "Set");
    const cells = { status: h("td"), state: h("td.state-cell"), time: h("td"), chats: h("td.num"), call: h("td.call-cell"),
      sup: h("td.sup-cell") };
    const tr = h("tr", h("th", { scope: "row" }, a.name || a.agent_id), cells.status, cells.state, cells.time, cells.chats,
      cells.call, cells.sup, h("td.row", set, go));
    rows.set(a.agent_id, { tr, cells });
    fill(a);
    return tr;
  }

  // Writes agent `a` into its row's cells (the status control is left alone).
  function fill(a) {
    const { tr, cells } = rows.get(a.agent_id);
    Object.assign(tr.dataset, { agent: a.agent_id, status: a.status, state: a.state || "" });
    clear(cells.status, h("span", { class: `pill status-${a.status}` }, STATUS[a.status] || a.status));
    clear(cells.state, a.state ? h("span", { class: `pill state-${a.state}` }, STATE[a.state] || a.state) : "—",
      a.pending ? h("small", ` → ${STATE[a.pending] || STATUS[a.pending] || a.pending}`) : null);
    clear(cells.time, since(a.state_since));
    clear(cells.chats, String(a.active_chats || 0));
    fillCall(a, tr, cells.call);
    fillSup(a, tr, cells.sup);
  }

  // "on a call" with the talk time (from the call's answer, else from the
  // agent's state change), or "ringing" while a call rings there.
  function fillCall(a, tr, cell) {
    const c = calls.get(a.agent_id);
    const onCall = (c && c.state === "connected") || (!c && a.active_calls > 0);
    tr.dataset.call = onCall ? "connected" : c ? c.state : "";
    if (onCall) {
      clear(cell, h("span.pill.on-call", h("span.phone-icon", { "aria-hidden": "true" }, "📞 "), "on a call"), " ",
        since((c && c.answered_at) || a.state_since));
    } else if (c && c.state === "ringing") {
      clear(cell, h("span.pill.ringing", h("span.phone-icon", { "aria-hidden": "true" }, "📞 "), "ringing"));
    } else {
      clear(cell, "—");
    }
    if (c) cell.title = `${c.customer_name || c.from || ""}${c.queue_name ? ` · ${c.queue_name}` : ""}`;
    else cell.removeAttribute("title");
  }

  // --- listen, whisper, barge (POST/DELETE /calls/{id}/supervise) ---

  // What became of the newest request on call `c`: the record and its text, or null.
  function supState(c) {
    const s = sups.get(c.id);
    if (!s) return null;
    const by = s.supervisor_id === me.id ? "" : ` (${s.supervisor_uri || "another supervisor"})`;
    if (s.state === "requested") return { ...s, text: s.mode === "stop" ? `stopping…${by}` : `${s.mode} requested…${by}` };
    if (s.state === "failed") return { ...s, text: `${s.mode} failed: ${s.reason || "no reason given"}${by}` };
    return { ...s, text: `${SUP_ACTIVE[s.mode] || s.mode}${by}` };
  }

  // Listen / Whisper / Barge on a connected call, Stop while a supervision
  // is asked for or on, and what became of the newest request.
  function fillSup(a, tr, cell) {
    const c = calls.get(a.agent_id);
    if (!c || c.state !== "connected" || !c.id) {
      tr.dataset.sup = "";
      clear(cell, "—");
      return;
    }
    const who = a.name || a.agent_id;
    const st = supState(c);
    const on = st && (st.state === "requested" || st.state === "active") && st.mode !== "stop";
    tr.dataset.sup = st ? `${st.mode}:${st.state}` : "";
    const buttons = Object.entries(SUP_VERB).map(([mode, verb]) =>
      h("button.sup", { type: "button", "aria-label": `${verb} ${who}`, "aria-pressed": String(!!on && st.mode === mode),
        onclick: () => supervise(c, mode) }, verb));
    if (on) buttons.push(h("button.sup.stop", { type: "button", "aria-label": `Stop supervising ${who}`, onclick: () => supervise(c, null) }, "Stop"));
    const why = refused.get(c.id);
    // the button that had the focus keeps it when the cell is drawn again
    const focused = cell.contains(document.activeElement) && document.activeElement.getAttribute("aria-label");
    clear(cell, h("span.sup-buttons", buttons),
      st ? h("span", { class: `sup-state sup-${st.state}`, dataset: { mode: st.mode, state: st.state } }, st.text) : null,
      why ? h("span.sup-state.sup-refused", why) : null);
    const again = focused && buttons.find((b) => b.getAttribute("aria-label") === focused);
    if (again) again.focus();
  }

  function refill() {
    for (const a of agents.values()) if (rows.has(a.agent_id)) fill(a);
  }

  // Keeps `s` unless a newer request (or a newer version of it) is known.
  function keepSup(s) {
    const old = sups.get(s.call);
    if (!old || old.requested_at < s.requested_at || (old.id === s.id && old.updated_at <= s.updated_at)) sups.set(s.call, s);
  }

  async function supervise(c, mode) {
    refused.delete(c.id);
    try {
      const s = mode ? await api("POST", `/calls/${encodeURIComponent(c.id)}/supervise`, { mode })
        : await api("DELETE", `/calls/${encodeURIComponent(c.id)}/supervise`);
      keepSup(s);
      pollSup(c.id, Date.now() + SUP_POLL_MAX_MS);
    } catch (e) {
      refused.set(c.id, e.message);
      fail(e);
    }
    if (!stopped) refill();
  }

  // Reads call `id`'s supervisions until the newest is no longer requested.
  function pollSup(id, deadline) {
    clearTimeout(supPolls.get(id));
    supPolls.set(id, setTimeout(async () => {
      supPolls.delete(id);
      let items = [];
      try {
        items = (await api("GET", `/calls/${encodeURIComponent(id)}/supervisions`)).items;
      } catch (e) {
        if (e.status !== 0 && e.status !== 503) return fail(e);
      }
      if (stopped) return;
      if (items.length) keepSup(items[0]);
      refill();
      const s = sups.get(id);
      if (s && s.state === "requested" && Date.now() < deadline) pollSup(id, deadline);
      else loadAudit();
    }, SUP_POLL_MS));
  }

  function renderAudit() {
    clear(auditRows, audit.slice(0, AUDIT_ROWS).map((s) =>
      h("tr", { dataset: { sup: s.id, mode: s.mode, state: s.state } },
        h("td", when(s.requested_at)), h("td", s.supervisor_id === me.id ? "you" : s.supervisor_uri || s.supervisor_id),
        h("th", { scope: "row" }, name(s.agent_id)), h("td", s.mode), h("td", s.state), h("td", s.reason || "—"))));
    if (!audit.length) auditRows.append(h("tr", h("td", { colspan: "6" }, "No supervisions yet.")));
  }

  // GET /supervisions: the audit list and the newest request of each call.
  async function loadAudit() {
    try {
      const r = await api("GET", "/supervisions");
      if (stopped) return;
      audit = r.items;
      for (const s of [...audit].reverse()) keepSup(s);
      renderAudit();
      refill();
    } catch (e) {
      fail(e);
    }
  }

  function setCalls(items) {
    calls.clear();
    for (const c of items) if (c.agent_id && (!calls.has(c.agent_id) || c.state === "connected")) calls.set(c.agent_id, c);
    refill();
  }

  function renderAgents() {
    const list = [...agents.values()].sort((x, y) => (x.name || "").localeCompare(y.name || ""));
    rows.clear();
    clear(agentRows, list.map(agentRow));
    if (!list.length) agentRows.append(h("tr", h("td", { colspan: "8" }, "No agents.")));
  }

  // Why the list is empty: a supervisor sees the queues they are assigned to.
  function noQueues() {
    if (me.role === "admin") {
      return ["No queues yet. Create one in ", h("a", { href: "#/admin/queues" }, "Administration › Queues"), "."];
    }
    return ["No queues yet. A queue appears here, at once, when you are assigned to it: as a supervisor of a team " +
      "that serves the queue (", h("a", { href: "#/admin/teams" }, "Administration › Teams"), ", Supervisors), " +
      "or of the queue itself. An administrator does that."];
  }

  function renderQueues() {
    clear(queueRows, queueStats.map((q) =>
      h("tr", { dataset: { queue: q.queue_id } },
        h("th", { scope: "row" }, q.name || q.queue_id), h("td", q.channel || ""),
        h("td.num", String(q.waiting || 0)), h("td", q.oldest_enqueued_at ? since(q.oldest_enqueued_at) : "—"))));
    if (!queueStats.length) queueRows.append(h("tr", h("td.why", { colspan: "4" }, noQueues())));
  }

  function ringing(agentId) {
    return h("span.pill.ringing", h("span.phone-icon", { "aria-hidden": "true" }, "🔔 "), `ringing: ${name(agentId)}`);
  }

  // A chat's brief from the monitor stream: a row known is updated at once,
  // anything else is read again.
  function chatChanged(b) {
    const c = chats.find((x) => x.id === b.id);
    if (!c || b.state === "completed") return soon();
    Object.assign(c, { state: b.state, agent_id: b.agent_id || null, offered_to: b.offered_to || null });
    renderChats();
  }

  function renderChats() {
    clear(chatRows, chats.map((c) =>
      h("tr", { dataset: { chat: c.id } },
        h("th", { scope: "row" }, h("span.who", avatar(customerName(c)), h("span.name", customerName(c)))),
        h("td", sourceIcon(c.source), " ", SOURCE[c.source] || c.source || ""),
        h("td", CHAT_STATE[c.state] || c.state), h("td", { dataset: { who: c.agent_id ? "agent" : c.offered_to ? "ringing" : "waiting" } },
          c.agent_id ? name(c.agent_id) : c.offered_to ? ringing(c.offered_to) : "waiting in the queue"),
        h("td", h("button", { type: "button", "aria-label": `Trace of ${customerName(c)}`, onclick: () => { traceId.value = c.id; showTrace(c.id); } }, "Trace")))));
    if (!chats.length) chatRows.append(h("tr", h("td", { colspan: "5" }, "No open chats.")));
  }

  function merge(s) {
    const old = agents.get(s.agent_id);
    if (!old) return false;
    // an event is a whole AgentStatus: counters left out are zero
    const a = { ...old, active_chats: 0, active_calls: 0, offers: 0, pending: null, ...s, name: s.name || old.name };
    agents.set(s.agent_id, a);
    if (rows.has(a.agent_id)) fill(a);
    return true;
  }

  async function loadAgents() {
    const r = await api("GET", "/monitor/agents");
    agents.clear();
    for (const a of r.items) agents.set(a.agent_id, a);
    renderAgents();
  }

  async function loadQueues() {
    try {
      const [q, c, k] = await Promise.all([api("GET", "/monitor/queues"), api("GET", "/chats?view=active"),
        api("GET", "/calls?view=active")]);
      if (stopped) return;
      queueStats = q.items;
      chats = c.items;
      renderQueues();
      renderChats();
      setCalls(k.items);
    } catch (e) {
      fail(e);
    }
    if (!stopped) loadAudit();
  }

  async function showTrace(id) {
    if (!id) return;
    try {
      const t = await api("GET", `/interactions/${encodeURIComponent(id)}/trace`);
      clear(traceOut,
        h("h3", `Trace of ${id}`),
        h("table.grid", h("thead", h("tr", ["At", "Step", "Agent", "Reason", "Strategy"].map((x) => h("th", { scope: "col" }, x)))),
          h("tbody", t.items.map((s) => h("tr", { dataset: { step: s.step } }, h("td", when(s.at)), h("td", s.step),
            h("td", s.agent_id ? name(s.agent_id) : "—"), h("td", s.reason || "—"), h("td", s.strategy || "—"))))));
      if (!t.items.length) traceOut.append(h("p", "No routing steps recorded."));
    } catch (e) {
      fail(e);
    }
  }

  let queued = null;
  function soon() {
    if (!queued) queued = setTimeout(() => { queued = null; loadQueues(); }, 300);
  }

  // What a supervisor monitors (the agents of their queues) follows these
  // kinds: the server reads the stream's scope when it opens, so a change
  // opens the stream again (its open() reads the agents and queues again).
  const SCOPE_KINDS = ["teams", "queues", "users", "agent_skills", "settings"];
  const handlers = {
    down() {
      live.textContent = "reconnecting…";
      live.classList.remove("on");
    },
    async open() {
      live.textContent = "live";
      live.classList.add("on");
      try {
        await loadAgents();
      } catch (e) {
        fail(e);
      }
      loadQueues();
    },
    status(s) {
      if (s.agent_id === me.id && s.status === "offline" && s.reason === "idle_logout") {
        idleSignOut(false);
        return;
      }
      if (!merge(s)) loadAgents().catch(() => {});
      soon();
    },
    queues() { /* what waits changed */
      soon();
    },
    chat_changed: (b) => chatChanged(b),
    config(c) { /* an assignment: the queues and agents this supervisor sees */
      if (!SCOPE_KINDS.includes(c.kind) || stopped) return;
      stream.close();
      stream = events("/monitor/events", handlers);
    },
  };
  let stream = events("/monitor/events", handlers);
  const poll = setInterval(loadQueues, QUEUE_REFRESH_MS);

  return () => {
    stopped = true;
    stream.close();
    clearInterval(poll);
    clearTimeout(queued);
    for (const t of supPolls.values()) clearTimeout(t);
  };
}
