// calls.js - phone calls on the desk: the invitation of a ringing call
// (answered on the SIP phone, so it has no Accept button), the calls panel
// (active, then the recent closed ones) and one call's view (caller, talk
// timer, Result info saved with PATCH /calls/{id}). desk.js places them and
// feeds them the `call_updated` events; the PBX, not the desk, answers and
// hangs up.
import { api } from "./api.js";
import { h, clear, field, select, since, until, clock, when, toast, fail } from "./ui.js";
import { crmPanel } from "./crm.js";

export const CALL_STATE = { waiting: "Waiting", ringing: "Ringing", connected: "On call", ended: "Ended" };
const DIRECTION = { inbound: "Inbound", direct: "Direct", outbound: "Outbound" };
const OUTCOME = { answered: "Answered", abandoned: "Abandoned", failed: "Failed", timed_out: "Timed out" };
const HANGUP = { caller: "Caller", agent: "Agent", system: "System" };
const CLOSED_SHOWN = 10;

// Who is calling: the identified contact's name, else the name the PBX
// gave (the SIP From display name), else the number.
export function caller(c) {
  return c.customer_name || c.caller_name || c.from || "an unknown number";
}

// The invitation card of call offer `o` (kind "call"); `queue` is its
// queue's name when known.
export function callInviteView(o, queue) {
  const c = o.customer || {};
  const titleId = `invite-${o.offer_id}`;
  const number = c.phone || c.id;
  return h("li.invite.call-invite", { "aria-labelledby": titleId, dataset: { call: o.interaction_id || "", offer: o.offer_id } },
    h("h3", { id: titleId }, h("span.phone-icon", { "aria-hidden": "true" }, "📞 "), `Call from ${c.name || number || "an unknown number"}`),
    c.name && number ? h("p.number", number) : null,
    queue ? h("p.meta", `Queue: ${queue}`) : null,
    h("p.left-time", "Time left: ", until(o.expires_at)),
    h("p.answer-note", "Answer on your SIP phone."));
}

// The calls panel: active calls, then the last closed ones. Returns
// {el, render(active, closed, currentId)}; a click opens the call (onOpen(id)).
export function callsPanel(onOpen) {
  const list = h("ul.call-list", { id: "call-list", "aria-labelledby": "calls-title" });
  const el = h("section.panel.calls-panel", { "aria-labelledby": "calls-title" }, h("h2", { id: "calls-title" }, "Calls"), list);

  function item(c, currentId) {
    const talk = c.state === "connected" && c.answered_at
      ? since(c.answered_at)
      : c.state === "ended" && c.talk_s ? h("span.timer", clock(c.talk_s)) : null;
    return h("li", h("button.chat-item.call-item", {
      type: "button", "aria-current": currentId === c.id ? "true" : null, dataset: { call: c.id, state: c.state || "" },
      onclick: () => onOpen(c.id),
    },
    h("span.name", caller(c)), talk || h("span"),
    h("span.meta", [CALL_STATE[c.state] || c.state, c.queue_name].filter(Boolean).join(" · "))));
  }

  function render(active, closed, currentId) {
    clear(list,
      active.map((c) => item(c, currentId)),
      active.length ? null : h("li.empty", "No active calls."),
      h("li.list-head", { "aria-hidden": "true" }, "Recent"),
      closed.slice(0, CLOSED_SHOWN).map((c) => item(c, currentId)),
      closed.length ? null : h("li.empty", "No closed calls."));
  }
  render([], [], null);
  return { el, render };
}

// The desk's calls: {active, closed}, the caller's own (supervisors and
// admins are answered the calls of their queues or all: kept to their own).
export async function loadCalls(me) {
  const [a, c] = await Promise.all([
    api("GET", "/calls?view=active"), api("GET", `/calls?view=closed&limit=${CLOSED_SHOWN}`)]);
  const own = (x) => x.agent_id === me.id;
  return { active: a.items.filter(own), closed: c.items.filter(own) };
}

