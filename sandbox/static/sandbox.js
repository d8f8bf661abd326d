// The sandbox page: state read from /api/state each time /events says it changed (no polling).
"use strict";
let state = null;
let current = null; // the chosen parent's chat id

const $ = (sel) => document.querySelector(sel);
const el = (tag, props = {}, children = []) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k.includes("-")) e.setAttribute(k, v); // aria-label, data-…: attributes, not properties
    else e[k] = v;
  }
  for (const c of children) e.append(c);
  return e;
};

async function post(path, body) {
  const r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  if (!r.ok) throw new Error(await r.text());
  return r.json();
}

function openPage(url) {
  $("#panel-frame").src = url;
  $("#panel").hidden = false;
}

function keyboard(msg) {
  const box = el("div", { className: "kbd" });
  for (const row of msg.buttons) {
    const line = el("div", { className: "kbd-row" });
    for (const b of row) {
      const button = el("button", { type: "button", textContent: b.text });
      button.addEventListener("click", () => {
        if (b.kind === "callback") post(`/api/parents/${current}/press`, { message_id: msg.id, data: b.data });
        else if (b.kind === "web_app") openPage(b.url);
        else if (b.kind === "url") window.open(b.url, "_blank", "noopener");
      });
      line.append(button);
    }
    box.append(line);
  }
  return box;
}

function renderChat(parent) {
  const chat = $("#chat");
  const atBottom = chat.scrollTop + chat.clientHeight >= chat.scrollHeight - 40;
  chat.replaceChildren();
  if (!parent.chat.length) {
    chat.append(el("li", { className: "hint", textContent:
      "No messages yet. If this parent was invited, open the link in their email in the Mailbox; or press /start. " +
      "(The chat's history is kept only while the sandbox runs; after a restart, what the parent did is still there: try /dashboard.)" }));
  }
  for (const m of parent.chat) {
    const li = el("li", { className: m.from });
    const body = el("div");
    body.innerHTML = m.html; // built by the server from the message's entities, every text escaped
    // The portal's own pages open over the chat, as Telegram opens a Mini App.
    for (const a of body.querySelectorAll("a")) {
      if (state.portal_url && a.href.startsWith(state.portal_url)) {
        a.removeAttribute("target");
        a.addEventListener("click", (e) => { e.preventDefault(); openPage(a.href); });
      }
    }
    li.append(body);
    if (m.file) li.append(el("a", { href: `/files/${m.file.path}`, textContent: `⬇ ${m.file.name}` }));
    if (m.edited) li.append(el("div", { className: "edited", textContent: "edited" }));
    if (m.buttons.length) li.append(keyboard(m));
    chat.append(li);
  }
  // The command menu, as Telegram shows it beside the message box.
  const menu = $("#commands");
  menu.replaceChildren(...(parent.commands || []).map((c) => {
    const b = el("button", { type: "button" }, [el("strong", { textContent: `/${c.command}` }), el("span", { className: "hint", textContent: c.description })]);
    b.addEventListener("click", () => { menu.hidden = true; $("#menu").setAttribute("aria-expanded", "false"); post(`/api/parents/${current}/send`, { text: `/${c.command}` }); });
    return el("li", {}, [b]);
  }));
  const reply = $("#reply-keyboard");
  reply.replaceChildren();
  for (const row of parent.keyboard) {
    for (const b of row) {
      const button = el("button", { type: "button", textContent: b.text });
      button.addEventListener("click", () => post(`/api/parents/${current}/send`, { text: b.text }));
      reply.append(button);
    }
  }
  if (atBottom) chat.scrollTop = chat.scrollHeight;
}

// A Telegram deep link (t.me/<bot>?start=...) opens the chat of the parent chosen on the phone,
// as tapping it on a phone would; any other link opens in a new tab.
function mailLink(link) {
  const deep = /^https:\/\/t\.me\/[A-Za-z0-9_]+\?start=([A-Za-z0-9_-]+)$/.exec(link);
  if (!deep) return el("a", { href: link, textContent: link, target: "_blank", rel: "noopener" });
  const a = el("a", { href: "#phone", textContent: `${link} (opens the chat on the parent's phone)` });
  a.addEventListener("click", async (e) => {
    e.preventDefault();
    if (current === null) { alert("Add a parent on the phone first."); return; }
    await post(`/api/parents/${current}/send`, { text: `/start ${deep[1]}` });
    document.querySelector('[data-pane="phone"]').click();
  });
  return a;
}

