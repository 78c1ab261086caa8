// app.js - the desktop's entry: hash routes (#/signin, #/desk, #/chat/<id>,
// #/supervisor, #/history, #/reports, #/admin/<section>), the header and the sign-in page. Each
// view renders into <main> and returns a cleanup function (streams, timers).
import { me, signIn, signOut, takeNotice, whenSignedOut } from "./api.js";
import { h, clear, field } from "./ui.js";
import { deskView } from "./desk.js";
import { supervisorView } from "./supervisor.js";
import { adminView, ADMIN_SECTIONS } from "./admin.js";
import { reportsView } from "./reports.js";
import { historyView } from "./history.js";

const view = document.getElementById("view");
let cleanup = null;

const may = {
  desk: () => true,
  supervisor: (u) => u.role === "admin" || u.role === "supervisor",
  history: (u) => u.role === "admin" || u.role === "supervisor",
  admin: (u) => u.role === "admin" || u.role === "manager",
  reports: (u) => u.role === "admin" || u.role === "supervisor",
};

function home(u) {
  if (u.role === "admin" || u.role === "manager") return "#/admin/users";
  if (u.role === "supervisor") return "#/supervisor";
  return "#/desk";
}

function header(u, where) {
  const top = document.getElementById("top");
  top.hidden = !u;
  if (!u) return;
  const links = [
    ["desk", "#/desk", "Desk"],
    ["supervisor", "#/supervisor", "Supervisor"],
    ["history", "#/history", "History"],
    ["reports", "#/reports", "Reports"],
    ["admin", "#/admin/users", "Administration"],
  ].filter(([k]) => may[k](u));
  clear(
    document.getElementById("nav"),
    links.map(([k, href, text]) =>
      h("a", { href, "aria-current": where === k || (k === "desk" && where === "chat") ? "page" : null }, text)
    )
  );
  const name = [u.first_name, u.last_name].filter(Boolean).join(" ") || u.login;
  clear(document.getElementById("who"), `${name} (${u.role})`);
}

function signinView(notice) {
  document.title = "Sign in · Contact center";
  const login = h("input", { name: "login", autocomplete: "username", required: true });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const msg = h("p.notice", { role: "alert", id: "signin-notice" }, notice || "");
  msg.hidden = !notice;
  const button = h("button.primary", { type: "submit" }, "Sign in");
  const form = h(
    "form.signin",
    {
      onsubmit: async (ev) => {
        ev.preventDefault();
        button.disabled = true;
        try {
          const u = await signIn(login.value.trim(), password.value);
          location.hash = home(u);
        } catch (e) {
          msg.textContent = e.message;
          msg.hidden = false;
          password.select();
        } finally {
          button.disabled = false;
        }
      },
    },
    h("p.brand-line", "Contact center desktop"),
    h("h1", "Sign in"),
    msg,
    field("Login", login),
    field("Password", password),
    button
  );
  clear(view, h("section.center", form));
  login.focus();
  return null;
}

function route() {
  if (cleanup) cleanup();
  cleanup = null;
  const u = me();
  const parts = location.hash.replace(/^#\/?/, "").split("/");
  const where = parts[0] || "";
  if (!u) {
    if (where !== "signin") return location.replace("#/signin");
    header(null);
    cleanup = signinView(takeNotice());
    return;
  }
  const area = where === "chat" ? "desk" : where;
  if (!Object.hasOwn(may, area) || !may[area](u)) return location.replace(home(u));
  header(u, where);
  if (where === "desk") cleanup = deskView(view, u, null);
  else if (where === "chat") cleanup = deskView(view, u, decodeURIComponent(parts[1] || ""));
  else if (where === "supervisor") cleanup = supervisorView(view, u);
  else if (where === "reports") cleanup = reportsView(view, u);
  else if (where === "history") cleanup = historyView(view, u);
  else if (where === "admin") {
    const section = ADMIN_SECTIONS.some((s) => s.key === parts[1]) ? parts[1] : "users";
    cleanup = adminView(view, u, section);
  }
  view.focus({ preventScroll: true });
}

whenSignedOut(() => {
  if (location.hash === "#/signin") route();
  else location.hash = "#/signin";
});

document.getElementById("signout").addEventListener("click", () => signOut("You have signed out."));
addEventListener("hashchange", route);
route();
