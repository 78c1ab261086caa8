// reports.js - the Reports page (#/reports, supervisors and admins): the
// queue report per interval with totals and three charts (service level,
// calls, waiting) drawn as inline SVG, the agent report per day, CSV
// downloads, all in the organisation's time zone; and the administrator's
// time zone setting (Administration > Time zone).
import { api, token, signOut } from "./api.js";
import { h, clear, field, check, select, clock, toast, fail } from "./ui.js";

const INTERVALS = [["15m", "15 minutes"], ["hour", "Hour"], ["day", "Day"]];
const STATES = [["ready", "Ready"], ["dnd", "DnD"], ["waiting", "Waiting"], ["offering", "Offering"],
  ["busy", "Busy"], ["post_processing", "Post-processing"], ["missed", "Missed"], ["pause", "Pause"]];
const COUNTS = ["offered", "answered", "abandoned", "timed_out", "answered_within", "callbacks"];

// --- numbers as shown (the tests format the JSON the same way) --------------------------------

// Seconds: "2.5 s" under a minute, else "m:ss" / "h:mm:ss".
export function secs(s) {
  if (!s) return "0.0 s";
  return s < 60 ? `${s.toFixed(1)} s` : clock(Math.round(s));
}

function percent(within, offered) {
  return offered ? `${Math.round((100 * within) / offered)} %` : "—";
}

// "2024-05-01T14:00:00+02:00" -> its parts.
function localParts(iso) {
  return { date: iso.slice(0, 10), time: iso.slice(11, 16), offset: iso.slice(19) };
}

// The label of each row's interval: the time of day (with the date when the
// range spans days, the date alone for days); the offset is added where a
// label repeats (the hour the clocks go back).
function intervalLabels(starts, interval) {
  const parts = starts.map(localParts);
  const days = new Set(parts.map((p) => p.date)).size;
  const labels = parts.map((p) => (interval === "day" ? p.date : days > 1 ? `${p.date.slice(5)} ${p.time}` : p.time));
  const seen = new Map();
  for (const l of labels) seen.set(l, (seen.get(l) || 0) + 1);
  return labels.map((l, i) => (seen.get(l) > 1 ? `${l} (${parts[i].offset})` : l));
}

// Today in `tz` as YYYY-MM-DD (null when the browser does not know the zone).
function todayIn(tz) {
  try {
    return new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" })
      .format(new Date());
  } catch (e) {
    return null;
  }
}

// --- sums ---------------------------------------------------------------------------------

// The figures of several rows as one: counts added, ASA and AHT weighted by
// the answered calls, the longest wait the longest.
function sum(rows) {
  const t = { offered: 0, answered: 0, abandoned: 0, timed_out: 0, answered_within: 0, callbacks: 0,
    wait: 0, handle: 0, longest_wait_s: 0 };
  for (const r of rows) {
    for (const k of COUNTS) t[k] += r[k] || 0;
    t.wait += (r.asa_s || 0) * (r.answered || 0);
    t.handle += (r.aht_s || 0) * (r.answered || 0);
    t.longest_wait_s = Math.max(t.longest_wait_s, r.longest_wait_s || 0);
  }
  t.asa_s = t.answered ? t.wait / t.answered : 0;
  t.aht_s = t.answered ? t.handle / t.answered : 0;
  return t;
}

const quiet = (r) => !r.offered && !r.answered && !r.abandoned && !r.timed_out && !r.callbacks;

// --- the page -----------------------------------------------------------------------------