const openMails = new Set();

function renderMail() {
  const list = $("#mails");
  list.replaceChildren();
  if (!state.mail.length) list.append(el("li", { textContent: "No emails yet." }));
  for (const m of state.mail) {
    const text = el("pre");
    let rest = m.text;
    for (const link of m.links) {
      const at = rest.indexOf(link);
      if (at < 0) continue;
      text.append(rest.slice(0, at), mailLink(link));
      rest = rest.slice(at + link.length);
    }
    text.append(rest);
    // The newest email open, the others folded (their subject and who they were to).
    const summary = el("summary", {}, [el("strong", { textContent: m.subject }), el("span", { className: "hint", textContent: ` to ${m.to}` })]);
    const details = el("details", { open: openMails.has(m.id) || m === state.mail[0] }, [summary, text]);
    details.addEventListener("toggle", () => details.open ? openMails.add(m.id) : openMails.delete(m.id));
    list.append(el("li", {}, [details]));
  }
}

const openTopics = new Set();

function renderStaff() {
  const box = $("#topics");
  // What is being typed and chosen survives a refresh of the topics.
  const typed = {};
  for (const i of box.querySelectorAll("input, select")) typed[i.id] = i.value;
  const focused = document.activeElement && box.contains(document.activeElement) ? document.activeElement.id : null;
  box.replaceChildren();
  if (!state.staff.topics.length) box.append(el("p", { textContent: "No topics yet: one opens when a family first writes." }));
  state.staff.topics.forEach((t, n) => {
    // Focusable: the list scrolls, and a keyboard must be able to scroll it (axe: scrollable-region-focusable).
    const posts = el("ol", { className: "posts", tabIndex: 0, "aria-label": `Posts in ${t.name}` });
    for (const p of t.posts) {
      const li = el("li", { className: p.from === "bot" ? "" : "mine" });
      li.append(el("div", { className: "who", textContent: p.from === "bot" ? "Portal bot" : p.from }));
      const body = el("div");
      body.innerHTML = p.html; // built by the server, every text escaped
      li.append(body);
      if (p.file) li.append(el("a", { href: `/files/${p.file.path}`, textContent: `⬇ ${p.file.name}` }));
      posts.append(li);
    }
    const who = el("select", { id: `as-${t.thread_id}` },
      state.staff.caseworkers.map((c) => el("option", { value: c.id, textContent: c.name })));
    const text = el("input", { id: `say-${t.thread_id}`, placeholder: "Reply to the family", maxLength: 4096, autocomplete: "off" });
    const form = el("form", { className: "row" }, [
      el("label", { htmlFor: `as-${t.thread_id}`, textContent: "Write as" }), who,
      el("label", { htmlFor: `say-${t.thread_id}`, className: "visually-hidden", textContent: "Reply" }), text,
      el("button", { type: "submit", textContent: "Send" }),
    ]);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (!text.value.trim()) return;
      const said = text.value;
      text.value = "";
      await post("/api/staff/send", { caseworker_id: Number(who.value), thread_id: t.thread_id, text: said });
    });
    const details = el("details", { open: openTopics.has(t.thread_id) || (openTopics.size === 0 && n === 0) },
      [el("summary", { textContent: t.name }), posts, form]);
    details.addEventListener("toggle", () => details.open ? openTopics.add(t.thread_id) : openTopics.delete(t.thread_id));
    box.append(details);
  });
  for (const [id, value] of Object.entries(typed)) {
    const again = document.getElementById(id);
    if (again) again.value = value;
  }
  if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
}

