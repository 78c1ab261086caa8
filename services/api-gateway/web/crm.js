// crm.js - the CRM on the desk and in administration: the CRM block of a
// chat or call record (User identification: search, Link, create a contact
// from the interaction; Create a case; Consult existing case; the linked
// contact, account and case as links into the CRM), and the admin pages
// "CRM settings" (secrets write-only) and "CRM sync" (status, failures,
// Retry). Everything goes through /api/v1/crm/* and the interaction's
// /case and /contact actions; crm-sync decides who may do what.
import { api } from "./api.js";
import { h, clear, field, select, when, toast, fail } from "./ui.js";

const LINKS = [["contact_id", "contact_url", "Contact"], ["account_id", "account_url", "Account"], ["case_id", "case_url", "Case"]];

// What the agent typed into a CRM block, by interaction: the desk rebuilds a
// record's view when the interaction changes, and typed text must survive it.
const drafts = new Map();

// An input whose value is kept in drafts under `key`.
function drafted(key, attrs) {
  const el = h("input", attrs);
  el.value = drafts.get(key) || "";
  el.addEventListener("input", () => drafts.set(key, el.value));
  return el;
}

// The CRM block of chat or call `kind` ("chats" | "calls") `id`. Returns
// {el, render(record)}; onChanged(record links) after an action.
export function crmPanel(kind, id, onChanged) {
  const noun = kind === "chats" ? "chat" : "call";
  const base = `/${kind}/${encodeURIComponent(id)}`;
  let links = {};
  const labels = new Map(); // id -> what an action answered about it (name, case number)
  const linked = h("dl.profile-list.crm-linked", { "aria-label": "Linked in the CRM" });
  const q = drafted(`${base}#q`, { type: "search", autocomplete: "off", placeholder: "Name, phone or email" });
  const results = h("ul.crm-results", { "aria-label": "Contacts found" });
  const subject = drafted(`${base}#subject`, { autocomplete: "off", maxlength: 250 });
  const category = drafted(`${base}#category`, { autocomplete: "off", placeholder: "Default", maxlength: 64 });
  const caseId = drafted(`${base}#case`, { autocomplete: "off", placeholder: "Case id", maxlength: 64 });
  const el = h("section.crm-panel", { "aria-labelledby": `crm-title-${noun}` },
    h("h3", { id: `crm-title-${noun}` }, "CRM"), linked,
    h("form.crm-ident", { onsubmit: (ev) => { ev.preventDefault(); search(); } },
      h("h4", "User identification"), field("Search contacts", q),
      h("div.row", h("button", { type: "submit" }, "Search"),
        h("button.ghost", { type: "button", onclick: createContact }, `Create contact from this ${noun}`)),
      results),
    h("form.crm-case", { onsubmit: (ev) => { ev.preventDefault(); createCase(); } },
      h("h4", "Create a case"), field("Subject", subject), field("Category id", category),
      h("button.primary", { type: "submit" }, "Create case")),
    h("form.crm-consult", { onsubmit: (ev) => { ev.preventDefault(); consult(); } },
      h("h4", "Consult existing case"), field("Existing case", caseId, "Paste the case's id from the CRM."),
      h("button", { type: "submit" }, "Consult case")));

  // The linked records, each a link to the CRM's page when it has one.
  async function showLinks(l) {
    const want = LINKS.filter(([k]) => l[k]);
    const key = want.map(([k]) => `${k}=${l[k]}`).join("&");
    if (key === links.key) return;
    links = { key };
    let urls = {};
    if (want.length) {
      try {
        urls = await api("GET", `/crm/links?${want.map(([k]) => `${k}=${encodeURIComponent(l[k])}`).join("&")}`);
      } catch (e) {
        urls = {};
      }
    }
    clear(linked, LINKS.map(([k, u, label]) => [h("dt", label),
      h("dd", { dataset: { crm: k } }, !l[k] ? "—" : urls[u]
        ? h("a.crm-link", { href: urls[u], target: "_blank", rel: "noopener noreferrer", title: l[k] }, labels.get(l[k]) || l[k])
        : labels.get(l[k]) || l[k])]));
  }

  async function run(what, fn) {
    try {
      const out = await fn();
      toast(what);
      onChanged();
      return out;
    } catch (e) {
      fail(e);
      return null;
    }
  }

  async function search() {
    const text = q.value.trim();
    if (text.length < 2) return toast("Type at least two characters.", "error");
    try {
      const r = await api("GET", `/crm/contacts?q=${encodeURIComponent(text)}`);
      clear(results, r.items.length ? r.items.map((c) => h("li.crm-contact",
        h("span.name", c.url ? h("a.crm-link", { href: c.url, target: "_blank", rel: "noopener noreferrer" }, c.name || c.id) : c.name || c.id),
        h("span.meta", [c.account_name, c.phone, c.email].filter(Boolean).join(" · ")),
        h("button", { type: "button", "aria-label": `Link ${c.name || c.id}`, onclick: () => link(c) }, "Link")))
        : h("li.empty", "No contact found."));
    } catch (e) {
      fail(e);
    }
  }

  function remember(c) {
    if (c && c.id && c.name) labels.set(c.id, c.name);
    if (c && c.account_id && c.account_name) labels.set(c.account_id, c.account_name);
    return c;
  }

  async function link(c) {
    remember(c);
    if (await run(`Linked to ${c.name || c.id}.`, () => api("POST", `${base}/contact`, { contact_id: c.id }))) clear(results);
  }

  async function createContact() {
    await run("Contact created and linked.", async () => remember(await api("POST", `${base}/contact`, { create: true })));
  }

  async function createCase() {
    const body = { subject: subject.value.trim() };
    if (!body.subject) return toast("A case needs a subject.", "error");
    if (category.value.trim()) body.category_id = category.value.trim();
    const r = await run("Case created.", async () => {
      const c = await api("POST", `${base}/case`, body);
      if (c.number) labels.set(c.case_id, c.number);
      return c;
    });
    if (r) subject.value = "", drafts.delete(`${base}#subject`);
  }

  async function consult() {
    const id = caseId.value.trim();
    if (!id) return toast("Paste the case's id.", "error");
    const r = await run("Consultation added to the case.", async () => {
      const c = await api("POST", `${base}/case`, { case_id: id });
      if (c.number) labels.set(c.case_id, c.number);
      return c;
    });
    if (r) caseId.value = "", drafts.delete(`${base}#case`);
  }

  return { el, render: (record) => showLinks((record && record.links) || {}) };
}