export function reportsView(root, me) {
  document.title = "Reports · Contact center";
  let queueRep = null; // the last answers
  let agentRep = null;
  let shown = null; // the parameters they were read with
  let stopped = false;

  const from = h("input", { type: "date", id: "rep-from", required: true });
  const to = h("input", { type: "date", id: "rep-to", required: true });
  const interval = select(INTERVALS, "hour", { id: "rep-interval" });
  const queue = select([["", "All queues"]], "", { id: "rep-queue" });
  const empty = h("input", { type: "checkbox", id: "rep-empty", onchange: () => renderQueues() });
  const tz = h("span.tz", { id: "rep-tz" });
  const run = h("button.primary", { type: "submit" }, "Show");
  const charts = h("div.charts", { id: "rep-charts" });
  const queueBody = h("div", { id: "rep-queues" });
  const agentBody = h("div", { id: "rep-agents" });
  const queueCsv = h("button", { type: "button", disabled: true, onclick: () => download("queues") }, "Download queues CSV");
  const agentCsv = h("button", { type: "button", disabled: true, onclick: () => download("agents") }, "Download agents CSV");

  clear(root, h("div.reports",
    h("section.panel", { "aria-labelledby": "rep-title" },
      h("div.panel-head", h("h1", { id: "rep-title" }, "Reports"), tz),
      h("form.row.rep-form", { onsubmit: (ev) => { ev.preventDefault(); load(); } },
        field("From", from), field("To", to), field("Interval", interval), field("Queue", queue),
        run, check("Show intervals without calls", empty))),
    h("section.panel", { "aria-labelledby": "rep-charts-title" },
      h("h2", { id: "rep-charts-title" }, "Over the day"), charts),
    h("section.panel", { "aria-labelledby": "rep-queues-title" },
      h("div.panel-head", h("h2", { id: "rep-queues-title" }, "Queues"), queueCsv), queueBody),
    h("section.panel", { "aria-labelledby": "rep-agents-title" },
      h("div.panel-head", h("h2", { id: "rep-agents-title" }, "Agents per day"), agentCsv), agentBody)));

  function params(kind) {
    const p = new URLSearchParams();
    if (from.value && to.value) {
      p.set("from", from.value);
      p.set("to", to.value);
    }
    if (kind === "queues") {
      p.set("interval", interval.value);
      if (queue.value) p.set("queue_id", queue.value);
    }
    return p.toString();
  }

  async function load() {
    if (from.value && to.value && from.value > to.value) return fail("From must not be after To.");
    run.disabled = true;
    try {
      // every queue is read: the queue list and the charts' choice come from it
      const q = new URLSearchParams(params("queues"));
      q.delete("queue_id");
      const [qr, ar] = await Promise.all([api("GET", `/reports/queues?${q}`), api("GET", `/reports/agents?${params("agents")}`)]);
      if (stopped) return;
      queueRep = qr;
      agentRep = ar;
      shown = { interval: interval.value };
      if (!from.value || !to.value) {
        const today = todayIn(qr.time_zone) || (qr.items[0] ? qr.items[0].local_start.slice(0, 10) : "");
        from.value = to.value = today;
      }
      tz.textContent = `Times in ${qr.time_zone} (the organisation's time zone)`;
      tz.dataset.tz = qr.time_zone;
      fillQueueChoice();
      renderQueues();
      renderAgents();
      queueCsv.disabled = agentCsv.disabled = false;
    } catch (e) {
      fail(e);
    } finally {
      run.disabled = false;
    }
  }

  function fillQueueChoice() {
    const names = new Map(queueRep.items.map((r) => [r.queue_id, r.queue_name || r.queue_id]));
    const keep = queue.value;
    clear(queue, h("option", { value: "" }, "All queues"),
      [...names].sort((a, b) => a[1].localeCompare(b[1])).map(([id, name]) => h("option", { value: id }, name)));
    queue.value = names.has(keep) ? keep : "";
  }

  // The rows of the chosen queue(s), grouped by queue in the answer's order.
  function byQueue() {
    const groups = new Map();
    for (const r of queueRep.items) {
      if (queue.value && r.queue_id !== queue.value) continue;
      if (!groups.has(r.queue_id)) groups.set(r.queue_id, []);
      groups.get(r.queue_id).push(r);
    }
    return groups;
  }

  function renderQueues() {
    if (!queueRep) return;
    const groups = byQueue();
    const labels = new Map();
    for (const rows of groups.values()) {
      intervalLabels(rows.map((r) => r.local_start), shown.interval).forEach((l, i) => labels.set(rows[i], l));
    }
    const body = h("tbody");
    for (const [id, rows] of groups) {
      const name = rows[0].queue_name || id;
      for (const r of rows) if (empty.checked || !quiet(r)) body.append(queueRow(r, name, labels.get(r)));
      body.append(queueRow({ ...sum(rows), queue_id: id }, name, "Total", "total"));
    }
    if (groups.size > 1) body.append(queueRow(sum([...groups.values()].flat()), "All queues", "Total", "grand"));
    const head = ["Queue", "Interval", "Offered", "Answered", "Abandoned", "Timed out", "Service level", "ASA", "AHT",
      "Longest wait", "Callbacks"];
    clear(queueBody, groups.size
      ? h("div.scroll", h("table.grid.report", { id: "queue-report", dataset: { interval: shown.interval } },
        h("caption.visually-hidden", "Queues per interval"),
        h("thead", h("tr", head.map((t, i) => h("th", { scope: "col", class: i < 2 ? "text" : null }, t)))), body))
      : h("p.empty", "No queues in this report."));
    renderCharts([...groups.values()]);
  }

  function queueRow(r, name, label, kind) {
    const sl = r.service_level_s ? ` within ${r.service_level_s} s` : "";
    const cell = (k, text, title) => h("td.num", { dataset: { k }, title }, text);
    return h("tr", { class: kind || null, dataset: { queue: r.queue_id || "", start: r.start || "", kind: kind || "interval" } },
      h("th", { scope: "row" }, name), h("td", label),
      cell("offered", String(r.offered)), cell("answered", String(r.answered)), cell("abandoned", String(r.abandoned)),
      cell("timed_out", String(r.timed_out)),
      cell("service_level", percent(r.answered_within, r.offered), `${r.answered_within} of ${r.offered} answered${sl}`),
      cell("asa", secs(r.asa_s)), cell("aht", secs(r.aht_s)), cell("longest_wait", secs(r.longest_wait_s)),
      cell("callbacks", String(r.callbacks)));
  }

  // One point per interval over the chosen queues.
  function renderCharts(groups) {
    if (!groups.length) return clear(charts, h("p.empty", "No queues to draw."));
    const n = groups[0].length;
    const points = [];
    for (let i = 0; i < n; i++) points.push(sum(groups.map((rows) => rows[i]).filter(Boolean)));
    const labels = intervalLabels(groups[0].map((r) => r.local_start), shown.interval);
    const sl = points.map((p) => (p.offered ? (100 * p.answered_within) / p.offered : null));
    clear(charts,
      chart({ id: "chart-sl", title: "Service level", labels, max: 100, unit: "%",
        line: { label: "Answered within the service level", cls: "sl", values: sl } }),
      chart({ id: "chart-calls", title: "Calls offered", labels, unit: "calls", stacked: true, bars: [
        { label: "Answered", cls: "answered", values: points.map((p) => p.answered) },
        { label: "Abandoned", cls: "abandoned", values: points.map((p) => p.abandoned) },
        { label: "Timed out", cls: "timed-out", values: points.map((p) => p.timed_out) },
        { label: "Waiting or ringing", cls: "open", values: points.map((p) => Math.max(0, p.offered - p.answered - p.abandoned - p.timed_out)) },
      ] }),
      chart({ id: "chart-wait", title: "Waiting", labels, unit: "s", bars: [
        { label: "Longest wait", cls: "longest", values: points.map((p) => p.longest_wait_s) }],
      line: { label: "Average speed of answer", cls: "asa", values: points.map((p) => (p.answered ? p.asa_s : null)) } }));
  }

  function renderAgents() {
    const head = ["Agent", "Day", ...STATES.map(([, l]) => l), "Handled", "AHT", "Missed offers", "Pauses by cause"];
    const rows = agentRep.items.map((a) => {
      const t = Object.fromEntries((a.time_in || []).map((x) => [x.name, x.seconds]));
      const pauses = (a.pauses || []).map((p) => h("span", { class: p.over_limit ? "cause over" : "cause",
        dataset: { cause: p.pause_cause_id } },
      `${p.name || p.pause_cause_id} ${clock(p.seconds)}`, p.limit_s ? ` / ${clock(p.limit_s)}` : "",
      p.over_limit ? " over the limit" : ""));
      return h("tr", { dataset: { agent: a.agent_id, day: a.day }, class: a.deleted ? "deleted" : null },
        h("th", { scope: "row" }, a.deleted ? h("em", a.name) : a.name,
          a.archived ? [" ", h("span.pill.archived", "archived")] : null),
        h("td", a.day),
        STATES.map(([k]) => h("td.num", { dataset: { k } }, clock(t[k] || 0))),
        h("td.num", { dataset: { k: "handled" } }, String(a.handled)),
        h("td.num", { dataset: { k: "aht" } }, secs(a.aht_s)),
        h("td.num", { dataset: { k: "missed_offers" } }, String(a.missed)),
        h("td.pauses", pauses.length ? pauses : "—"));
    });
    clear(agentBody, rows.length
      ? h("div.scroll", h("table.grid.report", { id: "agent-report" },
        h("caption.visually-hidden", "Agents per day: time in each state, handled interactions, pauses"),
        h("thead", h("tr", head.map((t, i) => h("th", { scope: "col", class: i < 2 || i === head.length - 1 ? "text" : null }, t)))),
        h("tbody", rows)))
      : h("p.empty", "No agents in this report."));
  }

  // The CSV of the report shown, saved through a Blob link (the token goes
  // in a header, so a plain link to the API would be refused).
  async function download(kind) {
    const name = `${kind}-${from.value}_${to.value}${kind === "queues" ? `-${interval.value}` : ""}.csv`;
    try {
      const r = await fetch(`/api/v1/reports/${kind}?${params(kind)}`,
        { headers: { Authorization: "Bearer " + token(), Accept: "text/csv" } });
      if (r.status === 401) return signOut("Your session has ended. Please sign in again.", false);
      if (!r.ok) {
        const e = await r.json().catch(() => null);
        throw new Error((e && e.error && e.error.message) || r.statusText);
      }
      const url = URL.createObjectURL(await r.blob());
      const a = h("a", { href: url, download: name, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      toast(`Saved ${name}.`);
    } catch (e) {
      fail(e);
    }
  }

  interval.addEventListener("change", load);
  queue.addEventListener("change", () => renderQueues());
  load();
  return () => {
    stopped = true;
  };
}

// --- charts: inline SVG built with DOM calls (no inline style: CSP) ----------------------------

const NS = "http://www.w3.org/2000/svg";
const W = 460;
const H = 190;
const M = { left: 40, right: 8, top: 10, bottom: 24 };

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) el.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}

