// ui.js - small DOM helpers shared by the views: an element builder, the
// running timers, notices, the confirmation dialog and labelled fields.

// h("button.primary", {onclick}, "Send") -> <button class="primary">Send</button>
export function h(tag, attrs, ...children) {
  const [name, ...classes] = tag.split(".");
  const el = document.createElement(name || "div");
  if (classes.length) el.className = classes.join(" ");
  if (attrs && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "value" || k === "checked" || k === "selected") el[k] = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let uid = 0;
export function id(prefix = "f") {
  return `${prefix}-${++uid}`;
}

// A labelled control: field("Login", h("input", {...})).
export function field(label, control, hint) {
  if (!control.id) control.id = id();
  const hintEl = hint ? h("small.hint", { id: control.id + "-hint" }, hint) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return h("div.field", h("label", { for: control.id }, label), control, hintEl);
}

export function check(label, control) {
  if (!control.id) control.id = id();
  return h("div.field.check", control, h("label", { for: control.id }, label));
}

export function select(options, value, attrs = {}) {
  const s = h("select", attrs);
  for (const o of options) {
    const [v, text] = Array.isArray(o) ? o : [o, o];
    s.append(h("option", { value: v }, text));
  }
  if (value !== undefined && value !== null) s.value = value;
  return s;
}

// --- time -------------------------------------------------------------------------

export function clock(seconds) {
  seconds = Math.max(0, Math.floor(seconds));
  const hh = Math.floor(seconds / 3600);
  const mm = String(Math.floor((seconds % 3600) / 60)).padStart(2, "0");
  const ss = String(seconds % 60).padStart(2, "0");
  return hh ? `${hh}:${mm}:${ss}` : `${mm}:${ss}`;
}

export function when(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleString([], { dateStyle: "short", timeStyle: "medium" });
}

// Elements with data-since (ISO) show the time since; data-until the time
// left ("25 s"); both are refreshed every second by one timer.
export function since(iso) {
  return h("span.timer", { dataset: { since: iso || "" } }, iso ? clock((Date.now() - Date.parse(iso)) / 1000) : "");
}

export function until(iso) {
  const el = h("span.timer", { dataset: { until: iso || "" } });
  tickOne(el);
  return el;
}

// The time left to `iso` as a clock ("04:59"), counting down to 00:00.
export function countdown(iso) {
  const el = h("span.timer.countdown", { dataset: { until: iso || "", clock: "1" } });
  tickOne(el);
  return el;
}

function tickOne(el) {
  if (el.dataset.since) {
    el.textContent = clock((Date.now() - Date.parse(el.dataset.since)) / 1000);
  } else if (el.dataset.until) {
    const left = Math.max(0, Math.ceil((Date.parse(el.dataset.until) - Date.now()) / 1000));
    el.textContent = el.dataset.clock ? clock(left) : `${left} s`;
    el.classList.toggle("urgent", left <= 10);
  }
}

setInterval(() => document.querySelectorAll("[data-since],[data-until]").forEach(tickOne), 1000);

// --- notices and confirmation ---------------------------------------------------------

let toastTimer = null;
export function toast(text, kind = "info") {
  const t = document.getElementById("toast");
  t.textContent = text;
  t.className = `toast show ${kind}`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (t.className = "toast"), kind === "error" ? 6000 : 3000);
}

export function fail(e) {
  toast(e && e.message ? e.message : String(e), "error");
}

// Resolves true when the user answers Yes.
export function confirmDialog(text) {
  const d = document.getElementById("confirm");
  document.getElementById("confirm-text").textContent = text;
  d.returnValue = "";
  return new Promise((resolve) => {
    d.addEventListener("close", () => resolve(d.returnValue === "yes"), { once: true });
    d.showModal();
    d.querySelector("button[value=yes]").focus();
  });
}

// --- labels -----------------------------------------------------------------------------

export const STATUS = { offline: "Offline", dnd: "DnD", ready: "Ready", callcenter: "Callcenter" };
export const STATE = {
  waiting: "Waiting",
  pause: "Pause",
  offering: "Offering",
  busy: "Busy",
  post_processing: "Post-processing",
  missed: "Missed",
};
export const CHAT_STATE = { new: "New", in_progress: "In progress", completed: "Completed" };
export const SOURCE = {
  telegram: "Telegram",
  viber: "Viber",
  infobip_whatsapp: "WhatsApp (Infobip)",
  whatsapp_cloud: "WhatsApp",
  messenger: "Messenger",
  webchat: "Web chat",
};

// --- customers: names, avatars, sources --------------------------------------------------

// Raw ids (wcs_…, chn_…, cht_…) and the like are never shown as a name.
const RAW_ID = /^[a-z]{2,5}_[0-9a-z]{6,}$/i;
const PHONE = /^\+?[0-9][0-9 ()./-]{5,}$/;

// A stable 4-digit number for an id ("Web visitor 4821").
function fourDigits(s) {
  let x = 0;
  for (const ch of String(s || "")) x = (x * 31 + ch.codePointAt(0)) >>> 0;
  return String(x % 10000).padStart(4, "0");
}

// A customer's display name from a chat, a call or an offer's customer:
// their name; else their phone; else "<source> visitor NNNN" (the number
// from their id, the same every time).
export function customerName(c) {
  const name = (c.name || "").trim();
  if (name && !RAW_ID.test(name)) return name;
  for (const p of [c.phone, c.from]) if (p && PHONE.test(String(p).trim())) return String(p).trim();
  const key = c.from || c.customer_id || c.id || name;
  const who = c.source === "webchat" || !c.source ? "Web visitor" : `${SOURCE[c.source] || "Chat"} customer`;
  return `${who} ${fourDigits(key)}`;
}

// Up to two initials ("Łucja Kowalska" -> "ŁK"; a phone -> "#").
export function initials(name) {
  const n = (name || "").trim();
  if (!n) return "?";
  if (PHONE.test(n)) return "#";
  const words = n.split(/\s+/).filter((w) => /\p{L}/u.test(w[0]));
  const pick = words.length ? [words[0], words.length > 1 ? words[words.length - 1] : null] : [n];
  return pick.filter(Boolean).map((w) => [...w][0].toUpperCase()).join("");
}

// A round badge with the initials, its colour from the name (decorative:
// the name is always written beside it).
export function avatar(name) {
  return h("span.avatar", { class: `avatar c${Number(fourDigits(name)) % 8}`, "aria-hidden": "true" }, initials(name));
}

const SOURCE_SHORT = { telegram: "TG", viber: "VB", infobip_whatsapp: "WA", whatsapp_cloud: "WA", messenger: "FB", webchat: "WEB" };

// The channel's small mark, named for screen readers.
export function sourceIcon(source) {
  return h("span.src-icon", { class: `src-icon src-${source || "none"}`, role: "img", "aria-label": SOURCE[source] || source || "Chat",
    title: SOURCE[source] || source || "" }, SOURCE_SHORT[source] || "•");
}

// A list's time: the clock today, the date before.
export function shortTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (isNaN(d)) return "";
  const today = new Date();
  return d.toDateString() === today.toDateString()
    ? d.toLocaleTimeString([], { timeStyle: "short" })
    : d.toLocaleDateString([], { day: "numeric", month: "short" });
}
