// history.js - the chat history (#/history, supervisors and admins): every
// chat of the caller's queues, newest first, searched by customer (name,
// phone or channel id), message text, date, queue, agent, source and
// result (GET /chats?view=history), a page at a time; a row opens the
// chat's record page.
import { api, list } from "./api.js";
import { h, clear, field, select, when, fail, customerName, avatar, sourceIcon, SOURCE, CHAT_STATE } from "./ui.js";

const PAGE = 25;

export function historyView(root, me) {
  document.title = "History · Contact center";
  const names = { queues: new Map(), agents: new Map(), results: new Map() };
  let cursor = null;
  let stopped = false;

  const customer = h("input", { type: "search", autocomplete: "off", placeholder: "name, phone or id" });
  const text = h("input", { type: "search", autocomplete: "off", placeholder: "words in a message" });
  const from = h("input", { type: "date" });
  const to = h("input", { type: "date" });
  const queue = select([["", "Any queue"]], "");
  const agent = select([["", "Any agent"]], "");
  const source = select([["", "Any source"], ...Object.entries(SOURCE)], "");
  const result = select([["", "Any result"]], "");
  const rows = h("tbody", { id: "history-body" });
  const count = h("p.count", { id: "history-count", role: "status" });
  const more = h("button", { type: "button", hidden: true, onclick: () => search(false) }, "More");
  const searchButton = h("button.primary", { type: "submit" }, "Search");

  clear(root, h("div.history",
    h("section.panel", { "aria-labelledby": "history-title" },
      h("h1", { id: "history-title" }, "Chat history"),
      h("form.history-form", { role: "search", "aria-label": "Search chats", onsubmit: (ev) => { ev.preventDefault(); search(true); } },
        field("Customer", customer), field("Message text", text), field("From", from), field("To", to),
        field("Queue", queue), field("Agent", agent), field("Source", source), field("Result", result),
        h("div.form-buttons", searchButton, h("button", { type: "reset", onclick: () => setTimeout(() => search(true)) }, "Clear")))),
    h("section.panel", { "aria-labelledby": "history-results" },
      h("h2", { id: "history-results" }, "Chats"), count,
      h("div.scroll", h("table.grid.history-table",
        h("caption.visually-hidden", "Chats found, newest first"),
        h("thead", h("tr", ["Customer", "Source", "Queue", "Agent", "Started", "Closed", "Result", "Last message", ""].map((t) =>
          h("th", { scope: "col" }, t || h("span.visually-hidden", "Open"))))),
        rows)),
      more)));

  // The day picked, as the start of that local day (RFC 3339).
  function dayStart(value, plusDays = 0) {
    if (!value) return null;
    const [y, m, d] = value.split("-").map(Number);
    return new Date(y, m - 1, d + plusDays).toISOString();
  }

  function query() {
    const q = new URLSearchParams({ view: "history", limit: String(PAGE) });
    const put = (k, v) => v && q.set(k, v);
    put("customer", customer.value.trim());
    put("text", text.value.trim());
    put("since", dayStart(from.value));
    put("until", dayStart(to.value, 1)); // the whole "to" day
    put("queue_id", queue.value);
    put("agent_id", agent.value);
    put("source", source.value);
    put("result_id", result.value);
    return q;
  }

  function row(c) {
    const who = customerName(c);
    const closed = c.state === "completed";
    return h("tr", { dataset: { chat: c.id, state: c.state } },
      h("th", { scope: "row" }, h("span.who", avatar(who), h("span.name", who))),
      h("td", sourceIcon(c.source), " ", SOURCE[c.source] || c.source || ""),
      h("td", c.queue_name || names.queues.get(c.queue_id) || "—"),
      h("td", c.agent_id ? names.agents.get(c.agent_id) || "—" : "—"),
      h("td", when(c.created_at)),
      h("td", closed ? when(c.end_time) : CHAT_STATE[c.state] || c.state),
      h("td", c.result_id ? names.results.get(c.result_id) || "—" : "—"),
      h("td.last", c.last_text || "—"),
      h("td", h("a", { href: `#/chat/${encodeURIComponent(c.id)}`, "aria-label": `Open the chat with ${who}` }, "Open")));
  }

  async function search(fresh) {
    if (fresh) cursor = null;
    const q = query();
    if (cursor) q.set("cursor", cursor);
    searchButton.disabled = true;
    try {
      const r = await api("GET", `/chats?${q}`);
      if (stopped) return;
      if (fresh) clear(rows);
      rows.append(...r.items.map(row));
      cursor = r.next_cursor;
      more.hidden = !cursor;
      const shown = rows.querySelectorAll("tr[data-chat]").length;
      count.textContent = shown ? `${shown} chat${shown === 1 ? "" : "s"}${cursor ? " so far" : ""}.` : "No chats match.";
      if (!shown) rows.append(h("tr", h("td", { colspan: "9" }, "No chats match these filters.")));
    } catch (e) {
      fail(e);
    } finally {
      searchButton.disabled = false;
    }
  }

  async function lookups() {
    try {
      const [qs, rs, ag] = await Promise.all([list("/queues"), list("/results"), api("GET", "/monitor/agents")]);
      if (stopped) return;
      for (const q of qs) names.queues.set(q.id, q.name);
      for (const r of rs) names.results.set(r.id, r.name);
      for (const a of ag.items) names.agents.set(a.agent_id, a.name || a.agent_id);
      const byName = (m) => [...m].sort((a, b) => a[1].localeCompare(b[1]));
      queue.append(...byName(names.queues).filter(([id]) => qs.find((q) => q.id === id).channel === "chat")
        .map(([id, n]) => h("option", { value: id }, n)));
      agent.append(...byName(names.agents).map(([id, n]) => h("option", { value: id }, n)));
      result.append(...byName(names.results).map(([id, n]) => h("option", { value: id }, n)));
    } catch (e) {
      fail(e);
    }
    search(true);
  }

  lookups();
  return () => {
    stopped = true;
  };
}