// The y axis's step (1, 2 or 5 × 10^n, whole for counts) and top: at most
// four steps up to the highest value.
function yScale(top, whole) {
  if (top <= 0) return { step: whole ? 1 : 0.5, max: whole ? 4 : 2 };
  const raw = top / 4;
  const p = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 5, 10].map((m) => m * p).find((x) => x >= raw);
  if (whole) step = Math.max(1, Math.round(step));
  return { step, max: step * Math.ceil(top / step) };
}

const fmtTick = (v) => (Number.isInteger(v) ? String(v) : String(Math.round(v * 10) / 10));

// opts: id, title, labels, unit, max (else from the data), stacked, bars
// [{label, cls, values}], line {label, cls, values (null: no point)}.
function chart(opts) {
  const bars = opts.bars || [];
  const n = opts.labels.length;
  const tops = opts.labels.map((_, i) => {
    const b = bars.map((s) => s.values[i] || 0);
    const l = opts.line ? opts.line.values[i] || 0 : 0;
    return Math.max(opts.stacked ? b.reduce((x, y) => x + y, 0) : Math.max(0, ...b), l);
  });
  const { step: yStep, max } = opts.max ? { step: opts.max / 4, max: opts.max } : yScale(Math.max(0, ...tops), opts.unit === "calls");
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const step = pw / Math.max(1, n);
  const x = (i) => M.left + i * step;
  const y = (v) => M.top + ph - (ph * Math.min(v, max)) / max;
  const titleId = `${opts.id}-title`;
  const g = svg("svg", { id: opts.id, class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": titleId,
    preserveAspectRatio: "xMidYMid meet" }, svg("title", { id: titleId }, `${opts.title} per interval`));
  for (let v = 0; v <= max + yStep / 2; v += yStep) { // grid and y ticks
    g.append(svg("line", { class: "grid-line", x1: M.left, x2: W - M.right, y1: y(v), y2: y(v) }),
      svg("text", { class: "tick", x: M.left - 4, y: y(v) + 3, "text-anchor": "end" }, fmtTick(v)));
  }
  const every = Math.max(1, Math.ceil(n / 8));
  opts.labels.forEach((l, i) => {
    if (i % every) return;
    g.append(svg("text", { class: "tick", x: x(i) + step / 2, y: H - 8, "text-anchor": "middle" }, l.replace(/ \(.*\)$/, "")));
  });
  bars.forEach((s, k) => drawBars(g, s, k, { ...opts, n, step, x, y }));
  if (opts.line) drawLine(g, opts.line, { ...opts, step, x, y });
  const legend = [...bars, opts.line].filter(Boolean).map((s) =>
    h("li", svg("svg", { class: "key", viewBox: "0 0 10 10", "aria-hidden": "true" },
      svg("rect", { class: `swatch ${s.cls}`, width: 10, height: 10 })), s.label));
  return h("figure.chart-box", h("figcaption", h("strong", opts.title), ` (${opts.unit})`), g, h("ul.legend", legend));
}

