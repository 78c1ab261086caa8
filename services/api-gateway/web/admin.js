// admin.js - the administrator pages: users (every field of SPEC section 3,
// archive, delete, agent skills), teams with timings, skills, queues, pause
// causes, quick replies, results, channels, the permission switches and
// the time zone (reports.js), CRM settings and CRM sync (crm.js).
// One generic list + form drives every object kind from the field lists below.
import { api, list } from "./api.js";
import { crmSettingsPage, crmStatusPage } from "./crm.js";
import { h, clear, field, check, select, toast, fail, confirmDialog, id as newId, SOURCE } from "./ui.js";
import { timeZonePage } from "./reports.js";

const ROLES = ["admin", "manager", "supervisor", "agent", "user"];
const STRATEGIES = [["longest_idle", "Longest idle"], ["most_skilled", "Most skilled"], ["round_robin", "Round robin"],
  ["fewest_interactions", "Fewest interactions today"], ["random", "Random"], ["ring_all", "Ring all (calls)"]];
const CREDENTIALS = {
  telegram: ["bot_token", "secret_token"],
  viber: ["auth_token"],
  infobip_whatsapp: ["api_key", "sender", "webhook_authorization"],
  whatsapp_cloud: ["access_token", "app_secret", "verify_token", "phone_number_id"],
  messenger: ["page_access_token", "app_secret", "verify_token"],
  webchat: [],
};
const CRED_LABEL = {
  bot_token: "Bot token", secret_token: "Secret token", auth_token: "Auth token", api_key: "API key",
  sender: "Sender", webhook_authorization: "Webhook authorization", access_token: "Access token",
  app_secret: "App secret", verify_token: "Verify token", phone_number_id: "Phone number id",
  page_access_token: "Page access token",
};

// Closing messages of chat queues, one per language ("" = any other language).
const CLOSING_LANGS = [["en", "English"], ["pl", "Polish"], ["es", "Spanish"], ["uk", "Ukrainian"], ["", "other languages"]];
const WIDGET_LANGS = [["", "The visitor's browser language"], ["en", "English"], ["pl", "Polski"], ["es", "Español"], ["uk", "Українська"]];
const PROVIDER = { telegram: "Telegram", viber: "Viber", infobip_whatsapp: "Infobip", whatsapp_cloud: "Meta (WhatsApp)", messenger: "Meta (Messenger)" };

const userName = (u) => [u.first_name, u.last_name].filter(Boolean).join(" ") || u.login;
const refOptions = (items, label = (x) => x.name) => [["", "—"], ...items.map((x) => [x.id, label(x)])];

