// The live page: polls /api/status every second and each camera's history every few seconds,
// shows the MJPEG stream, draws the palette strip and the two charts on canvases.
"use strict";

const WINDOW_S = 300;  // the charts show the last 5 minutes, or less while there is less
const MIN_WINDOW_S = 30;
const STATUS_MS = 1000;
const HISTORY_MS = 3000;
const LABEL_COLORS = ["#5aa9e6", "#f0b43c", "#5cc76b", "#c77dff", "#ef5b5b", "#4dd0c8",
                      "#ff8fab", "#b5c99a", "#e0a96d", "#9aa0a6"];
const cameras = new Map();  // name -> {element, history}

function text(element, selector, value) {
  element.querySelector(selector).textContent = value;
}

function fmt(value, digits) {
  return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
}

function duration(seconds) {
  const s = Math.floor(seconds), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600);
  const m = Math.floor(s % 3600 / 60);
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : m ? `${m}m ${s % 60}s` : `${s}s`;
}

function labelColor(label) {
  let hash = 0;
  for (const c of String(label)) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
  return LABEL_COLORS[hash % LABEL_COLORS.length];
}

function camera(name) {
  if (cameras.has(name)) return cameras.get(name);
  const element = document.getElementById("camera").content.firstElementChild.cloneNode(true);
  element.dataset.camera = name;
  text(element, ".name", name);
  document.getElementById("cameras").append(element);
  const entry = {element, history: []};
  cameras.set(name, entry);
  const path = `/api/cameras/${encodeURIComponent(name)}`;
  const img = element.querySelector("img.live");
  img.addEventListener("error", () => setTimeout(() => { img.src = `${path}/stream.mjpg?t=${Date.now()}`; }, 2000));
  img.src = `${path}/stream.mjpg`;
  for (const button of element.querySelectorAll(".actions button")) {
    button.addEventListener("click", () => press(element, path, button.dataset.command));
  }
  refreshHistory(name);
  setInterval(() => refreshHistory(name), HISTORY_MS);
  return entry;
}

async function press(element, path, command) {
  const said = element.querySelector(".actions .said");
  try {
    const response = await fetch(`${path}/${command}`, {method: "POST"});
    const answer = await response.json();
    said.textContent = response.ok ? `${command}: asked` : `${command}: ${answer.error}`;
  } catch (error) {
    said.textContent = `${command}: ${error}`;
  }
}

function showCamera(name, data) {
  const {element} = camera(name);
  const state = element.querySelector(".state");
  state.textContent = data.state;
  state.className = `state ${data.state}`;
  const record = data.record, stats = data.stats || {};
  text(element, ".fps", fmt(data.fps, 1));
  text(element, ".processed", stats.processed ?? "–");
  text(element, ".dropped", stats.dropped ?? "–");
  text(element, ".classifier", data.models.classifier || "none");
  text(element, ".autoencoder", data.models.anomaly || "none");
  const c = record && record.classification;
  text(element, ".label", c ? (c.label || c.top[0].label) : "–");
  text(element, ".confidence", c ? `${Math.round(c.top[0].score * 100)}%` : "");
  const a = record && record.anomaly, anomaly = element.querySelector(".anomaly");
  anomaly.textContent = a ? `${fmt(a.score, 4)} / ${fmt(a.threshold, 4)}` : "–";
  anomaly.classList.toggle("bad", Boolean(a && a.is_anomaly));
  const rows = Object.entries(stats.latency_ms || {}).map(([stage, s]) =>
    `<tr><td>${stage}</td><td>${fmt(s && s.p50, 1)}</td><td>${fmt(s && s.p95, 1)}</td>` +
    `<td>${fmt(s && s.max, 1)}</td></tr>`);
  element.querySelector(".latency tbody").innerHTML = rows.join("");
  showCandidate(element, data.models.candidate, stats.candidate);
  text(element, ".choice", data.models.choice || "–");
  const captures = stats.captures;
  text(element, ".captures", captures ? `${captures.saved} (${captures.dropped} dropped)` : "off");
}

function showCandidate(element, name, shadow) {
  text(element, ".candidate", name || "none");
  const agreement = shadow && shadow.agreement != null && shadow.model === name
    ? `${fmt(shadow.agreement * 100, 1)}% of ${shadow.compared}` +
      (shadow.latency_ms ? `, ${fmt(shadow.latency_ms.p50, 1)} ms` : "")
    : "–";
  text(element, ".agreement", agreement);
  const table = element.querySelector("table.confusion");
  table.hidden = !(shadow && shadow.model === name && shadow.compared);
  if (table.hidden) return;
  const columns = [...new Set(Object.values(shadow.confusion).flatMap(Object.keys))].sort();
  const cell = (value) => { const td = document.createElement("td"); td.textContent = value; return td; };
  const head = document.createElement("tr");
  head.append(cell(""), ...columns.map(cell));
  table.tHead.replaceChildren(head);
  table.tBodies[0].replaceChildren(...Object.entries(shadow.confusion).map(([live, row]) => {
    const tr = document.createElement("tr");
    tr.append(cell(live), ...columns.map((c) => cell(row[c] || 0)));
    return tr;
  }));
}