function drawBars(g, s, k, o) {
  const many = o.bars.length > 1 && !o.stacked;
  const w = Math.max(1, (o.step * 0.8) / (many ? o.bars.length : 1));
  s.values.forEach((v, i) => {
    if (!v) return;
    const below = o.stacked ? o.bars.slice(0, k).reduce((t, b) => t + (b.values[i] || 0), 0) : 0;
    const left = o.x(i) + o.step * 0.1 + (many ? k * w : 0);
    const top = o.y(below + v);
    g.append(svg("rect", { class: `bar ${s.cls}`, x: left, y: top, width: w, height: Math.max(0.5, o.y(below) - top),
      "data-i": i, "data-v": v }, svg("title", null, `${o.labels[i]}: ${s.label.toLowerCase()} ${fmtTick(v)}${o.unit === "calls" ? "" : ` ${o.unit}`}`)));
  });
}

// A line through the points that exist (a gap where there is none), with a dot on each.
function drawLine(g, s, o) {
  let d = "";
  let pen = false;
  s.values.forEach((v, i) => {
    if (v === null || v === undefined) {
      pen = false;
      return;
    }
    d += `${pen ? "L" : "M"}${(o.x(i) + o.step / 2).toFixed(1)} ${o.y(v).toFixed(1)} `;
    pen = true;
  });
  if (d) g.append(svg("path", { class: `line ${s.cls}`, d: d.trim() }));
  s.values.forEach((v, i) => {
    if (v === null || v === undefined) return;
    g.append(svg("circle", { class: `dot ${s.cls}`, cx: o.x(i) + o.step / 2, cy: o.y(v), r: 3.5, "data-i": i, "data-v": v },
      svg("title", null, `${o.labels[i]}: ${s.label.toLowerCase()} ${Math.round(v * 10) / 10} ${o.unit}`)));
  });
}