// Field kinds: text, password, number, textarea, choice (options), ref (one
// id from a lookup), refs (ids, as checkboxes), bool, widening, lines (a list of
// strings, one per line). `k` may be
// a path ("agent.enabled"). `when(values)` hides a field.
const SECTIONS = [
  {
    key: "users", title: "Users", path: "/users", one: "user",
    columns: [["Login", (u) => u.login], ["Name", userName], ["Role", (u) => u.role],
      ["Agent", (u) => (u.agent && u.agent.enabled ? "yes" : "no")], ["Archived", (u) => (u.archived ? "yes" : "")]],
    groups: (L) => [
      ["General", [
        { k: "first_name", label: "First name" }, { k: "last_name", label: "Last name" },
        { k: "role", label: "Role", type: "choice", options: ROLES, required: true, initial: "agent" },
        { k: "login", label: "Login", required: true, attrs: { pattern: "[A-Za-z0-9._@\\-]+", maxlength: 64, autocomplete: "off" } },
        { k: "password", label: "Password", type: "password", requiredOnCreate: true,
          hint: (isNew) => (isNew
            ? "Required: 8 to 256 characters, any of them (spaces count). The user signs in with it."
            : "8 to 256 characters. Leave empty to keep the current password.") },
        { k: "idle_timeout_s", label: "Idle timeout (seconds)", type: "number", min: 0, max: 604800, hint: "Automatic sign-out after this long without activity; 0 = never." },
        { k: "phone", label: "Phone" }, { k: "email", label: "Email", attrs: { type: "email" } },
        { k: "description", label: "Description", type: "textarea" },
        { k: "agent_number", label: "Agent number", attrs: { pattern: "[A-Za-z0-9]*" }, hint: "Unique when set." },
        { k: "position", label: "Position" },
        { k: "callbacks_forward_to", label: "Forward private callbacks to", type: "ref",
          options: () => refOptions(L.users.filter((u) => u.role === "agent"), userName) },
        { k: "supervisor_id", label: "Supervisor", type: "ref",
          options: () => refOptions(L.users.filter((u) => ["supervisor", "manager", "admin"].includes(u.role)), userName) },
      ]],
      ["Agent", [
        { k: "agent.enabled", label: "Agent (takes part in routing)", type: "bool", initial: true, when: (v) => v.role === "agent" },
        { k: "agent.team_id", label: "Team", type: "ref", options: () => refOptions(L.teams), when: (v) => v.role === "agent" },
        // a new agent's skills, given with the user (saved right after it)
        { k: "_skills", label: "Skills", type: "skills", createOnly: true, options: () => L.skills,
          when: (v) => v.role === "agent" },
      ]],
      ["Phone", [
        { k: "phone_type", label: "Phone type", type: "choice",
          options: [["none", "No phone"], ["desk_phone", "Desk phone"], ["browser_softphone", "Softphone in the browser"], ["external_softphone", "External softphone"]] },
        { k: "sip_account", label: "SIP account" }, { k: "clip_number", label: "CLIP number" },
      ]],
      ["Rights", [
        { k: "rights.contact_history", label: "Contact history", type: "bool" },
        { k: "rights.contact_notes", label: "Contact notes", type: "bool" },
        { k: "rights.print", label: "Print (Ctrl+P)", type: "bool" },
        { k: "rights.save", label: "Save page (Ctrl+S)", type: "bool" },
        { k: "rights.context_menu", label: "Context menu", type: "bool" },
        { k: "rights.screenshot", label: "Screenshots", type: "bool" },
      ]],
      ["Call listening", [
        { k: "listen_mode", label: "Listen mode", type: "choice", when: (v) => v.role === "admin",
          options: [["none", "None"], ["external_app", "External application"], ["desk_phone", "Desk phone"], ["tel_uri", "External application (tel: URI)"]] },
      ]],
    ],
  },
  {
    key: "teams", title: "Teams", path: "/teams", one: "team",
    columns: [["Name", (t) => t.name], ["Wrap-up", (t) => `${t.wrap_up_time_s ?? 0} s`], ["Chat invite", (t) => `${t.chat_invite_timeout_s ?? 30} s`]],
    groups: (L) => [
      ["Team", [
        { k: "name", label: "Name", required: true },
        { k: "admin_id", label: "Administrator", type: "ref", options: () => refOptions(L.users.filter((u) => u.role === "admin"), userName) },
        { k: "supervisor_ids", label: "Supervisors", type: "refs", options: () => L.users.filter((u) => u.role === "supervisor").map((u) => [u.id, userName(u)]) },
      ]],
      ["Timing", [
        { k: "wrap_up_time_s", label: "Wrap up time (s)", type: "number", min: 0, max: 86400, placeholder: "0" },
        { k: "no_answer_delay_s", label: "No answer delay time (s)", type: "number", min: 0, max: 86400, placeholder: "5" },
        { k: "max_no_answer", label: "Max no answer", type: "number", min: 0, max: 100, placeholder: "0", hint: "Misses in a row before the pause \"no answer\"; 0 = off." },
        { k: "call_offer_timeout_s", label: "Call offer timeout (s)", type: "number", min: 1, max: 600, placeholder: "20" },
        { k: "chat_invite_timeout_s", label: "Chat invite timeout (s)", type: "number", min: 1, max: 3600, placeholder: "30" },
      ]],
    ],
  },
  {
    key: "skills", title: "Skills", path: "/skills", one: "skill",
    columns: [["Name", (s) => s.name], ["Description", (s) => s.description || ""]],
    groups: () => [["Skill", [{ k: "name", label: "Name", required: true }, { k: "description", label: "Description", type: "textarea" }]]],
  },
  {
    key: "queues", title: "Queues", path: "/queues", one: "queue",
    columns: [["Name", (q) => q.name], ["Channel", (q) => q.channel], ["Strategy", (q) => (STRATEGIES.find(([k]) => k === q.strategy) || [, q.strategy])[1]], ["Priority", (q) => q.priority ?? 0]],
    groups: (L) => [
      ["Queue", [
        { k: "name", label: "Name", required: true },
        { k: "channel", label: "Channel", type: "choice", options: [["chat", "Chat"], ["call", "Call"]], required: true },
        { k: "skill_id", label: "Queue skill", type: "ref", required: true, options: () => refOptions(L.skills) },
        { k: "strategy", label: "Strategy", type: "choice", options: STRATEGIES },
        { k: "priority", label: "Priority (0–100)", type: "number", min: 0, max: 100, placeholder: "0" },
        { k: "min_capacity", label: "Minimum capacity", type: "number", min: 1, max: 100, placeholder: "1" },
        { k: "widening", label: "Widening steps", type: "widening", hint: "after seconds:minimum capacity, e.g. 30:40, 60:20" },
        { k: "max_wait_s", label: "Max wait (s)", type: "number", min: 0, max: 86400, placeholder: "0", hint: "0 = no limit." },
        { k: "wrap_up_time_s", label: "Wrap up time (s)", type: "number", min: 0, max: 86400, hint: "Empty: the team's." },
        { k: "max_concurrent_chats", label: "Max concurrent chats", type: "number", min: 1, max: 100, placeholder: "1" },
        { k: "sticky_agent", label: "Sticky agent", type: "bool" },
        { k: "sticky_wait_s", label: "Sticky wait (s)", type: "number", min: 0, max: 86400, placeholder: "0" },
      ]],
      ["Who", [
        { k: "team_ids", label: "Teams (none = any team)", type: "refs", options: () => L.teams.map((t) => [t.id, t.name]) },
        { k: "supervisor_ids", label: "Supervisors", type: "refs", options: () => L.users.filter((u) => u.role === "supervisor").map((u) => [u.id, userName(u)]) },
      ]],
      ["Closing message", CLOSING_LANGS.map(([lang, name], i) => ({
        k: `closing.${lang || "any"}`, lang, label: `Closing message (${name})`, type: "closing",
        when: (v) => v.channel === "chat",
        hint: i === 0 ? "Sent to the customer when the agent ends the chat, in the chat's language. Empty: the built-in text." : null,
      }))],
    ],
  },
  {
    key: "pause-causes", title: "Pause causes", path: "/pause-causes", one: "pause cause",
    columns: [["Name", (p) => p.name], ["Limit", (p) => (p.limit_minutes_per_day ? `${p.limit_minutes_per_day} min/day` : "none")],
      ["Agents", (p) => (p.allow_agent ? "yes" : "no")], ["Supervisors", (p) => (p.allow_supervisor ? "yes" : "no")], ["System", (p) => (p.system ? "yes" : "")]],
    groups: () => [["Pause cause", [
      { k: "name", label: "Name", required: true },
      { k: "limit_minutes_per_day", label: "Limit (minutes per day)", type: "number", min: 0, max: 1440, placeholder: "0", hint: "0 = no limit." },
      { k: "allow_agent", label: "Agents may choose it", type: "bool", initial: true },
      { k: "allow_supervisor", label: "Supervisors may set it", type: "bool", initial: true },
    ]]],
    deletable: (p) => !p.system,
  },
  {
    key: "quick-replies", title: "Quick replies", path: "/quick-replies", one: "quick reply",
    columns: [["Name", (q) => q.name], ["Text", (q) => (q.text || "").slice(0, 60)]],
    groups: (L) => [["Quick reply", [
      { k: "name", label: "Name", required: true, hint: "The short title agents pick in \"Select text\"." },
      { k: "text", label: "Text", type: "textarea", required: true },
      { k: "queue_ids", label: "Queues (none = all)", type: "refs", options: () => L.queues.filter((q) => q.channel === "chat").map((q) => [q.id, q.name]) },
    ]]],
  },
  {
    key: "results", title: "Results", path: "/results", one: "result",
    columns: [["Name", (r) => r.name]],
    groups: () => [["Result", [{ k: "name", label: "Name", required: true }]]],
  },
  {
    key: "channels", title: "Channels", path: "/channels", one: "channel",
    columns: [["Name", (c) => c.name], ["Type", (c) => SOURCE[c.type] || c.type], ["Credentials", (c) => (c.has_credentials ? "stored" : "")]],
    groups: (L) => [
      ["Channel", [
        { k: "type", label: "Type", type: "choice", required: true, options: Object.keys(CREDENTIALS).map((t) => [t, SOURCE[t] || t]) },
        { k: "name", label: "Name", required: true },
        { k: "queue_id", label: "Queue", type: "ref", required: true, options: () => refOptions(L.queues.filter((q) => q.channel === "chat")) },
        { k: "api_base_url", label: "API base URL", attrs: { type: "url" }, when: (v) => v.type !== "webchat" },
        { k: "api_version", label: "API version", placeholder: "v21.0", when: (v) => v.type === "whatsapp_cloud" || v.type === "messenger" },
        { k: "allowed_origins", label: "Allowed origins", type: "lines", when: (v) => v.type === "webchat",
          hint: "The web sites that may embed the chat widget, one per line, e.g. https://shop.example.com." },
        { k: "media_hosts", label: "Media hosts", type: "lines", when: (v) => v.type && v.type !== "webchat",
          hint: "Host names customers' files may be fetched from over https, one per line (*.example.com: any name under it). Empty: the provider's own." },
      ]],
      ["Web chat widget", [
        { k: "webchat.title", label: "Title", attrs: { maxlength: 100 }, hint: "The widget's header. Empty: the channel's name.", when: (v) => v.type === "webchat" },
        { k: "webchat.color", label: "Colour", attrs: { type: "color" }, initial: "#1f5fbf", when: (v) => v.type === "webchat" },
        { k: "webchat.prechat", label: "Before the chat", type: "choice", when: (v) => v.type === "webchat",
          options: [["off", "Ask nothing"], ["optional", "Ask name and e-mail (optional)"], ["required", "Require name and e-mail"]] },
        { k: "webchat.language", label: "Language", type: "choice", options: WIDGET_LANGS, when: (v) => v.type === "webchat" },
      ]],
      ["Credentials", Object.keys(CRED_LABEL).map((c) => ({
        k: `credentials.${c}`, label: CRED_LABEL[c], type: "password", secret: true,
        when: (v) => (CREDENTIALS[v.type] || []).includes(c),
        hint: "Never shown again; leave empty to keep the stored one.",
      }))],
    ],
  },
];

