// supervisor.js - the supervisor view: every agent with status, state and
// time in state (live from /monitor/events), who is on a call and since
// when, setting an agent's status, the queues with their waiting count and
// oldest wait, the open chats and an interaction's routing trace.
import { api, events, idleSignOut } from "./api.js";
import { h, clear, field, select, since, when, fail, toast, STATUS, STATE, CHAT_STATE, SOURCE } from "./ui.js";

// The monitor stream carries agent status only: queues are read again
// every few seconds and after each agent change.
const QUEUE_REFRESH_MS = 15000; // a fallback: the monitor stream says when queues change

export function supervisorView(root, me) {
  document.title = "Supervisor · Contact center";
  const agents = new Map();
  let queueStats = [];
  let chats = [];
  const calls = new Map(); // agent id -> the agent's active call (/calls?view=active)
  let stopped = false;

  const agentRows = h("tbody", { id: "agents-body" });
  const queueRows = h("tbody", { id: "queues-body" });
  const chatRows = h("tbody", { id: "open-chats-body" });
  const traceId = h("input", { id: "trace-id", autocomplete: "off", placeholder: "cht_…" });
  const traceOut = h("div.trace", { id: "trace", "aria-live": "polite" });
  const live = h("span.live", { id: "live-state" }, "connecting…");

  clear(root, h("div.supervisor",
    h("section.panel.wide", { "aria-labelledby": "agents-title" },
      h("div.panel-head", h("h2", { id: "agents-title" }, "Agents"), live),
      h("table.grid", h("caption.visually-hidden", "Agents with status, state and time in state"),
        h("thead", h("tr", ["Agent", "Status", "State", "Time in state", "Chats", "Call", "Set status"].map((t) => h("th", { scope: "col" }, t)))),
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
    const cells = { status: h("td"), state: h("td.state-cell"), time: h("td"), chats: h("td.num"), call: h("td.call-cell") };
    const tr = h("tr", h("th", { scope: "row" }, a.name || a.agent_id), cells.status, cells.state, cells.time, cells.chats,
      cells.call, h("td.row", set, go));
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

  function setCalls(items) {
    calls.clear();
    for (const c of items) if (c.agent_id && (!calls.has(c.agent_id) || c.state === "connected")) calls.set(c.agent_id, c);
    for (const a of agents.values()) if (rows.has(a.agent_id)) fill(a);
  }

  function renderAgents() {
    const list = [...agents.values()].sort((x, y) => (x.name || "").localeCompare(y.name || ""));
    rows.clear();
    clear(agentRows, list.map(agentRow));
    if (!list.length) agentRows.append(h("tr", h("td", { colspan: "7" }, "No agents.")));
  }

  function renderQueues() {
    clear(queueRows, queueStats.map((q) =>
      h("tr", { dataset: { queue: q.queue_id } },
        h("th", { scope: "row" }, q.name || q.queue_id), h("td", q.channel || ""),
        h("td.num", String(q.waiting || 0)), h("td", q.oldest_enqueued_at ? since(q.oldest_enqueued_at) : "—"))));
    if (!queueStats.length) queueRows.append(h("tr", h("td", { colspan: "4" }, "No queues.")));
  }

  function renderChats() {
    clear(chatRows, chats.map((c) =>
      h("tr", { dataset: { chat: c.id } },
        h("th", { scope: "row" }, c.name || c.from || c.id), h("td", SOURCE[c.source] || c.source || ""),
        h("td", CHAT_STATE[c.state] || c.state), h("td", c.agent_id ? name(c.agent_id) : c.offered_to ? `ringing: ${name(c.offered_to)}` : "waiting"),
        h("td", h("button", { type: "button", "aria-label": `Trace of ${c.name || c.id}`, onclick: () => { traceId.value = c.id; showTrace(c.id); } }, "Trace")))));
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

  const stream = events("/monitor/events", {
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
  });
  const poll = setInterval(loadQueues, QUEUE_REFRESH_MS);

  return () => {
    stopped = true;
    stream.close();
    clearInterval(poll);
    clearTimeout(queued);
  };
}
