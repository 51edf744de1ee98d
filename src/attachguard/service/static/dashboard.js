// The dashboard: polls /v1/stats every few seconds and draws counts, a per-minute chart (inline
// SVG), rejection reasons, engine health and recent verdicts. No contents are ever shown; file
// names only when the service runs with --log-file-names.
"use strict";

const SVG = "http://www.w3.org/2000/svg";

function apiKey() { return localStorage.getItem("attachguard.apiKey") || ""; }

async function api(path) {
  const headers = apiKey() ? {Authorization: "Bearer " + apiKey()} : {};
  const response = await fetch(path, {headers});
  if (response.status === 401) {
    const key = window.prompt("This service needs its API key:");
    if (key) { localStorage.setItem("attachguard.apiKey", key.trim()); return api(path); }
  }
  return response;
}

function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  row.append(td);
}

function rows(id, items, fill) {
  const body = document.getElementById(id);
  body.replaceChildren(...items.map((item) => {
    const tr = document.createElement("tr");
    fill(tr, item);
    return tr;
  }));
}

function chart(series) {
  const svg = document.getElementById("chart");
  const n = series.approved.length;
  const max = Math.max(1, ...series.approved.map((a, i) => a + series.rejected[i]));
  const w = 600 / n, h = 160;
  const bars = [];
  for (let i = 0; i < n; i++) {
    const ok = (series.approved[i] / max) * h, bad = (series.rejected[i] / max) * h;
    for (const [height, y, color] of [[ok, 170 - ok, "#12805c"], [bad, 170 - ok - bad, "#b42318"]]) {
      if (height <= 0) continue;
      const r = document.createElementNS(SVG, "rect");
      r.setAttribute("x", (i * w + 1).toFixed(1));
      r.setAttribute("width", Math.max(1, w - 2).toFixed(1));
      r.setAttribute("y", y.toFixed(1));
      r.setAttribute("height", height.toFixed(1));
      r.setAttribute("fill", color);
      bars.push(r);
    }
  }
  const axis = document.createElementNS(SVG, "line");
  axis.setAttribute("x1", "0"); axis.setAttribute("x2", "600");
  axis.setAttribute("y1", "170"); axis.setAttribute("y2", "170");
  axis.setAttribute("stroke", "#c9ced6");
  document.getElementById("chart-max").textContent = ` · scale: ${max} per minute`;
  svg.replaceChildren(axis, ...bars);
}

function healthRows(health) {
  const c = health.checks;
  const out = [];
  const clamd = c.clamd || {};
  out.push(["clamd", clamd.ok ? "reachable" : "NOT reachable", clamd.ok]);
  if (clamd.version) out.push(["ClamAV version", clamd.version, true]);
  const sig = clamd.signatures || {};
  if (clamd.test_signatures_only) {
    out.push(["signatures", "TEST signatures only (EICAR): no real protection", false]);
  } else if (sig.age_hours !== null && sig.age_hours !== undefined) {
    out.push(["signature age", `${sig.age_hours} h (version ${sig.version})`, sig.age_hours < 48]);
  }
  out.push(["storage", c.storage.ok ? c.storage.where : "NOT writable", c.storage.ok]);
  out.push(["database", `${c.database.kind}${c.database.ok ? "" : " — NOT reachable"}`, c.database.ok]);
  const mod = c.moderation.engines;
  out.push(["moderation", typeof mod === "string" ? mod : Object.entries(mod).map(([k, v]) => `${k}: ${v}`).join(", "), true]);
  for (const [name, version] of Object.entries(health.engines || {})) {
    out.push([`engine ${name}`, version, !String(version).startsWith("unavailable")]);
  }
  return out;
}

async function refresh() {
  const response = await api("/v1/stats");
  if (!response.ok) return;
  const s = await response.json();
  document.getElementById("n-approved").textContent = s.counts.APPROVED || 0;
  document.getElementById("n-rejected").textContent = s.counts.REJECTED || 0;
  document.getElementById("n-progress").textContent = s.counts.IN_PROGRESS || 0;
  document.getElementById("n-queue").textContent = s.queue.waiting;
  document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
  chart(s.series);
  rows("reasons", Object.entries(s.series.reasons), (tr, [code, n]) => {
    cell(tr, code.replaceAll("_", " ").toLowerCase()); cell(tr, String(n));
  });
  rows("health", healthRows(s.health), (tr, [name, text, ok]) => {
    cell(tr, name); cell(tr, text, ok ? "" : "bad");
  });
  rows("recent", s.recent, (tr, r) => {
    cell(tr, new Date(r.updated_at * 1000).toLocaleTimeString());
    cell(tr, r.id.slice(0, 8));
    cell(tr, r.status, {APPROVED: "ok", REJECTED: "bad"}[r.status] || "wait");
    cell(tr, r.type ? r.type.label : "–");
    cell(tr, `${r.size.toLocaleString()} B`);
    cell(tr, (r.reasons || []).join("; ") || "–");
    cell(tr, r.file_name || "(hidden)");
  });
  const rescans = s.rescans || {jobs: [], revoked: []};
  const job = rescans.jobs[0];
  document.getElementById("rescan-job").textContent = job
    ? `(${job.signature}: ${job.scanned} rescanned, ${job.revoked} revoked${job.finished_at ? "" : ", running"})`
    : "";
  rows("revoked", rescans.revoked, (tr, r) => {
    cell(tr, new Date(r.revoked_at * 1000).toLocaleTimeString());
    cell(tr, r.id.slice(0, 8));
    cell(tr, r.action, "bad");
    cell(tr, (r.reasons || []).join("; ") || "–");
    cell(tr, r.file_name || "(hidden)");
  });
  const banner = document.getElementById("warning");
  banner.hidden = s.health.ok;
  banner.textContent = s.health.ok ? "" : "Some checks are failing: see Engine health.";
}

refresh();
setInterval(refresh, 3000);