const PAGES = { permissions: ["Permissions", permissionsPage], "time-zone": ["Time zone", timeZonePage],
  crm: ["CRM settings", crmSettingsPage], "crm-sync": ["CRM sync", crmStatusPage] };
export const ADMIN_SECTIONS = [...SECTIONS.map((s) => ({ key: s.key, title: s.title })),
  ...Object.entries(PAGES).map(([key, [title]]) => ({ key, title }))];

// --- values <-> nested objects -------------------------------------------------------

function getPath(obj, path) {
  return path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), obj);
}

function setPath(obj, path, value) {
  const keys = path.split(".");
  let o = obj;
  for (const k of keys.slice(0, -1)) o = o[k] = o[k] || {};
  o[keys[keys.length - 1]] = value;
}

function wideningText(steps) {
  return (steps || []).map((s) => `${s.after_s}:${s.min_capacity}`).join(", ");
}

function parseWidening(text) {
  const out = [];
  for (const part of text.split(",").map((x) => x.trim()).filter(Boolean)) {
    const m = /^(\d+)\s*:\s*(\d+)$/.exec(part);
    if (!m) throw new Error(`Widening steps: "${part}" is not seconds:capacity.`);
    out.push({ after_s: Number(m[1]), min_capacity: Number(m[2]) });
  }
  return out;
}