function render() {
  $("#clock").textContent = state.clock;
  const select = $("#parent");
  const ids = state.parents.map((p) => String(p.id));
  if (current === null || !ids.includes(String(current))) current = state.parents.length ? state.parents[0].id : null;
  select.replaceChildren(...state.parents.map((p) => el("option", { value: p.id, textContent: p.name, selected: p.id === current })));
  const parent = state.parents.find((p) => p.id === current);
  if (parent) renderChat(parent); else $("#chat").replaceChildren(el("li", { textContent: "Add a parent to start a chat." }));
  renderStaff();
  renderMail();
}

async function refresh() {
  state = await (await fetch("/api/state")).json();
  render();
}

$("#parent").addEventListener("change", (e) => { current = Number(e.target.value); render(); });
$("#who").addEventListener("submit", async (e) => {
  e.preventDefault();
  const name = $("#new-parent").value.trim();
  if (!name) return;
  const p = await post("/api/parents", { name });
  current = p.id;
  $("#new-parent").value = "";
});
$("#compose").addEventListener("submit", async (e) => {
  e.preventDefault();
  const text = $("#text").value;
  if (!text.trim() || current === null) return;
  $("#text").value = "";
  await post(`/api/parents/${current}/send`, { text });
});
$("#file").addEventListener("change", async (e) => {
  const file = e.target.files[0];
  if (!file || current === null) return;
  const body = new FormData();
  body.append("file", file);
  if ($("#as-photo").checked) body.append("as_photo", "1");
  const r = await fetch(`/api/parents/${current}/file`, { method: "POST", body });
  if (!r.ok) alert(await r.text());
  e.target.value = "";
});
$("#menu").addEventListener("click", () => {
  const menu = $("#commands");
  menu.hidden = !menu.hidden;
  $("#menu").setAttribute("aria-expanded", String(!menu.hidden));
});
$("#start").addEventListener("click", () => current !== null && post(`/api/parents/${current}/send`, { text: "/start" }));
$("#close-panel").addEventListener("click", () => { $("#panel").hidden = true; $("#panel-frame").src = "about:blank"; });
for (const b of document.querySelectorAll("[data-step]")) {
  b.addEventListener("click", () => post("/api/clock", { step: b.dataset.step }).catch((e) => alert(e.message)));
}
for (const b of document.querySelectorAll("[data-pane]")) {
  b.addEventListener("click", () => {
    for (const other of document.querySelectorAll("[data-pane]")) {
      other.setAttribute("aria-pressed", String(other === b));
      $("#" + other.dataset.pane).hidden = other !== b;
    }
  });
}
$("#invite").addEventListener("submit", async (e) => {
  e.preventDefault();
  const json = Object.fromEntries(new FormData(e.target).entries());
  const r = await fetch("/api/team", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ method: "POST", path: "/v1/invitations", json }) });
  $("#team-answer").textContent = `${r.status}\n${JSON.stringify(await r.json(), null, 1)}`;
});

// One stream for the whole page: each change refreshes the panes (the team panel's lists come
// from the API, so they are read again too). If the sandbox went away and came back (it was
// started again, or restarted at the terminal), the page loads afresh.
const stream = new EventSource("/events");
let lost = false;
stream.onmessage = () => { refresh(); refreshTeam(); };
stream.onerror = () => { lost = true; };
stream.onopen = () => { if (lost) location.reload(); };
$("#start-again").addEventListener("click", async () => {
  if (!confirm("Start again? Everything in the sandbox is forgotten and the demo families are made afresh.")) return;
  document.body.setAttribute("aria-busy", "true");
  $("#clock").textContent = "starting again…";
  await post("/api/start-again", {});
});
refresh();

// ---- The SEND team panel: the real caseworker API, through the sandbox's token.
const SAMPLE_PDF = btoa("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n");
const today = (days = 0) => new Date(Date.now() + days * 86400000).toISOString().slice(0, 10);

async function team(method, path, json) {
  const r = await fetch("/api/team", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ method, path, json, key: crypto.randomUUID() }) });
  const body = await r.json().catch(() => ({}));
  if (method !== "GET") $("#team-answer").textContent = `${method} ${path}: ${r.status}\n${JSON.stringify(body, null, 1)}`;
  return { status: r.status, body };
}