// --- administration ------------------------------------------------------------------------

const SECRETS = [["password", "has_password", "Password"], ["client_secret", "has_client_secret", "Client secret"],
  ["webhook_secret", "has_webhook_secret", "Webhook secret"], ["provisioning_token", "has_provisioning_token", "Provisioning token"]];
const TEXTS = [["url", "Creatio URL", "The site root, e.g. https://example.creatio.com"], ["odata_prefix", "OData prefix", "/0/odata or /odata"],
  ["user", "User (forms login)"], ["identity_url", "Identity URL (OAuth)"], ["client_id", "Client id (OAuth)"],
  ["ca_file", "CA file", "A CA bundle for a private CA; TLS is always verified."],
  ["ui_url", "Record links", "{object} and {id} are replaced, e.g. https://x.creatio.com/0/Nui/ViewModule.aspx#CardModuleV2/{object}PageV2/edit/{id}"],
  ["webhook_url", "Webhook URL", "Other CRMs: where signed events go."]];
const NUMBERS = [["phone_digits", "Phone digits matched", 3, 15], ["poll_s", "Provisioning poll (s)", 5, 86400], ["timeout_ms", "Request timeout (ms)", 100, 120000]];

export function crmSettingsPage(root) {
  const form = h("form.form", { onsubmit: (ev) => { ev.preventDefault(); save(); } });
  clear(root, h("section.panel.editor.wide", { "aria-labelledby": "crm-settings-title" },
    h("h1", { id: "crm-settings-title" }, "CRM settings"), form));
  const c = {};

  function render(s) {
    c.type = select([["none", "None"], ["creatio", "Creatio"], ["webhook", "Other CRM (signed webhook)"]], s.type || "none");
    c.auth = select([["forms", "Forms login (user and password)"], ["oauth", "OAuth 2.0 client credentials"]], s.auth || "forms");
    for (const [k] of TEXTS) c[k] = h("input", { value: s[k] || "", autocomplete: "off" });
    for (const [k, , min, max] of NUMBERS) c[k] = h("input", { type: "number", min, max, value: s[k] ?? "" });
    for (const [k, has] of SECRETS) {
      c[k] = h("input", { type: "password", autocomplete: "new-password", placeholder: s[has] ? "Set (leave empty to keep)" : "Not set" });
    }
    c.names = h("textarea", { rows: 5, value: (s.names || []).map((n) => `${n.key}=${n.value}`).join("\n") });
    clear(form,
      h("fieldset", h("legend", "CRM"), field("CRM type", c.type), field("Authentication", c.auth)),
      h("fieldset", h("legend", "Addresses"), TEXTS.map(([k, label, hint]) => field(label, c[k], hint))),
      h("fieldset", h("legend", "Credentials (write-only)"), SECRETS.map(([k, has, label]) =>
        field(label, c[k], s[has] ? "A value is stored; it is never shown." : null))),
      h("fieldset", h("legend", "Tuning"), NUMBERS.map(([k, label]) => field(label, c[k]))),
      h("fieldset", h("legend", "Object and field names"),
        field("Names", c.names, "One key=Value a line, e.g. case.category_default=<guid> (docs/crm.md lists the keys).")),
      h("div.row.actions", h("button.primary", { type: "submit" }, "Save")));
  }

  function body() {
    const b = { type: c.type.value, auth: c.auth.value };
    for (const [k] of TEXTS) if (c[k].value.trim()) b[k] = c[k].value.trim();
    for (const [k] of NUMBERS) if (c[k].value !== "") b[k] = Number(c[k].value);
    for (const [k] of SECRETS) if (c[k].value) b[k] = c[k].value;
    b.names = c.names.value.split("\n").map((l) => l.trim()).filter(Boolean).map((l) => {
      const i = l.indexOf("=");
      if (i < 1) throw new Error(`Names: "${l}" is not key=Value.`);
      return { key: l.slice(0, i).trim(), value: l.slice(i + 1).trim() };
    });
    return b;
  }

  async function save() {
    try {
      render(await api("PUT", "/crm/settings", body()));
      toast("CRM settings saved.");
    } catch (e) {
      fail(e);
    }
  }

  api("GET", "/crm/settings").then(render, fail);
}