// --- the generic page --------------------------------------------------------------------

export function adminView(root, me, key) {
  const allowed = me.role === "admin" ? ADMIN_SECTIONS : ADMIN_SECTIONS.filter((s) => s.key === "users");
  if (!allowed.some((s) => s.key === key)) key = allowed[0].key;
  const section = SECTIONS.find((s) => s.key === key);
  document.title = `${section ? section.title : PAGES[key][0]} · Administration`;
  const nav = h("nav.admin-nav", { "aria-label": "Administration" },
    h("ul", allowed.map((s) => h("li", h("a", { href: `#/admin/${s.key}`, "aria-current": s.key === key ? "page" : null }, s.title)))));
  const body = h("div.admin-body");
  clear(root, h("div.admin", nav, body));
  if (PAGES[key]) PAGES[key][1](body);
  else crudPage(body, me, section);
  return null;
}

function crudPage(root, me, sec) {
  const L = { users: [], teams: [], skills: [], queues: [] };
  let items = [];
  let editing = null; // the object being edited, or {} for a new one
  const showArchived = h("input", { type: "checkbox", id: "show-archived", onchange: load });
  const tbody = h("tbody");
  // the form's choices come from the lookups: no form before they are read
  const newButton = h("button.primary", { type: "button", disabled: true, onclick: () => edit({}) }, `New ${sec.one}`);
  const editor = h("section.panel.editor", { "aria-labelledby": "editor-title" });
  const listPanel = h("section.panel.list", { "aria-labelledby": "list-title" },
    h("div.panel-head", h("h1", { id: "list-title" }, sec.title),
      sec.key === "users" && me.role === "admin" ? check("Show archived", showArchived) : null,
      newButton),
    h("table.grid.clickable",
      h("caption.visually-hidden", sec.title),
      h("thead", h("tr", sec.columns.map(([t]) => h("th", { scope: "col" }, t)), h("th", h("span.visually-hidden", "Actions")))),
      tbody));
  clear(root, h("div.crud", listPanel, editor));

  async function lookups() {
    const kinds = me.role === "admin" ? ["users", "teams", "skills", "queues"] : ["users"];
    await Promise.all(kinds.map(async (k) => { L[k] = await list(`/${k}`); }));
  }

  async function load() {
    try {
      const q = sec.key === "users" && showArchived.checked ? "?archived=true" : "";
      items = await list(sec.path + q);
      renderList();
    } catch (e) {
      fail(e);
    }
  }

  function renderList() {
    clear(tbody, items.map((x) =>
      h("tr", { dataset: { id: x.id }, "aria-selected": editing && editing.id === x.id ? "true" : null },
        sec.columns.map(([, f], i) => (i === 0 ? h("th", { scope: "row" }, String(f(x) ?? "")) : h("td", String(f(x) ?? "")))),
        h("td", h("button", { type: "button", "aria-label": `Edit ${sec.columns[0][1](x)}`, onclick: () => edit(x) }, "Edit")))));
    if (!items.length) tbody.append(h("tr", h("td", { colspan: String(sec.columns.length + 1) }, `No ${sec.title.toLowerCase()} yet.`)));
  }

  function edit(obj) {
    editing = obj;
    renderList();
    renderEditor();
  }

  function renderEditor() {
    const obj = editing;
    const isNew = !obj.id;
    const controls = new Map(); // key -> {spec, el, wrap}
    const form = h("form.form", { novalidate: false, onsubmit: (ev) => { ev.preventDefault(); save(); } });
    const values = () => {
      const v = {};
      for (const [k, c] of controls) if (c.spec.type === "choice") v[k] = c.el.value;
      return v;
    };
    for (const [legend, specs] of sec.groups(L)) {
      const fs = h("fieldset", h("legend", legend));
      for (const spec of specs) {
        if (spec.createOnly && !isNew) continue;
        if (spec.type === "skills" && !spec.options().length) continue; // none to give, or not allowed to
        const value = spec.type === "closing"
          ? ((obj.closing_messages || []).find((m) => (m.language || "") === spec.lang) || {}).text
          : getPath(obj, spec.k);
        const { el, wrap } = control(spec, value, isNew);
        controls.set(spec.k, { spec, el, wrap });
        fs.append(wrap);
      }
      form.append(fs);
    }
    const applyWhen = () => {
      const v = values();
      for (const c of controls.values()) c.wrap.hidden = c.spec.when ? !c.spec.when(v) : false;
      for (const fs of form.querySelectorAll("fieldset")) {
        fs.hidden = [...fs.querySelectorAll(":scope > .field, :scope > fieldset")].every((w) => w.hidden);
      }
    };
    form.addEventListener("change", applyWhen);
    applyWhen();

    const actions = h("div.row.actions", h("button.primary", { type: "submit" }, "Save"));
    if (!isNew && sec.key === "users") {
      actions.append(h("button", { type: "button", onclick: () => action(obj.archived ? "unarchive" : "archive") }, obj.archived ? "Unarchive" : "Archive"));
    }
    if (!isNew && me.role === "admin" && (!sec.deletable || sec.deletable(obj))) {
      actions.append(h("button.danger", { type: "button", onclick: remove }, "Delete"));
    }
    actions.append(h("button.ghost", { type: "button", onclick: () => { editing = null; clear(editor); renderList(); } }, "Close"));
    form.append(actions);
    const heading = isNew ? `New ${sec.one}` : `${sec.one[0].toUpperCase()}${sec.one.slice(1)}: ${sec.columns[0][1](obj)}`;
    clear(editor, h("h2", { id: "editor-title" }, heading), form);
    if (!isNew && obj.has_credentials) form.prepend(h("p.hint", "Credentials are stored (never shown)."));
    if (!isNew && sec.key === "users" && me.role === "admin") editor.append(agentSkills(obj, L));
    if (!isNew && sec.key === "channels") editor.append(channelSetup(obj));
    const first = form.querySelector("input:not([type=checkbox]), select, textarea");
    if (first) first.focus();

    async function save() {
      let body;
      try {
        body = collect(controls, isNew);
      } catch (e) {
        fail(e);
        return;
      }
      const skills = isNew ? chosenSkills(controls) : [];
      try {
        const saved = isNew ? await api("POST", sec.path, body) : await api("PATCH", `${sec.path}/${obj.id}`, body);
        // the skills chosen with a new agent, in the same step
        const failed = [];
        for (const s of skills) {
          try {
            await api("PUT", `/agents/${saved.id}/skills/${s.skill_id}`, { capacity: s.capacity, active: true });
          } catch (e) {
            failed.push(`${s.name}: ${e.message}`);
          }
        }
        if (failed.length) fail(`Saved ${sec.one} ${sec.columns[0][1](saved)}, but not every skill: ${failed.join("; ")}`);
        else toast(`Saved ${sec.one} ${sec.columns[0][1](saved)}${skills.length ? ` with ${skills.length} skill${skills.length > 1 ? "s" : ""}` : ""}.`);
        await afterChange(saved);
      } catch (e) {
        fail(e);
      }
    }

    async function action(verb) {
      try {
        const saved = await api("POST", `${sec.path}/${obj.id}/${verb}`, {});
        toast(verb === "archive" ? "Archived." : "Restored from the archive.");
        await afterChange(saved);
      } catch (e) {
        fail(e);
      }
    }

    async function remove() {
      const what = `${sec.one} ${sec.columns[0][1](obj)}`;
      const extra = sec.key === "users" ? " This is permanent: archive keeps the user in reports." : "";
      if (!(await confirmDialog(`Delete ${what}?${extra}`))) return;
      try {
        await api("DELETE", `${sec.path}/${obj.id}`);
        toast(`Deleted ${what}.`);
        editing = null;
        clear(editor);
        await load();
        await lookups().catch(() => {});
      } catch (e) {
        fail(e);
      }
    }
  }

  async function afterChange(saved) {
    await Promise.all([load(), lookups().catch(() => {})]);
    editing = items.find((x) => x.id === saved.id) || saved;
    renderList();
    renderEditor();
  }

  lookups().then(() => (newButton.disabled = false), fail).then(load);
}