const items = (body) => (Array.isArray(body) ? body : body.items || []);

async function refreshTeam() {
  const invitations = items((await team("GET", "/v1/invitations")).body);
  const refs = [...new Set(invitations.map((i) => i.case_reference))].sort();
  for (const select of document.querySelectorAll("select.cases")) {
    const chosen = select.value;
    select.replaceChildren(...refs.map((r) => el("option", { value: r, textContent: r, selected: r === chosen })));
  }
  const list = $("#invitations");
  list.replaceChildren();
  for (const i of invitations) {
    const li = el("li", { textContent: `${i.parent_forename} ${i.parent_surname} for ${i.child_forename} (${i.case_reference}): invitation ${i.status}, access ${i.grant_status} ` });
    if (i.status === "sent") {
      // A phone check: the parent reads out the unique code from the invitation email (or the
      // caseworker knows them), and the parent then skips the code in the chat.
      const code = el("input", { placeholder: "Code read out (optional)", maxLength: 32, autocomplete: "off",
        "aria-label": `Code ${i.parent_forename} read out` });
      const form = el("form", { className: "row" }, [code, el("button", { type: "submit", textContent: "Mark verified" })]);
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        await team("POST", `/v1/invitations/${i.id}/verify`, code.value.trim() ? { code: code.value.trim() } : {});
        refreshTeam();
      });
      li.append(form);
    }
    if (i.grant_status === "accepted") {
      const b = el("button", { type: "button", textContent: "Activate access" });
      b.addEventListener("click", async () => { await team("POST", `/v1/access/${i.grant_id}/activate`, {}); refreshTeam(); });
      li.append(b);
    }
    list.append(li);
  }
  const inbox = $("#inbox");
  inbox.replaceChildren();
  const messages = items((await team("GET", "/v1/messages")).body).filter((m) => m.direction === "to_team").slice(-8).reverse();
  if (!messages.length) inbox.append(el("li", { textContent: "None yet." }));
  for (const m of messages) {
    const text = el("input", { placeholder: "Your reply", maxLength: 2000, "aria-label": `Reply to ${m.sender_name}` });
    const form = el("form", { className: "row" }, [text, el("button", { type: "submit", textContent: "Reply" })]);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (!text.value.trim()) return;
      await team("POST", `/v1/cases/${m.case_reference}/messages`,
        { sender_name: "Jo Smith", reply_to: m.id, subject: `Re: ${m.subject}`, text: text.value });
      refreshTeam();
    });
    inbox.append(el("li", {}, [el("strong", { textContent: `${m.sender_name}: ${m.subject}` }), el("div", { textContent: m.text }), form]));
  }
  const subs = $("#submissions");
  subs.replaceChildren();
  const sent = items((await team("GET", "/v1/form-submissions")).body).slice(-8).reverse();
  if (!sent.length) subs.append(el("li", { textContent: "None yet." }));
  for (const s of sent) subs.append(el("li", { textContent: `${s.title || s.form_id} for ${s.case_reference}, sent ${String(s.submitted_at || "").slice(0, 10)}` }));
}

$("#event").querySelector("[name=on]").value = today();
$("#form").querySelector("[name=due_date]").value = today(14);
$("#event").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  // "review_decision:keep" is the kind with its outcome (reg 20(10)).
  const [kind, outcome] = String(f.get("kind")).split(":");
  await team("POST", `/v1/cases/${f.get("case")}/events`,
    { kind, on: f.get("on"), ...(outcome ? { details: { outcome } } : {}) });
});
$("#document").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  await team("POST", `/v1/cases/${f.get("case")}/documents`, { filename: `${f.get("description")}.pdf`, mime: "application/pdf",
    content_base64: SAMPLE_PDF, description: f.get("description"), document_date: today() });
});
$("#form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  await team("POST", `/v1/cases/${f.get("case")}/forms`, { form_id: f.get("form_id"), due_date: f.get("due_date") });
});
refreshTeam();
