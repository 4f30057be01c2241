// Likeness web app: three pages over the /api/v1 JSON API. No framework; every call goes through api().
"use strict";
const API = "/api/v1";
const $ = (id) => document.getElementById(id);

// --- access token (asked once, kept for this browser tab) ------------------------------------------
function headers() {
  const t = sessionStorage.getItem("likeness-token");
  return t ? { Authorization: "Bearer " + t } : {};
}
async function api(path, options = {}) {
  const res = await fetch(API + path, { ...options, headers: { ...headers(), ...(options.headers || {}) } });
  if (res.status === 401) {
    $("token-box").hidden = false;
    throw new Error("this server needs an access token: enter it above, then try again");
  }
  if (!res.ok) {
    let msg = res.status + " " + res.statusText;
    try { const body = await res.json(); msg = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail); } catch (e) {}
    throw new Error(msg);
  }
  return res;
}
$("token-save").onclick = () => {
  sessionStorage.setItem("likeness-token", $("token").value.trim());
  $("token-box").hidden = true;
  checkKeys();
};

// --- tabs -----------------------------------------------------------------------------------------
function show(tab) {
  document.querySelectorAll(".panel").forEach((p) => (p.hidden = p.id !== tab));
  document.querySelectorAll(".tab").forEach((b) => b.classList.toggle("active", b.dataset.tab === tab));
  history.replaceState(null, "", "#" + tab);
}
document.querySelectorAll(".tab").forEach((b) => (b.onclick = () => show(b.dataset.tab)));
show(["verify", "scan", "generate"].includes(location.hash.slice(1)) ? location.hash.slice(1) : "verify");

function status(id, text, isError = false) {
  $(id).textContent = text;
  $(id).classList.toggle("error", isError);
}
function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
function dropZone(input, onFiles) {
  const zone = input.closest(".drop");
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => { e.preventDefault(); zone.classList.remove("over"); onFiles([...e.dataTransfer.files]); });
  input.addEventListener("change", () => onFiles([...input.files]));
}

// Poll a background job until it is done; report progress on the way.
async function waitForJob(job, progressId, statusId) {
  const bar = $(progressId);
  bar.hidden = false;
  for (;;) {
    const j = await (await api(`/jobs/${job.id}`)).json();
    bar.value = j.progress;
    status(statusId, j.state === "queued" ? "waiting in the queue…" : j.message || j.state);
    if (j.state === "done") { bar.hidden = true; return j; }
    if (j.state === "error") { bar.hidden = true; throw new Error(j.error); }
    await new Promise((r) => setTimeout(r, 400));
  }
}

// --- verify ---------------------------------------------------------------------------------------
async function verifyBlob(blob, name) {
  show("verify");
  $("verify-result").hidden = true;
  status("verify-status", `checking ${name}…`);
  try {
    const form = new FormData();
    form.append("file", blob, name);
    const r = await (await api("/verify", { method: "POST", body: form })).json();
    renderVerify(r);
    status("verify-status", "");
  } catch (e) {
    status("verify-status", e.message, true);
  }
}
function renderVerify(r) {
  const m = r.manifest, w = r.watermark;
  $("verify-verdict").textContent = r.summary;
  $("verify-verdict").className = "verdict " + r.verdict;
  const rows = [
    ["file", r.file],
    ["manifest", m.present ? `present, ${m.valid ? "valid" : "INVALID"}, ${m.trusted ? "trusted signer" : "untrusted signer"}` : "none"],
    ["signer", m.present ? `${m.signer || "-"} (${m.issuer || "-"})` : "-"],
    ["AI-generated", m.present ? (m.ai_generated ? "yes" : "no") : "-"],
    ["actions", (m.actions || []).map((a) => a.action).join(", ") || "-"],
    ["ingredients", (m.ingredients || []).map((i) => i.title).join(", ") || "-"],
    ["watermark", w.found ? `found: payload ${w.payload}, confidence ${w.confidence.toFixed(2)} (${w.frames} frames)` : `not found (${w.frames} frames read)`],
    ["manifest and watermark", r.agree === null ? "-" : r.agree ? "agree" : "DISAGREE"],
  ];
  if (m.failures && m.failures.length) rows.push(["failures", m.failures.join(", ")]);
  $("verify-details").innerHTML = rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join("");
  $("verify-result").hidden = false;
}
dropZone($("verify-file"), (files) => files[0] && verifyBlob(files[0], files[0].name));