// One labelled control for `spec` holding `value`. Returns {el, wrap}.
function control(spec, value, isNew) {
  const attrs = { ...(spec.attrs || {}), name: spec.k };
  if (spec.placeholder) attrs.placeholder = spec.placeholder;
  const required = spec.required || (isNew && spec.requiredOnCreate);
  if (required) attrs.required = true;
  let el;
  switch (spec.type) {
    case "bool":
      el = h("input", { ...attrs, type: "checkbox", checked: value === undefined || value === null ? !!spec.initial && isNew : !!value });
      return { el, wrap: check(spec.label, el) };
    case "refs": {
      const chosen = new Set(value || []);
      const opts = spec.options();
      const boxes = opts.map(([v, text]) => check(text, h("input", { type: "checkbox", value: v, checked: chosen.has(v) })));
      el = h("fieldset.refs", { dataset: { key: spec.k } }, h("legend", spec.label), boxes.length ? boxes : h("p.hint", "None to choose from yet."));
      return { el, wrap: el };
    }
    case "choice": {
      const opts = spec.options.map((o) => (Array.isArray(o) ? o : [o, o]));
      el = select(required ? opts : [["", "—"], ...opts], value ?? spec.initial ?? (required ? opts[0][0] : ""), attrs);
      break;
    }
    case "ref": {
      const opts = spec.options();
      // an id the lookup does not hold (not readable here) is kept as it is
      if (value && !opts.some(([v]) => v === value)) opts.push([value, value]);
      el = select(opts, value ?? "", attrs);
      break;
    }
    case "textarea":
      el = h("textarea", { ...attrs, rows: 3, value: value ?? "" });
      break;
    case "skills": {
      // one row per skill: a checkbox and its capacity
      const rows = spec.options().map((s) => {
        const box = h("input", { type: "checkbox", value: s.id, id: newId("new-skill") });
        const cap = h("input", { type: "number", min: 1, max: 100, value: 50, inputmode: "numeric", id: newId("new-cap"),
          dataset: { skill: s.id }, "aria-label": `Capacity for ${s.name}` });
        return h("div.field.skill-pick", check(s.name, box), h("label.cap", { for: cap.id }, "capacity"), cap);
      });
      el = h("fieldset.refs.skill-picks", { dataset: { key: spec.k } }, h("legend", spec.label),
        h("p.hint", "Tick the skills this agent has and their capacity (1–100): saved with the user."), rows);
      return { el, wrap: el };
    }
    case "number":
      el = h("input", { ...attrs, type: "number", inputmode: "numeric", min: spec.min, max: spec.max, value: value ?? "" });
      break;
    case "password":
      el = h("input", { ...attrs, type: "password", autocomplete: "new-password", value: "" });
      break;
    case "widening":
      el = h("input", { ...attrs, value: wideningText(value) });
      break;
    case "closing":
      el = h("textarea", { ...attrs, rows: 2, maxlength: 1000, value: value ?? "" });
      break;
    case "lines":
      el = h("textarea", { ...attrs, rows: 3, value: (value || []).join("\n") });
      break;
    default:
      el = h("input", { type: "text", ...attrs, value: value || (attrs.type === "color" ? spec.initial : "") || "" });
  }
  el.id = newId(spec.k.replace(/\./g, "-"));
  const hint = typeof spec.hint === "function" ? spec.hint(isNew) : spec.hint;
  // a required text must hold more than white space (the server says so too)
  if (required && el.tagName !== "SELECT" && spec.type !== "password" && spec.type !== "number") {
    const why = `${spec.label}: must not be blank.`;
    el.addEventListener("input", () => el.setCustomValidity(!el.value || el.value.trim() ? "" : why));
  }
  return { el, wrap: field(spec.label, el, hint) };
}