// --- Administration > Time zone (organisation.time_zone) --------------------------------------

const ZONES = ["UTC", "Europe/London", "Europe/Dublin", "Europe/Lisbon", "Europe/Paris", "Europe/Berlin",
  "Europe/Madrid", "Europe/Rome", "Europe/Amsterdam", "Europe/Brussels", "Europe/Vienna", "Europe/Zurich",
  "Europe/Stockholm", "Europe/Copenhagen", "Europe/Oslo", "Europe/Helsinki", "Europe/Warsaw", "Europe/Prague",
  "Europe/Budapest", "Europe/Bucharest", "Europe/Sofia", "Europe/Athens", "Europe/Kyiv", "Europe/Vilnius",
  "Europe/Riga", "Europe/Tallinn", "Europe/Istanbul", "Europe/Moscow", "Africa/Cairo", "Africa/Johannesburg",
  "Africa/Lagos", "Africa/Nairobi", "Asia/Dubai", "Asia/Karachi", "Asia/Kolkata", "Asia/Bangkok", "Asia/Singapore",
  "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Tokyo", "Asia/Seoul", "Australia/Perth", "Australia/Sydney",
  "Pacific/Auckland", "America/Sao_Paulo", "America/Argentina/Buenos_Aires", "America/Mexico_City",
  "America/Bogota", "America/New_York", "America/Toronto", "America/Chicago", "America/Denver",
  "America/Phoenix", "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu"];
