// The chat test page: two panes exchanging text (locally) and attachments (through the API).
// Attachment status comes from the chat's server-sent events, read with fetch() so that an
// API key can be sent in the Authorization header (EventSource cannot send headers).
"use strict";

const ROLES = ["customer", "agent"];
const LABELS = {IN_PROGRESS: "Scanning…", APPROVED: "Approved", REJECTED: "Rejected"};
// How far along an attachment is. A verdict never changes, so news of an earlier stage (the
// upload's own IN_PROGRESS answer, arriving after the event stream brought the verdict) is old
// news and must not take the page back to "Scanning…".
const STAGES = {IN_PROGRESS: 0};
const stage = (record) => STAGES[record.status] ?? 1;
const INLINE = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);
const attachments = new Map(); // id -> {record, nodes: {customer, agent}}
// The chat id lives in the URL fragment: a reload keeps the chat, a new tab on "/" starts a new
// one, and the URL with its fragment opens the same chat elsewhere (never sent to the server).
const CHAT_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
let chatId = chatFromUrl() || newChatId();
let stream = null;

function chatFromUrl() {
  const id = decodeURIComponent(location.hash.slice(1));
  return CHAT_ID.test(id) ? id : null;
}

function newChatId() {
  const id = "chat-" + Math.random().toString(36).slice(2, 10);
  history.replaceState(null, "", "#" + id);
  return id;
}

function apiKey() { return localStorage.getItem("attachguard.apiKey") || ""; }

async function api(path, options = {}) {
  const headers = new Headers(options.headers || {});
  if (apiKey()) headers.set("Authorization", "Bearer " + apiKey());
  const response = await fetch(path, {...options, headers});
  if (response.status === 401) {
    const key = window.prompt("This service needs its API key:");
    if (key) {
      localStorage.setItem("attachguard.apiKey", key.trim());
      return api(path, options);
    }
  }
  return response;
}

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text; // never innerHTML: names come from users
  return node;
}

function pane(role) { return document.querySelector(`.pane[data-role="${role}"] .messages`); }

function append(role, node) {
  const list = pane(role);
  list.append(node);
  list.scrollTop = list.scrollHeight;
}

function addText(from, text) {
  for (const role of ROLES) {
    const item = el("li", "msg " + (role === from ? "mine" : "theirs"));
    item.append(el("span", "who", from), el("p", "text", text));
    append(role, item);
  }
}

function humanSize(bytes) {
  if (bytes < 1024) return bytes + " B";
  if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KB";
  return (bytes / 1024 / 1024).toFixed(1) + " MB";
}

function attachmentNode(role, record) {
  const mine = role === record.sender;
  const item = el("li", "msg attachment " + (mine ? "mine" : "theirs"));
  item.dataset.id = record.id;
  item.append(el("span", "who", record.sender || "someone"));
  const card = el("div", "card");
  card.append(el("span", "name", record.file_name || "attachment"));
  card.append(el("span", "size", humanSize(record.size)));
  card.append(el("span", "status"));
  card.append(el("ul", "reasons"));
  if (role === "agent") card.append(el("ul", "details"));
  card.append(el("div", "actions"));
  item.append(card);
  return item;
}

async function showPreview(record, actions) {
  const mime = record.type && record.type.mime;
  const response = await api(`/v1/attachments/${record.id}/content?inline=${INLINE.has(mime)}`);
  if (!response.ok) return;
  const url = URL.createObjectURL(await response.blob());
  if (INLINE.has(mime)) {
    const img = el("img", "preview");
    img.alt = record.file_name || "image";
    img.src = url;
    actions.prepend(img);
  }
  const link = el("a", "download", "Download");
  link.href = url;
  link.download = record.file_name || "attachment";
  actions.append(link);
}

function render(role, record, node) {
  node.dataset.status = record.status;
  const status = node.querySelector(".status");
  status.textContent = LABELS[record.status] || record.status;
  status.className = "status " + record.status.toLowerCase();
  // The customer reads plain sentences only: the technical reasons name places inside the file
  // (parts, offsets) and signatures, which are for the agent.
  const plain = record.customer_reasons || [];
  node.querySelector(".reasons").replaceChildren(...plain.map((r) => el("li", "", r)));
  const details = node.querySelector(".details");
  if (details) details.replaceChildren(...(record.reasons || []).map((r) => el("li", "", r)));
  const actions = node.querySelector(".actions");
  if (record.status === "APPROVED" && !actions.dataset.done) {
    actions.dataset.done = "1";
    showPreview(record, actions);
  }
  if (record.status === "REJECTED") {
    actions.replaceChildren(el("span", "muted", "The file was deleted; nobody can open it."));
  }
}