// The skills ticked on a new agent's form: [{skill_id, name, capacity}].
function chosenSkills(controls) {
  const c = controls.get("_skills");
  if (!c || c.wrap.hidden) return [];
  return [...c.el.querySelectorAll("input[type=checkbox]:checked")].map((box) => {
    const cap = c.el.querySelector(`input[type=number][data-skill="${CSS.escape(box.value)}"]`);
    return { skill_id: box.value, name: box.labels[0].textContent, capacity: Number(cap.value) || 50 };
  });
}

// The body of a create (empty fields left out) or an update (emptied fields
// sent as null, which clears them). Hidden fields are left out.
function collect(controls, isNew) {
  const body = {};
  for (const [k, { spec, el, wrap }] of controls) {
    if (wrap.hidden || spec.type === "skills") continue;
    if (spec.type === "closing") { // one list of every language's text
      body.closing_messages = body.closing_messages || [];
      if (el.value.trim()) body.closing_messages.push({ language: spec.lang, text: el.value.trim() });
      continue;
    }
    let v;
    switch (spec.type) {
      case "bool": v = el.checked; break;
      case "refs": v = [...el.querySelectorAll("input:checked")].map((x) => x.value); break;
      case "number": v = el.value === "" ? null : Number(el.value); break;
      case "widening": v = el.value.trim() ? parseWidening(el.value) : []; break;
      case "lines": v = el.value.split("\n").map((x) => x.trim()).filter(Boolean); break;
      default: v = el.value === "" ? null : el.value;
    }
    if (spec.type === "password" && v === null) continue; // keep the stored one
    if (v === null && isNew) continue;
    setPath(body, k, v);
  }
  if (body.credentials && !Object.values(body.credentials).some((x) => x)) delete body.credentials;
  if (!isNew && body.credentials) {
    for (const k of Object.keys(body.credentials)) if (body.credentials[k] === null) delete body.credentials[k];
  }
  if (isNew && body.type === "webchat" && !body.credentials) body.credentials = {};
  if (isNew && body.closing_messages && !body.closing_messages.length) delete body.closing_messages;
  return body;
}

