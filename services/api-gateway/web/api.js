// api.js - the desktop's only link to api-gateway: the session (token kept
// in sessionStorage), JSON requests with the bearer token, event streams
// (EventSource with ?token=) and the idle sign-out.

const KEY = "cc.session";
const NOTICE = "cc.notice";

let session = load();
let lastActivity = Date.now();
let lastRequest = Date.now();
let onSignedOut = () => {};
const streams = new Set();

function load() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY)) || null;
  } catch (e) {
    return null;
  }
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || "request failed");
    this.status = status;
    this.code = code;
  }
}

export function me() {
  return session && session.user;
}

export function token() {
  return session && session.token;
}

// Called with the notice once the session ends (sign-out, idle, 401).
export function whenSignedOut(fn) {
  onSignedOut = fn;
}

export function takeNotice() {
  const n = sessionStorage.getItem(NOTICE);
  sessionStorage.removeItem(NOTICE);
  return n;
}

export async function signIn(login, password) {
  const r = await fetch("/api/v1/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ login, password }),
  });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) {
    const e = body.error || {};
    throw new ApiError(r.status, e.code, r.status === 401 ? "Wrong login or password." : e.message);
  }
  session = { token: body.token, user: body.user, idle: body.idle_timeout_s || 0 };
  sessionStorage.setItem(KEY, JSON.stringify(session));
  lastActivity = lastRequest = Date.now();
  return session.user;
}

// Ends the session here; `revoke` also asks the server (skipped when the
// server has surely expired it already, so no request fails needlessly).
export async function signOut(notice, revoke = true) {
  if (!session) return;
  const t = session.token;
  session = null;
  sessionStorage.removeItem(KEY);
  for (const s of [...streams]) s.close();
  if (notice) sessionStorage.setItem(NOTICE, notice);
  if (revoke) {
    await fetch("/api/v1/auth/logout", {
      method: "POST",
      headers: { Authorization: "Bearer " + t, "Content-Type": "application/json" },
      body: "{}",
    }).catch(() => {});
  }
  onSignedOut(notice);
}

// A JSON request; resolves to the answer's body (null for 204), rejects
// with ApiError. A 401 ends the session.
export async function api(method, path, body, raw) {
  if (!session) throw new ApiError(401, "unauthorized", "Not signed in.");
  const headers = { Authorization: "Bearer " + session.token };
  const init = { method, headers };
  if (raw !== undefined) {
    init.body = raw;
    headers["Content-Type"] = "application/octet-stream";
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  let r;
  try {
    r = await fetch("/api/v1" + path, init);
  } catch (e) {
    throw new ApiError(0, "unavailable", "The server cannot be reached.");
  }
  if (r.status === 401) {
    signOut("Your session has ended. Please sign in again.", false);
    throw new ApiError(401, "unauthorized", "Your session has ended.");
  }
  lastRequest = Date.now();
  if (r.status === 204) return null;
  const data = await r.json().catch(() => null);
  if (!r.ok) {
    const e = (data && data.error) || {};
    throw new ApiError(r.status, e.code, e.message || r.statusText);
  }
  return data;
}

// Runs `fn` (a request) again while it fails with 503 or no answer (a
// dependency restarting), up to `tries` times with a growing pause; for
// requests that are safe to repeat (End chat). Rejects with the last error.
export async function retrying(fn, tries = 4) {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i >= tries || (e.status !== 0 && e.status !== 503)) throw e;
      await new Promise((r) => setTimeout(r, 500 * 2 ** (i - 1)));
    }
  }
}

// Every page of a list.
export async function list(path) {
  const items = [];
  let cursor = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const q = cursor ? `${sep}limit=500&cursor=${encodeURIComponent(cursor)}` : `${sep}limit=500`;
    const page = await api("GET", path + q);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

// An event stream of /api/v1<path>: handlers by event name, plus `open`
// (also after each reconnection: read the state again) and `down` (the
// stream broke; it is opened again). Returns {close}.
export function events(path, handlers) {
  let es = null;
  let timer = null;
  let closed = false;
  const stream = {
    close() {
      closed = true;
      clearTimeout(timer);
      if (es) es.close();
      streams.delete(stream);
    },
  };
  // The browser reconnects by itself after a network error, but not after a
  // refusal: then check the session (a 401 signs out) and open it again.
  const retry = () => {
    timer = setTimeout(() => {
      if (closed || !session) return;
      api("GET", "/me/status").then(open, (e) => e.status !== 401 && retry());
    }, 2000);
  };
  const open = () => {
    if (closed || !session) return;
    es = new EventSource(`/api/v1${path}?token=${encodeURIComponent(session.token)}`);
    es.addEventListener("open", () => handlers.open && handlers.open());
    for (const [name, fn] of Object.entries(handlers)) {
      if (name === "open" || name === "down") continue;
      es.addEventListener(name, (ev) => {
        let data = null;
        try {
          data = JSON.parse(ev.data);
        } catch (e) {
          return;
        }
        fn(data);
      });
    }
    es.addEventListener("error", () => {
      if (handlers.down) handlers.down();
      if (es.readyState === EventSource.CLOSED) retry();
    });
  };
  streams.add(stream);
  open();
  return stream;
}

// Idle sign-out: after the user's idle_timeout_s without input the desktop
// signs out locally. Input also renews the server's session now and then,
// so that the server's idle timer follows the person, not the page.
function activity() {
  lastActivity = Date.now();
  if (!session || !session.idle) return;
  const every = Math.min(60, session.idle / 3) * 1000;
  if (Date.now() - lastRequest > every) api("GET", "/me/status").catch(() => {});
}

// Signs out for inactivity with the message the sign-in page shows; also
// called when the server reports the idle sign-out first (status event).
export function idleSignOut(revoke) {
  if (!session) return;
  const idle = session.idle;
  const mins = idle >= 120 ? `${Math.round(idle / 60)} minutes` : `${idle} seconds`;
  signOut(`You were signed out after ${mins} without activity.`, revoke);
}

function idleCheck() {
  if (!session || !session.idle) return;
  const now = Date.now();
  if (now - lastActivity < session.idle * 1000) return;
  idleSignOut(now - lastRequest < session.idle * 1000 - 1000);
}

for (const ev of ["pointerdown", "keydown", "wheel", "touchstart", "pointermove"]) {
  addEventListener(ev, activity, { passive: true, capture: true });
}
setInterval(idleCheck, 1000);