// Renders call `callId` into `root`. opts: {me, queues (id -> name),
// onChanged()}. Returns {id, kind, onCall(call), onMessage(), onChat(),
// close()} (the two last are no-ops: the desk's open item is a chat or a call).
export function callView(root, callId, opts) {
  let call = null;
  let closed = false;

  const title = h("h2", { id: "call-title" }, "Call");
  const sub = h("span.sub");
  const statePill = h("span.pill.call-state", { role: "status" });
  const talk = h("span.talk", { id: "talk-time" });
  const facts = h("dl.profile-list.call-facts");
  const result = select([["", "—"]], "", {});
  const details = h("textarea", { rows: 3 });
  const links = {
    account_id: h("input", { autocomplete: "off" }),
    contact_id: h("input", { autocomplete: "off" }),
    activity_id: h("input", { autocomplete: "off" }),
    case_id: h("input", { autocomplete: "off" }),
  };
  const form = h("form.call-result", { onsubmit: (ev) => { ev.preventDefault(); save(); } },
    h("h3", "Result info"), field("Result", result), field("Result details", details),
    h("h3", "Connected to"), field("Account", links.account_id), field("Contact", links.contact_id),
    field("Activity", links.activity_id), field("Case", links.case_id),
    h("button.primary", { type: "submit" }, "Save"));
  const crm = crmPanel("calls", callId, async () => {
    try {
      call = await api("GET", `/calls/${encodeURIComponent(callId)}`);
      render();
    } catch (e) {
      fail(e);
    }
  });
  const section = h("section.conversation.call-view", { "aria-labelledby": "call-title", dataset: { call: callId } },
    h("header.conv-head", h("div.conv-title", title, sub), statePill, talk),
    h("div.call-body", h("div.call-side", h("h3", "Call"), facts), h("div.call-form", form, crm.el)));
  clear(root, section);

  function talkTimer() {
    if (call.state === "connected" && call.answered_at) return ["Talk time ", since(call.answered_at)];
    if (call.state === "ended" && call.answered_at) return ["Talk time ", h("span.timer", clock(call.talk_s || 0))];
    if (call.state === "ringing") return "Ringing on your SIP phone…";
    return null;
  }

  function render() {
    if (!call) return;
    title.textContent = `Call with ${caller(call)}`;
    const queue = call.queue_name || (opts.queues && opts.queues.get(call.queue_id));
    sub.textContent = queue ? `Queue: ${queue}` : DIRECTION[call.direction] || "";
    statePill.className = `pill call-state state-${call.state}`;
    statePill.textContent = CALL_STATE[call.state] || call.state || "";
    section.dataset.state = call.state || "";
    clear(talk, talkTimer());
    clear(facts, [
      ["From", call.from], ["To", call.to], ["Name", call.customer_name || call.caller_name], ["Account", call.account_name],
      ["Direction", DIRECTION[call.direction] || call.direction], ["Queue", queue || call.queue_id],
      ["Offered", when(call.offered_at)], ["Answered", when(call.answered_at)], ["Ended", when(call.ended_at)],
      ["Wait", call.wait_s !== undefined && call.wait_s !== null ? clock(call.wait_s) : null],
      ["Outcome", OUTCOME[call.outcome] || call.outcome], ["Hung up by", HANGUP[call.hangup_by] || call.hangup_by],
      ["Case", (call.links || {}).case_id],
    ].map(([k, v]) => [h("dt", k), h("dd", { dataset: { field: k } }, v || "—")]));
    if (document.activeElement !== details) details.value = call.result_details || "";
    if (call.result_id && document.activeElement !== result) result.value = call.result_id;
    for (const [k, input] of Object.entries(links)) {
      if (document.activeElement !== input) input.value = (call.links || {})[k] || "";
    }
    crm.render(call);
  }

  async function load() {
    try {
      const [c, results] = await Promise.all([api("GET", `/calls/${encodeURIComponent(callId)}`), api("GET", "/results?limit=500")]);
      if (closed) return;
      call = c;
      clear(result, h("option", { value: "" }, "—"), results.items.map((r) => h("option", { value: r.id }, r.name)));
      render();
    } catch (e) {
      fail(e);
    }
  }

  // Whether version `c` of the call is not older than the one shown.
  function newer(c) {
    return !call || c.version === undefined || call.version === undefined || c.version >= call.version;
  }

  // The stored call, read again after an event: the view shows what the
  // API holds, every field of the latest version.
  async function reread() {
    try {
      const c = await api("GET", `/calls/${encodeURIComponent(callId)}`);
      if (!closed && newer(c)) {
        call = c;
        render();
      }
    } catch (e) {
      // the event's own fields stay shown; the next event reads again
    }
  }

  async function save() {
    const body = { result_details: details.value, links: {} };
    if (result.value) body.result_id = result.value;
    for (const [k, input] of Object.entries(links)) body.links[k] = input.value.trim();
    try {
      const saved = await api("PATCH", `/calls/${encodeURIComponent(callId)}`, body);
      if (newer(saved)) call = saved; // a hang-up may have overtaken the answer
      render();
      toast("Saved.");
      opts.onChanged();
    } catch (e) {
      fail(e);
    }
  }

  load();
  return {
    id: callId,
    kind: "call",
    onCall(c) {
      if (c.id !== callId || !newer(c)) return;
      call = { ...call, ...c };
      render();
      reread();
    },
    onMessage() {},
    onChat() {},
    close() {
      closed = true;
    },
  };
}