// Where a channel is set up (chat-gateway says, it knows its public URL):
// the webhook URL to register with the provider, or the web-chat widget's
// snippet to paste into a website and a test page holding it.
function channelSetup(ch) {
  const box = h("section.channel-setup", { "aria-labelledby": "setup-title" },
    h("h3", { id: "setup-title" }, ch.type === "webchat" ? "Add the widget to a website" : "Connect the provider"),
    h("p.hint", "Loading…"));
  const copyable = (label, text, multiline) => {
    const id = newId("setup");
    const el = multiline
      ? h("textarea.code", { id, readOnly: true, rows: 3, value: text })
      : h("input.code", { id, readOnly: true, value: text });
    const copy = h("button", { type: "button", onclick: async () => {
      el.select();
      try {
        await navigator.clipboard.writeText(text);
        toast("Copied.");
      } catch (e) {
        toast("Selected: press Ctrl+C to copy.");
      }
    } }, "Copy");
    return h("div.copy-row", field(label, el), copy);
  };
  api("GET", `/channels/${ch.id}/setup`).then((s) => {
    const parts = [];
    if (s.webhook_url) {
      parts.push(h("p", `Register this webhook URL with ${PROVIDER[s.type] || s.type}:`),
        copyable("Webhook URL", s.webhook_url, false));
    }
    if (s.snippet) {
      parts.push(h("p", "Paste this snippet into every page that shows the chat, before </body>:"),
        copyable("Snippet", s.snippet, true),
        h("p", h("a", { href: s.test_page_url, target: "_blank", rel: "noopener" }, "Open the test page"),
          " (the widget on a page of its own)."));
    }
    clear(box, box.firstChild, parts.length ? parts : h("p.hint", "Nothing to set up for this channel."));
  }, (e) => clear(box, box.firstChild, h("p.error", `Setup not available: ${e.message || e}`)));
  return box;
}