export function crmStatusPage(root) {
  const facts = h("dl.profile-list.crm-status");
  const tbody = h("tbody");
  const retry = h("button.primary", { type: "button", onclick: doRetry }, "Retry failed records");
  clear(root, h("section.panel.wide", { "aria-labelledby": "crm-status-title" },
    h("div.panel-head", h("h1", { id: "crm-status-title" }, "CRM sync"), retry), facts,
    h("h2", "Failures"),
    h("table.crm-failures", h("thead", h("tr", ["Kind", "Id", "Reason", "At"].map((t) => h("th", { scope: "col" }, t)))), tbody)));

  function render(s) {
    clear(facts, [["CRM", s.type], ["Last success", when(s.last_success_at)], ["Backlog", String(s.backlog ?? 0)],
      ["Records written", String(s.records_written ?? 0)], ["Agents applied", String(s.agents_applied ?? 0)],
      ["Last error", s.last_error ? `${s.last_error} (${when(s.last_error_at)})` : "—"], ["Last reconcile", when(s.last_reconcile_at)],
    ].map(([k, v]) => [h("dt", k), h("dd", { dataset: { field: k } }, v || "—")]));
    const f = s.failures || [];
    clear(tbody, f.length ? f.map((x) => h("tr", h("td", x.kind), h("td", x.id), h("td", x.reason), h("td", when(x.at))))
      : h("tr", h("td.empty", { colspan: 4 }, "No failures.")));
    retry.disabled = !f.length;
  }

  async function doRetry() {
    try {
      render(await api("POST", "/crm/status/retry", {}));
      toast("Failed records queued again.");
      setTimeout(load, 1500);
    } catch (e) {
      fail(e);
    }
  }

  function load() {
    api("GET", "/crm/status").then(render, fail);
  }
  load();
}