const OTHER = "other";

export function timeZonePage(root) {
  document.title = "Time zone · Administration";
  const choice = select([...ZONES, [OTHER, "Other…"]], "UTC", { id: "tz-choice" });
  const other = h("input", { id: "tz-other", autocomplete: "off", placeholder: "Area/City", spellcheck: "false" });
  const otherField = field("Other time zone (IANA name)", other, "For example Asia/Kathmandu or America/Halifax.");
  const now = h("p.hint", { id: "tz-now", "aria-live": "polite" });
  const current = h("p", { id: "tz-current" });
  const save = h("button.primary", { type: "submit", disabled: true }, "Save");
  const form = h("form.form", { onsubmit: (ev) => { ev.preventDefault(); store(); } },
    current, field("Time zone", choice, "Reports' days and hours start at this zone's midnight and full hours."),
    otherField, now, h("div.row.actions", save));
  clear(root, h("section.panel.editor.wide", { "aria-labelledby": "tz-title" },
    h("h1", { id: "tz-title" }, "Time zone"), form));

  const wanted = () => (choice.value === OTHER ? other.value.trim() : choice.value);

  // The time there now, or null for a name the browser's zone database lacks.
  function timeIn(z) {
    try {
      return new Intl.DateTimeFormat([], { timeZone: z, dateStyle: "medium", timeStyle: "short" }).format(new Date());
    } catch (e) {
      return null;
    }
  }

  function preview() {
    otherField.hidden = choice.value !== OTHER;
    other.required = choice.value === OTHER;
    const z = wanted();
    const t = z ? timeIn(z) : null;
    clear(now, !z ? "" : t ? `Now in ${z}: ${t}.` : `${z} is not a known time zone.`);
  }

  function show(p) {
    const z = (p.organisation && p.organisation.time_zone) || "UTC";
    clear(current, "The organisation's time zone: ", h("strong", z), ".");
    current.dataset.tz = z;
    choice.value = ZONES.includes(z) ? z : OTHER;
    other.value = ZONES.includes(z) ? "" : z;
    preview();
    save.disabled = false;
  }

  // Read the settings again, change the zone only, write them all back:
  // PUT replaces the whole record, so the switches must travel with it.
  async function store() {
    const z = wanted();
    if (!z) return fail("Type a time zone.");
    // the server checks again against its own tzdata
    if (!timeIn(z)) return fail(`${z} is not a known time zone (an IANA name such as Asia/Kathmandu).`);
    save.disabled = true;
    try {
      const p = await api("GET", "/settings/permissions");
      p.organisation = { ...(p.organisation || {}), time_zone: z };
      show(await api("PUT", "/settings/permissions", p));
      toast(`Time zone saved: ${z}.`);
    } catch (e) {
      fail(e);
    } finally {
      save.disabled = false;
    }
  }

  choice.addEventListener("change", preview);
  other.addEventListener("input", preview);
  api("GET", "/settings/permissions").then(show, fail);
  return null;
}