// The agent's skills on the user's page: capacity 1..100 and Active.
function agentSkills(user, L) {
  const rows = h("tbody");
  const skill = select(refOptions(L.skills), "", { id: newId("agent-skill") });
  const capacity = h("input", { type: "number", min: 1, max: 100, value: 50, id: newId("capacity"), required: true });
  const active = h("input", { type: "checkbox", checked: true, id: newId("active") });
  const box = h("section.agent-skills", { "aria-labelledby": "agent-skills-title" },
    h("h3", { id: "agent-skills-title" }, "Skills"),
    h("table.grid", h("thead", h("tr", ["Skill", "Capacity", "Active", ""].map((t) => h("th", { scope: "col" }, t)))), rows),
    h("form.row.add-skill", { onsubmit: (ev) => { ev.preventDefault(); put(skill.value, Number(capacity.value), active.checked); } },
      field("Skill", skill), field("Capacity (1–100)", capacity), check("Active", active),
      h("button.primary", { type: "submit" }, "Save skill")));

  async function load() {
    try {
      const r = await api("GET", `/agents/${user.id}/skills`);
      clear(rows, r.items.map((s) => h("tr",
        h("th", { scope: "row" }, s.name || s.skill_id), h("td.num", String(s.capacity)), h("td", s.active ? "yes" : "no"),
        h("td", h("button.ghost", { type: "button", "aria-label": `Delete skill ${s.name}`, onclick: () => del(s) }, "Delete")))));
      if (!r.items.length) rows.append(h("tr", h("td", { colspan: "4" }, "No skills yet.")));
    } catch (e) {
      fail(e);
    }
  }

  async function put(skillId, cap, act) {
    if (!skillId) return fail("Choose a skill.");
    try {
      await api("PUT", `/agents/${user.id}/skills/${skillId}`, { capacity: cap, active: act });
      toast("Skill saved.");
      load();
    } catch (e) {
      fail(e);
    }
  }

  async function del(s) {
    if (!(await confirmDialog(`Remove skill ${s.name} from this agent?`))) return;
    try {
      await api("DELETE", `/agents/${user.id}/skills/${s.skill_id}`);
      load();
    } catch (e) {
      fail(e);
    }
  }

  load();
  return box;
}

// --- permissions -----------------------------------------------------------------------------

const SWITCHES = [
  ["supervisor", "Supervisors", [
    ["config_portal", "Access to the configuration portal"],
    ["limit_to_assigned_queues", "Limit access to assigned queues"],
    ["view_queue_settings", "View queue settings (always on)", true],
    ["manage_queue_settings", "Manage queue settings"],
    ["view_pause_causes", "View pause causes"],
    ["manage_pause_causes", "Manage pause causes"],
    ["view_skills", "View skills and agents' skills"],
    ["manage_skills", "Manage skills and agents' skills"],
  ]],
  ["agent", "Agents", [
    ["manage_prerecorded", "Manage prerecorded messages"],
    ["manage_public_canned", "Manage quick replies"],
    ["custom_chat_tags", "Create custom chat tags"],
    ["call_dispositions", "Call dispositions (queues with wrap-up time)"],
  ]],
  ["organisation", "Organisation", [["agents_may_join_unassigned_queues", "Agents may join unassigned queues"]]],
];

function permissionsPage(root) {
  const form = h("form.form", { onsubmit: (ev) => { ev.preventDefault(); save(); } });
  clear(root, h("section.panel.editor.wide", { "aria-labelledby": "perm-title" }, h("h1", { id: "perm-title" }, "Permissions"), form));
  const boxes = {};
  let loaded = {}; // what was read: PUT replaces the record, the time zone travels with the switches

  function render(p) {
    loaded = p;
    clear(form, SWITCHES.map(([group, legend, list]) => h("fieldset", h("legend", legend), list.map(([k, label, fixed]) => {
      const el = h("input", { type: "checkbox", checked: !!(p[group] || {})[k], disabled: !!fixed });
      boxes[`${group}.${k}`] = el;
      return check(label, el);
    }))), h("div.row.actions", h("button.primary", { type: "submit" }, "Save")));
  }

  async function save() {
    const body = structuredClone(loaded);
    for (const [k, el] of Object.entries(boxes)) setPath(body, k, el.checked);
    try {
      render(await api("PUT", "/settings/permissions", body));
      toast("Permissions saved.");
    } catch (e) {
      fail(e);
    }
  }

  api("GET", "/settings/permissions").then(render, fail);
}