function update(record) {
  let entry = attachments.get(record.id);
  if (entry && stage(record) < stage(entry.record)) return; // old news
  if (!entry) {
    entry = {nodes: {}};
    for (const role of ROLES) {
      entry.nodes[role] = attachmentNode(role, record);
      append(role, entry.nodes[role]);
    }
    attachments.set(record.id, entry);
  }
  entry.record = record;
  for (const role of ROLES) render(role, record, entry.nodes[role]);
}

async function upload(sender, file, name) {
  const form = new FormData();
  form.append("file", file, name || file.name);
  form.append("chat_id", chatId);
  form.append("sender", sender);
  const response = await api("/v1/attachments", {method: "POST", body: form});
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    addText("system", `${name || file.name}: not sent (${body.detail || response.status}).`);
    return;
  }
  update(body);
}

async function listen() {
  if (stream) stream.abort();
  const controller = new AbortController();
  stream = controller;
  try {
    const response = await api(`/v1/chats/${encodeURIComponent(chatId)}/events`,
      {signal: controller.signal});
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buffer += value;
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = block.split("\n").filter((l) => l.startsWith("data: "))
          .map((l) => l.slice(6)).join("\n");
        if (data) update(JSON.parse(data));
      }
    }
  } catch (err) {
    if (controller.signal.aborted) return;
  }
  if (stream === controller) setTimeout(listen, 2000); // reconnect; the server resends state
}

function wireComposer(role) {
  const form = document.querySelector(`.pane[data-role="${role}"] .composer`);
  const fileInput = form.querySelector("input[type=file]");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = form.elements.text.value.trim();
    if (text) addText(role, text);
    form.elements.text.value = "";
  });
  fileInput.addEventListener("change", async () => {
    for (const file of fileInput.files) await upload(role, file);
    fileInput.value = "";
  });
}

async function demoFile(name) {
  const response = await api(`/v1/demo/samples/${encodeURIComponent(name)}`);
  return response.ok ? response.blob() : null;
}

async function sendDemo(name) {
  const blob = await demoFile(name);
  if (blob) await upload("customer", blob, name);
}

async function replay() {
  addText("customer", "Hi! My kettle arrived with a cracked lid. Here is my proof of purchase.");
  await sendDemo("receipt.pdf");
  addText("agent", "Thanks, I can see it. Could you send a photo of the damage?");
  addText("customer", "Oops, wrong file, sorry about that:");
  await sendDemo("eicar.txt");
}

async function loadDemoList() {
  const select = document.getElementById("demo-file");
  const response = await api("/v1/demo/samples");
  if (!response.ok) { select.replaceChildren(el("option", "", "unavailable")); return; }
  const files = await response.json();
  select.replaceChildren(...files.map((f) => {
    const option = el("option", "", `${f.name}${f.expected ? " (expect " + f.expected.toLowerCase() + ")" : ""}`);
    option.value = f.name;
    return option;
  }));
}

async function checkHealth() {
  const response = await fetch("/healthz");
  const body = await response.json().catch(() => null);
  const banner = document.getElementById("warning");
  const clamd = body && body.checks && body.checks.clamd;
  if (clamd && clamd.test_signatures_only) {
    banner.textContent = "ClamAV runs on test signatures only (EICAR and ClamAV's test files): " +
      "fine for this demo, no protection against real malware.";
    banner.hidden = false;
  } else if (body && !body.ok) {
    banner.textContent = "The service is degraded: see the dashboard.";
    banner.hidden = false;
  }
}

function startChat() {
  document.getElementById("chat-label").textContent = chatId;
  for (const role of ROLES) pane(role).replaceChildren();
  attachments.clear();
  listen();
}

window.addEventListener("hashchange", () => {
  const id = chatFromUrl();
  if (id && id !== chatId) {
    chatId = id;
    startChat();
  }
});
document.getElementById("new-chat").addEventListener("click", () => {
  chatId = newChatId();
  startChat();
});
document.getElementById("replay").addEventListener("click", replay);
document.getElementById("send-demo").addEventListener("click", () => {
  const name = document.getElementById("demo-file").value;
  if (name) sendDemo(name);
});
ROLES.forEach(wireComposer);
startChat();
loadDemoList();
checkHealth();
