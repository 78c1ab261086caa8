// chat.js - one chat: the conversation (customer, agent and bot messages),
// the composer (emoji, files by button or drag-and-drop with previews,
// quick replies "Select text", Send and Enter), the state bar, End chat,
// the record profile with Result info and Connected to, and the CRM block
// (crm.js: identification, cases, links into the CRM).
import { api, retrying } from "./api.js";
import { h, clear, field, select, when, toast, fail, confirmDialog, customerName, avatar, sourceIcon, CHAT_STATE, SOURCE } from "./ui.js";
import { crmPanel } from "./crm.js";

const EMOJI = [
  ["😀", "grinning face"], ["😃", "smiling face with open mouth"], ["😊", "smiling face"],
  ["🙂", "slightly smiling face"], ["😉", "winking face"], ["😍", "heart eyes"],
  ["🤔", "thinking face"], ["😅", "sweat smile"], ["😂", "tears of joy"], ["😢", "crying face"],
  ["😮", "surprised face"], ["🙏", "folded hands"], ["👍", "thumbs up"], ["👎", "thumbs down"],
  ["👋", "waving hand"], ["👏", "clapping hands"], ["💪", "flexed biceps"], ["🤝", "handshake"],
  ["✅", "check mark"], ["❌", "cross mark"], ["⚠️", "warning"], ["❤️", "red heart"],
  ["⭐", "star"], ["🎉", "party popper"], ["📞", "telephone"], ["📧", "e-mail"], ["📎", "paperclip"],
  ["📅", "calendar"], ["⏳", "hourglass"], ["💡", "light bulb"], ["🚚", "delivery truck"], ["💳", "credit card"],
];

const IMAGE = /^image\/(png|jpe?g|gif|webp)$/;

function author(m) {
  if (m.author) return m.author;
  return m.direction === "in" ? "customer" : "agent";
}