// --- scan -----------------------------------------------------------------------------------------
function timelineSvg(r, w = 240, h = 48) {
  const t = r.timeline || [];
  if (!t.length) return "";
  const last = Math.max(1, ...t.map((p) => p.second));
  const pts = t.map((p) => `${(4 + ((w - 8) * p.second) / last).toFixed(1)},${(h - 4 - (h - 8) * p.probability_fake).toFixed(1)}`).join(" ");
  const thr = h - 4 - (h - 8) * (r.threshold ?? 0.5);
  return `<svg class="timeline" width="${w}" height="${h}" role="img" aria-label="probability fake per second">` +
    `<rect width="${w}" height="${h}" fill="#f3f3f6"/><line x1="0" x2="${w}" y1="${thr}" y2="${thr}" stroke="#c33" stroke-dasharray="3,3"/>` +
    `<polyline points="${pts}" fill="none" stroke="#225" stroke-width="2"/></svg>`;
}
function suspiciousImg(m) {
  if (!m) return "-";
  return `<figure class="suspicious"><img src="data:image/jpeg;base64,${esc(m.jpeg)}" width="96" height="96" alt="most suspicious face">` +
    `<figcaption>${Number(m.t).toFixed(1)} s, P ${Number(m.probability_fake).toFixed(2)}</figcaption></figure>`;
}
async function scanFiles(files) {
  if (!files.length) return;
  $("scan-result").hidden = true;
  status("scan-status", `uploading ${files.length} file(s)…`);
  try {
    const form = new FormData();
    files.forEach((f) => form.append("files", f, f.name));
    const job = await (await api("/scan", { method: "POST", body: form })).json();
    const done = await waitForJob(job, "scan-progress", "scan-status");
    $("scan-table").querySelector("tbody").innerHTML = done.result.map((r) => {
      const p = r.provenance || {};
      return `<tr class="${esc(r.verdict)}"><td>${esc(r.file)}</td><td><b>${esc(r.verdict)}</b>${r.error ? "<br>" + esc(r.error) : ""}</td>` +
        `<td>${r.probability_fake == null ? "-" : r.probability_fake.toFixed(2)}</td><td>${r.face_tracks}</td>` +
        `<td>${suspiciousImg(r.most_suspicious)}</td>` +
        `<td>${timelineSvg(r)}</td><td>${esc(p.summary || p.error || "-")}</td></tr>`;
    }).join("");
    $("scan-json").href = URL.createObjectURL(new Blob([JSON.stringify(done.result, null, 2)], { type: "application/json" }));
    $("scan-csv").onclick = async (e) => {
      e.preventDefault();
      const blob = await (await api(`/jobs/${job.id}/results.csv`)).blob();
      const a = Object.assign(document.createElement("a"), { href: URL.createObjectURL(blob), download: "scan.csv" });
      a.click();
    };
    $("scan-result").hidden = false;
    status("scan-status", `${done.result.length} file(s) scanned`);
  } catch (e) {
    status("scan-status", e.message, true);
  }
}
dropZone($("scan-files"), scanFiles);

// --- generate -------------------------------------------------------------------------------------
async function checkKeys() {
  try {
    const k = await (await api("/keys")).json();
    status("keys-status", k.message, !k.ready);
    $("generate-go").disabled = !k.ready;
  } catch (e) {
    status("keys-status", e.message, true);
  }
}
let generated = null;
$("generate-form").onsubmit = async (e) => {
  e.preventDefault();
  $("generate-result").hidden = true;
  $("generate-go").disabled = true;
  status("generate-status", "uploading…");
  try {
    const job = await (await api("/generate", { method: "POST", body: new FormData(e.target) })).json();
    const done = await waitForJob(job, "generate-progress", "generate-status");
    generated = await (await api(`/jobs/${job.id}/video`)).blob();
    const url = URL.createObjectURL(generated);
    $("generate-video").src = url;
    $("generate-download").href = url;
    $("generate-result").hidden = false;
    status("generate-status", done.result.summary);
  } catch (err) {
    status("generate-status", err.message, true);
  } finally {
    $("generate-go").disabled = false;
  }
};
$("generate-verify").onclick = () => generated && verifyBlob(generated, "likeness.mp4");
checkKeys();
