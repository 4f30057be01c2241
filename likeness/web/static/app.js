// Likeness web app: four pages over the /api/v1 JSON API (Live over a WebSocket). No framework; every call goes through api().
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
show(["verify", "scan", "generate", "live"].includes(location.hash.slice(1)) ? location.hash.slice(1) : "verify");

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

// The menus and control ranges come from the server (generator/options.py), never from this page.
async function loadOptions() {
  try {
    const o = await (await api("/generate/options")).json();
    const fill = (select, names) => {
      select.replaceChildren(...names.map((n) => new Option(n, n)));
    };
    fill(document.querySelector("#generate-form select[name=motion]"), o.motion);
    for (const sel of ["#generate-form select[name=emotion]", "#live-emotion"]) fill(document.querySelector(sel), o.emotion);
    for (const [name, r] of Object.entries(o.controls)) {
      document.querySelectorAll(`#generate-form [name=${name}], #live-form [name=${name}]`).forEach((input) => {
        Object.assign(input, { min: r.low, max: r.high, value: r.default, title: r.help });
      });
    }
  } catch (e) {
    status("generate-status", e.message, true);
  }
}
loadOptions();

// --- live: microphone -> WebSocket -> frames on a canvas ------------------------------------------
// Protocol in likeness/web/routes/live.py. Latency shown: from the moment at a frame's centre being heard by the
// microphone to the frame being drawn.
const live = { ws: null, ctx: null, stream: null, sent: [], latencies: [], frames: 0, t0: 0 };

function liveControls() {
  const f = $("live-form");
  return { type: "controls", emotion: f.emotion.value, gaze: [Number(f.gaze_x.value), 0], pose_scale: Number(f.pose_scale.value) };
}
["emotion", "gaze_x", "pose_scale"].forEach((n) => $("live-form")[n].addEventListener("change", () => {
  if (live.ws && live.ws.readyState === WebSocket.OPEN) live.ws.send(JSON.stringify(liveControls()));
}));

function liveStop(message, isError = false) {
  if (live.ctx) live.ctx.close();
  if (live.stream) live.stream.getTracks().forEach((t) => t.stop());
  if (live.ws && live.ws.readyState <= WebSocket.OPEN) live.ws.close();
  Object.assign(live, { ws: null, ctx: null, stream: null });
  $("live-go").textContent = "Start";
  if (message) status("live-status", message, isError);
}

async function liveStart() {
  const f = $("live-form");
  const file = f.portrait.files[0];
  if (!file) throw new Error("choose a portrait first");
  const bytes = new Uint8Array(await file.arrayBuffer());
  let bin = "";
  for (let i = 0; i < bytes.length; i += 32768) bin += String.fromCharCode(...bytes.subarray(i, i + 32768));
  const token = sessionStorage.getItem("likeness-token");
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + API + "/live";
  const ws = new WebSocket(url, ["likeness.v1", ...(token ? ["bearer." + token] : [])]);
  ws.binaryType = "arraybuffer";
  Object.assign(live, { ws, sent: [], latencies: [], frames: 0 });
  $("live-go").textContent = "Stop";
  status("live-status", "connecting…");
  ws.onopen = () => ws.send(JSON.stringify({ portrait: btoa(bin), size: Number(f.size.value), ...liveControls() }));
  ws.onclose = (e) => { if (live.ws === ws) liveStop(e.code === 1000 || e.code === 1005 ? "stopped" : e.reason || "connection closed", e.code !== 1000 && e.code !== 1005); };
  ws.onmessage = async (e) => {
    if (typeof e.data === "string") {
      const m = JSON.parse(e.data);
      if (m.type === "ready") await liveMicrophone(m);
      else if (m.type === "error") status("live-status", m.detail, true);
      return;
    }
    liveFrame(e.data);
  };
}

async function liveMicrophone(ready) {
  const canvas = $("live-canvas");
  canvas.width = canvas.height = ready.size;
  canvas.hidden = false;
  live.stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
  live.ctx = new AudioContext({ sampleRate: ready.rate });
  const source = live.ctx.createMediaStreamSource(live.stream);
  const proc = live.ctx.createScriptProcessor(512, 1, 1);  // 32 ms at 16 kHz
  let heard = 0;
  proc.onaudioprocess = (e) => {
    const x = e.inputBuffer.getChannelData(0);
    const pcm = new Int16Array(x.length);
    for (let i = 0; i < x.length; i++) pcm[i] = Math.max(-1, Math.min(1, x[i])) * 32767;
    heard += x.length;
    live.sent.push([heard, performance.now()]);
    if (live.sent.length > 400) live.sent.shift();
    if (live.ws && live.ws.readyState === WebSocket.OPEN) live.ws.send(pcm.buffer);
    e.outputBuffer.getChannelData(0).fill(0);
  };
  source.connect(proc);
  proc.connect(live.ctx.destination);
  live.rate = ready.rate;
  live.t0 = performance.now();
  status("live-status", "live: speak into the microphone");
}

async function liveFrame(buf) {
  const view = new DataView(buf);
  const centre = view.getUint32(4, true);
  const img = await createImageBitmap(new Blob([buf.slice(12)], { type: "image/jpeg" }));
  $("live-canvas").getContext("2d").drawImage(img, 0, 0);
  live.frames += 1;
  // when was the sample at this frame's centre heard? the chunk holding it was sent when its last sample was
  const chunk = live.sent.find(([end]) => end > centre);
  if (chunk) live.latencies.push(performance.now() - (chunk[1] - ((chunk[0] - centre) / live.rate) * 1000));
  if (live.latencies.length > 100) live.latencies.shift();
  const sorted = [...live.latencies].sort((a, b) => a - b);
  const p50 = sorted.length ? sorted[Math.floor(sorted.length / 2)] : NaN;
  const fps = live.frames / ((performance.now() - live.t0) / 1000);
  $("live-stats").textContent = `frames ${live.frames} · ${fps.toFixed(1)} fps · latency ${p50.toFixed(0)} ms (median of the last 100)`;
}

$("live-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  if (live.ws) return liveStop("stopped");
  try { await liveStart(); } catch (err) { liveStop(err.message, true); }
});