function size(n) {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MB`;
  if (n >= 1024) return `${Math.round(n / 1024)} kB`;
  return `${n} B`;
}

function attachmentView(a) {
  const name = a.name || "file";
  if (a.url && (a.kind === "image" || IMAGE.test(a.mime || ""))) {
    return h("a.att-image", { href: a.url, target: "_blank", rel: "noopener" },
      h("img", { src: a.url, alt: name, loading: "lazy" }));
  }
  if (a.url) return h("a.att-file", { href: a.url, target: "_blank", rel: "noopener" }, `📎 ${name} (${size(a.size || 0)})`);
  if (a.unavailable) return h("span.att-file.att-unavailable", { title: a.unavailable }, `📎 ${name} (not available)`);
  return h("span.att-file", `📎 ${name}`);
}

const DELIVERY = { pending: "Sending…", sent: "Sent", failed: "Not delivered" };
const TYPING_EVERY_MS = 3000; // the customer is told the agent writes at most this often
const TYPING_SHOWN_MS = 6000; // the customer's "typing…" fades after this long

function messageView(m, retry) {
  const who = author(m);
  const label = { customer: "Customer", agent: "Agent", bot: "Bot" }[who] || who;
  const time = m.created_at ? new Date(m.created_at).toLocaleTimeString([], { timeStyle: "short" }) : "";
  const delivery = m.direction === "out" && DELIVERY[m.delivery]
    ? h("span.delivery", { class: `delivery ${m.delivery}`, title: m.delivery_error || null },
        DELIVERY[m.delivery] + (m.delivery_error ? `: ${m.delivery_error}` : ""),
        m.delivery === "failed" && retry
          ? [" ", h("button.link.retry", { type: "button", onclick: () => retry(m) }, "Retry")] : null)
    : null;
  return h(`li.msg.${who}`, { dataset: { id: m.id, delivery: m.delivery || "" } },
    h("div.meta", h("span.author", label), " ", h("time", { datetime: m.created_at || null }, time), " ", delivery),
    m.text ? h("div.text", m.text) : null,
    (m.attachments || []).length ? h("div.atts", (m.attachments || []).map(attachmentView)) : null);
}

// Renders chat `chatId` into `root`. opts: {me, queues (id -> name, may be
// empty), record (true: the chat record page), onChanged()}. Returns
// {onMessage(m), onChat(chat), close()}.
export function chatView(root, chatId, opts) {
  let chat = null;
  const pending = []; // files chosen, not sent yet: {file, url}
  let closed = false;

  const title = h("h2", { id: "conv-title" }, "Chat");
  const sub = h("span.sub");
  const face = h("span.face");
  const stateButtons = Object.entries(CHAT_STATE).map(([k, label]) =>
    h("button.state", { type: "button", dataset: { state: k }, "aria-pressed": "false", onclick: () => setState(k) }, label));
  const endButton = h("button.danger", { type: "button", onclick: endChat }, "End chat");
  const typingNote = h("p.typing", { "aria-live": "polite" });
  let typingTimer = null;
  let lastTyping = 0;
  const list = h("ol.msg-list");
  const log = h("div.messages", { role: "log", "aria-live": "polite", "aria-labelledby": "conv-title" }, list);

  // composer
  const text = h("textarea", { rows: 2, placeholder: "Type a message", id: "message-input" });
  const fileInput = h("input.file-input", { type: "file", multiple: true, tabindex: "-1", "aria-hidden": "true",
    onchange: () => { addFiles(fileInput.files); fileInput.value = ""; } });
  const attachButton = h("button.icon-attach", { type: "button", onclick: () => fileInput.click() }, "Attach file");
  const emojiGrid = h("div.emoji-grid", { id: "emoji-grid", role: "group", "aria-label": "Emoji" },
    EMOJI.map(([e, name]) => h("button.emoji", { type: "button", title: name, "aria-label": name, onclick: () => insert(e) }, e)));
  emojiGrid.hidden = true;
  const emojiButton = h("button.icon-emoji", { type: "button", "aria-expanded": "false", "aria-controls": "emoji-grid",
    onclick: () => toggleEmoji() }, "Emoji");
  const quick = select([["", "Select text"]], "", { id: "quick-replies" });
  // A reply picked by name fills the input, or goes in at the cursor when
  // the agent has written something else; picking another one (arrow keys
  // fire a change each) replaces the one picked before. Focus stays put.
  let quickReplies = [];
  let picked = null;
  quick.addEventListener("change", () => {
    const qr = quickReplies.find((q) => q.id === quick.value);
    if (!qr) return;
    if (!text.value.trim() || text.value === picked) {
      text.value = picked = qr.text;
    } else {
      insert(qr.text, false);
      picked = null;
    }
  });
  const previews = h("ul.previews", { "aria-label": "Files to send" });
  const sendButton = h("button.primary", { type: "submit" }, "Send");
  const composer = h("form.composer", { onsubmit: (ev) => { ev.preventDefault(); send(); } },
    h("fieldset.composer-set",
      h("legend.visually-hidden", "Write a message"),
      h("div.tools", emojiButton, attachButton, fileInput,
        h("div.field.inline", h("label", { for: "quick-replies" }, "Select text"), quick)),
      emojiGrid, previews,
      h("div.input-row", h("label.visually-hidden", { for: "message-input" }, "Message"), text, sendButton)));
  // the customer sees that the agent writes (web chat, Telegram)
  text.addEventListener("input", () => {
    const now = Date.now();
    if (!chat || chat.state === "completed" || chat.agent_id !== opts.me.id || !text.value.trim() ||
        now - lastTyping < TYPING_EVERY_MS) return;
    lastTyping = now;
    api("POST", `/chats/${chatId}/typing`, {}).catch(() => {}); // a hint only
  });
  text.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      send();
    } else if (ev.key === "Escape") {
      toggleEmoji(false);
    }
  });
  emojiGrid.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") { toggleEmoji(false); emojiButton.focus(); }
  });

  // record profile
  const profile = h("dl.profile-list");
  const result = select([["", "—"]], "", {});
  const details = h("textarea", { rows: 3 });
  const links = {
    account_id: h("input", { autocomplete: "off" }),
    contact_id: h("input", { autocomplete: "off" }),
    activity_id: h("input", { autocomplete: "off" }),
    case_id: h("input", { autocomplete: "off" }),
  };
  const crm = crmPanel("chats", chatId, () => refresh().catch(fail));
  const side = h("aside.profile", { "aria-labelledby": "profile-title" },
    h("h3", { id: "profile-title" }, "Record profile"), profile,
    h("form", { onsubmit: (ev) => { ev.preventDefault(); saveRecord(); } },
      h("h3", "Result info"), field("Result", result), field("Result details", details),
      h("h3", "Connected to"), field("Account", links.account_id), field("Contact", links.contact_id),
      field("Activity", links.activity_id), field("Case", links.case_id),
      h("button.primary", { type: "submit" }, "Save")), crm.el);

  const thread = h("div.thread", log, typingNote, composer);
  const section = h("section.conversation", { "aria-labelledby": "conv-title" },
    h("header.conv-head",
      h("div.conv-title", opts.record ? h("a.back", { href: "#/desk" }, "← Desk") : null, face, title, sub),
      h("div.states", { role: "group", "aria-label": "State" }, stateButtons), endButton),
    h("div.conv-body", opts.record ? [side, thread] : [thread, side]));
  clear(root, section);

  // files: the button, drag-and-drop on the conversation, paste
  thread.addEventListener("dragover", (ev) => {
    if (!ev.dataTransfer || ![...ev.dataTransfer.types].includes("Files")) return;
    ev.preventDefault();
    thread.classList.add("dropping");
  });
  thread.addEventListener("dragleave", (ev) => {
    if (!thread.contains(ev.relatedTarget)) thread.classList.remove("dropping");
  });
  thread.addEventListener("drop", (ev) => {
    ev.preventDefault();
    thread.classList.remove("dropping");
    if (ev.dataTransfer && ev.dataTransfer.files.length) addFiles(ev.dataTransfer.files);
  });
  text.addEventListener("paste", (ev) => {
    if (ev.clipboardData && ev.clipboardData.files.length) {
      ev.preventDefault();
      addFiles(ev.clipboardData.files);
    }
  });

  function toggleEmoji(show) {
    const open = show === undefined ? emojiGrid.hidden : show;
    emojiGrid.hidden = !open;
    emojiButton.setAttribute("aria-expanded", String(open));
    if (open) emojiGrid.querySelector("button").focus();
  }

  function insert(s, focus = true) {
    const start = text.selectionStart ?? text.value.length;
    const end = text.selectionEnd ?? text.value.length;
    text.value = text.value.slice(0, start) + s + text.value.slice(end);
    text.selectionStart = text.selectionEnd = start + s.length;
    if (focus) text.focus();
  }

  function addFiles(files) {
    for (const file of files) {
      const url = IMAGE.test(file.type) ? URL.createObjectURL(file) : null;
      pending.push({ file, url });
    }
    renderPreviews();
  }

  function renderPreviews() {
    clear(previews, pending.map((p, i) =>
      h("li.preview",
        p.url ? h("img", { src: p.url, alt: `Preview of ${p.file.name}` }) : h("span.file-icon", { "aria-hidden": "true" }, "📄"),
        h("span.name", `${p.file.name} (${size(p.file.size)})`),
        h("button.ghost", { type: "button", "aria-label": `Remove ${p.file.name}`, onclick: () => {
          if (p.url) URL.revokeObjectURL(p.url);
          pending.splice(i, 1);
          renderPreviews();
        } }, "✕"))));
  }

  function addMessage(m) {
    if (!m || !m.id) return;
    const old = list.querySelector(`li[data-id="${CSS.escape(m.id)}"]`);
    // the stream may tell "sent" or "failed" before the answer of the send
    // (still "pending") arrives: a final state is never taken back
    if (old && m.delivery === "pending" && ["sent", "failed"].includes(old.dataset.delivery)) return;
    const el = messageView(m, retryMessage);
    if (old) old.replaceWith(el);
    else list.append(el);
    log.scrollTop = log.scrollHeight;
  }

  function render() {
    if (!chat) return;
    const who = customerName(chat);
    title.textContent = who;
    clear(face, avatar(who));
    clear(sub, sourceIcon(chat.source), " ", SOURCE[chat.source] || chat.source || "");
    for (const b of stateButtons) {
      const k = b.dataset.state;
      b.setAttribute("aria-pressed", String(k === chat.state));
      b.disabled = chat.state === "completed" || k === chat.state || k === "new";
    }
    const done = chat.state === "completed";
    endButton.hidden = done;
    composer.querySelector("fieldset").disabled = done || Boolean(chat.agent_id && chat.agent_id !== opts.me.id);
    const queue = chat.queue_name || (opts.queues && opts.queues.get(chat.queue_id)) || chat.queue_id;
    clear(profile, [
      ["From", chat.from], ["To", chat.to], ["Source", SOURCE[chat.source] || chat.source], ["Queue", queue],
      ["Start time", when(chat.start_time)], ["End time", when(chat.end_time)],
      ["State", CHAT_STATE[chat.state] || chat.state], ["Name", customerName(chat)], ["Case", (chat.links || {}).case_id],
    ].map(([k, v]) => [h("dt", k), h("dd", { dataset: { field: k } }, v || "—")]));
    if (document.activeElement !== details) details.value = chat.result_details || "";
    if (chat.result_id) result.value = chat.result_id;
    for (const [k, input] of Object.entries(links)) {
      if (document.activeElement !== input) input.value = (chat.links || {})[k] || "";
    }
    crm.render(chat);
  }

  async function load() {
    try {
      const [c, ms] = await Promise.all([api("GET", `/chats/${chatId}`), api("GET", `/chats/${chatId}/messages`)]);
      if (closed) return;
      chat = c;
      render();
      ms.items.forEach(addMessage);
      const [qr, results] = await Promise.all([
        api("GET", `/chats/${chatId}/quick-replies`), api("GET", "/results?limit=500")]);
      if (closed) return;
      quickReplies = qr.items;
      clear(quick, h("option", { value: "" }, "Select text"), quickReplies.map((q) => h("option", { value: q.id }, q.name)));
      clear(result, h("option", { value: "" }, "—"), results.items.map((r) => h("option", { value: r.id }, r.name)));
      if (chat.result_id) result.value = chat.result_id;
      // The composer takes the focus unless the agent already went to another
      // field (the CRM search, the record's result) while the chat loaded.
      const typing = document.activeElement && document.activeElement.matches("input, textarea, select");
      if (chat.state !== "completed" && !typing) text.focus();
    } catch (e) {
      fail(e);
    }
  }

  async function send() {
    if (!chat || chat.state === "completed") return;
    const body = text.value.trim();
    if (!body && !pending.length) return;
    sendButton.disabled = true;
    try {
      while (pending.length) {
        const p = pending[0];
        const f = await api("POST", `/files?name=${encodeURIComponent(p.file.name)}`, undefined, p.file);
        addMessage(await api("POST", `/chats/${chatId}/messages`, { file_id: f.id }));
        if (p.url) URL.revokeObjectURL(p.url);
        pending.shift();
        renderPreviews();
      }
      if (body) {
        addMessage(await api("POST", `/chats/${chatId}/messages`, { text: body }));
        text.value = "";
        lastTyping = 0; // the next words are news again
        quick.value = "";
        picked = null;
      }
      toggleEmoji(false);
      if (chat.state === "new") await refresh();
    } catch (e) {
      fail(e);
    } finally {
      sendButton.disabled = false;
      text.focus();
    }
  }

  // A failed message goes again: pending until the provider answers.
  async function retryMessage(m) {
    const li = list.querySelector(`li[data-id="${CSS.escape(m.id)}"]`);
    if (li) li.dataset.delivery = "pending"; // failed no more: what comes next counts
    try {
      addMessage(await api("POST", `/chats/${chatId}/messages/${encodeURIComponent(m.id)}/retry`, {}));
    } catch (e) {
      fail(e);
    }
  }

  function showTyping(on) {
    clearTimeout(typingTimer);
    typingNote.textContent = on ? `${(chat && chat.name) || "The customer"} is typing…` : "";
    if (on) typingTimer = setTimeout(() => showTyping(false), TYPING_SHOWN_MS);
  }

  async function refresh() {
    chat = await api("GET", `/chats/${chatId}`);
    render();
  }

  async function setState(k) {
    if (k === "completed") return endChat();
    try {
      chat = await api("PATCH", `/chats/${chatId}`, { state: k });
      render();
      opts.onChanged();
    } catch (e) {
      fail(e);
    }
  }

  async function endChat() {
    if (!(await confirmDialog("End this chat? The customer's next message starts a new chat."))) return;
    try {
      chat = await retrying(() => api("POST", `/chats/${chatId}/end`, {})); // End is idempotent
      render();
      toast("Chat ended.");
      opts.onChanged();
    } catch (e) {
      fail(e);
    }
  }

  async function saveRecord() {
    const body = { result_details: details.value, links: {} };
    if (result.value) body.result_id = result.value;
    for (const [k, input] of Object.entries(links)) body.links[k] = input.value.trim();
    try {
      chat = await api("PATCH", `/chats/${chatId}`, body);
      render();
      toast("Saved.");
    } catch (e) {
      fail(e);
    }
  }

  load();
  return {
    id: chatId,
    onMessage(m) {
      if (m.chat_id !== chatId) return;
      if (m.direction === "in") showTyping(false);
      addMessage(m);
    },
    onTyping(t) {
      if (t.chat_id === chatId && t.who === "customer") showTyping(true);
    },
    onChat(c) {
      if (c.id !== chatId) return;
      chat = c;
      render();
    },
    close() {
      closed = true;
      clearTimeout(typingTimer);
      for (const p of pending) if (p.url) URL.revokeObjectURL(p.url);
    },
  };
}