function showStatus(status) {
  document.getElementById("device").textContent = status.device;
  document.title = `edge-vision ${status.device}`;
  document.getElementById("uptime").textContent = `up ${duration(status.uptime_s)}`;
  const t = status.cpu_temperature_c;
  document.getElementById("temperature").textContent = t === null ? "CPU temperature n/a" : `CPU ${t.toFixed(1)} °C`;
  const mqtt = document.getElementById("mqtt");
  if (status.mqtt === null) {
    mqtt.textContent = "MQTT off";
    mqtt.className = "chip";
  } else {
    mqtt.textContent = `MQTT ${status.mqtt.connected ? "connected" : "away"} · outbox ${status.mqtt.outbox_depth}`;
    mqtt.className = `chip ${status.mqtt.connected ? "ok" : "bad"}`;
  }
  for (const [name, data] of Object.entries(status.cameras)) showCamera(name, data);
}

function setLink(ok, message) {
  const link = document.getElementById("link");
  link.textContent = message;
  link.className = `chip ${ok ? "ok" : "bad"}`;
}

async function getJSON(path) {
  const response = await fetch(path, {cache: "no-store"});
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

async function refreshStatus() {
  try {
    showStatus(await getJSON("/api/status"));
    setLink(true, "live");
  } catch (error) {
    setLink(false, "daemon unreachable");
  }
}

async function refreshHistory(name) {
  try {
    const data = await getJSON(`/api/cameras/${encodeURIComponent(name)}/history`);
    const entry = cameras.get(name);
    entry.history = data.points;
    draw(entry);
  } catch (error) {
    setLink(false, "daemon unreachable");
  }
}

function sized(canvas) {
  const ratio = window.devicePixelRatio || 1, width = canvas.clientWidth;
  const height = Number(canvas.getAttribute("height"));
  if (canvas.width !== Math.round(width * ratio)) canvas.width = Math.round(width * ratio);
  canvas.style.height = `${height}px`;
  canvas.height = Math.round(height * ratio);
  const context = canvas.getContext("2d");
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  return {context, width, height};
}

let span = WINDOW_S;  // seconds across a chart

function xOf(t, now, width) {
  return width - (now - t) / span * width;
}

function draw(entry) {
  const points = entry.history, now = Date.now() / 1000;
  const oldest = points.length ? now - points[0].t : 0;
  span = Math.min(WINDOW_S, Math.max(MIN_WINDOW_S, Math.ceil(oldest / 10) * 10));
  text(entry.element, ".span", `· last ${span < 120 ? `${span} s` : `${Math.round(span / 60)} min`}`);
  drawPalette(entry.element.querySelector("canvas.palette"), points, now);
  drawConfidence(entry.element.querySelector("canvas.confidence"), points, now);
  drawScores(entry.element.querySelector("canvas.scores"), points, now);
}

function drawPalette(canvas, points, now) {
  const {context, width, height} = sized(canvas);
  const step = width / span + 1;
  for (const point of points) {
    let y = 0;
    const x = xOf(point.t, now, width);
    for (const [hex, fraction] of point.colors) {
      context.fillStyle = hex;
      context.fillRect(x, y, step, fraction * height + 0.5);
      y += fraction * height;
    }
  }
}

function axes(context, width, height, top) {
  context.strokeStyle = "#30343a";
  context.fillStyle = "#9aa0a6";
  context.font = "11px system-ui, sans-serif";
  context.beginPath();
  const tick = span > 120 ? 60 : span > 40 ? 15 : 5;
  for (let ago = tick; ago < span; ago += tick) {
    const x = width - ago / span * width;
    context.moveTo(x, 0);
    context.lineTo(x, height);
    context.fillText(tick === 60 ? `-${ago / 60} min` : `-${ago} s`, x + 3, height - 3);
  }
  context.stroke();
  context.fillText(top, 3, 11);
}

function drawConfidence(canvas, points, now) {
  const {context, width, height} = sized(canvas);
  axes(context, width, height, "100%");
  const scored = points.filter((p) => p.score !== null);
  const at = (p) => [xOf(p.t, now, width), height - p.score * (height - 6) - 3];
  context.lineWidth = 1;
  context.strokeStyle = "#5a6068";
  context.beginPath();
  scored.forEach((p, i) => (i ? context.lineTo : context.moveTo).apply(context, at(p)));
  context.stroke();
  let lastText = -Infinity, lastLabel = null;
  for (const point of scored) {
    const [x, y] = at(point);
    context.fillStyle = labelColor(point.label);
    context.fillRect(x - 2, y - 2, 4, 4);
    if (point.label !== lastLabel && x - lastText > 48) {
      context.fillText(point.label, Math.min(x + 3, width - 40), Math.max(y - 5, 24));
      lastText = x;
    }
    lastLabel = point.label;
  }
}

function drawScores(canvas, points, now) {
  const {context, width, height} = sized(canvas);
  const scored = points.filter((p) => p.anomaly !== null);
  const top = Math.max(1e-9, ...scored.map((p) => Math.max(p.anomaly, p.threshold * 1.5)));
  axes(context, width, height, fmt(top, 4));
  const yOf = (value) => height - value / top * (height - 4) - 2;
  context.lineWidth = 1.5;
  context.strokeStyle = "#5aa9e6";
  context.beginPath();
  scored.forEach((p, i) => (i ? context.lineTo : context.moveTo).call(context, xOf(p.t, now, width), yOf(p.anomaly)));
  context.stroke();
  if (!scored.length) return;
  const threshold = scored[scored.length - 1].threshold;
  context.setLineDash([6, 4]);
  context.strokeStyle = "#ef5b5b";
  context.beginPath();
  context.moveTo(0, yOf(threshold));
  context.lineTo(width, yOf(threshold));
  context.stroke();
  context.setLineDash([]);
  context.fillStyle = "#ef5b5b";
  context.fillText(`threshold ${fmt(threshold, 4)}`, 60, yOf(threshold) - 4);
}

refreshStatus();
setInterval(refreshStatus, STATUS_MS);
