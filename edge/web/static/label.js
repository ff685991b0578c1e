"use strict";
// The labelling page: the unlabelled pictures of a camera, most uncertain first, one key each.

const state = {camera: null, labels: [], items: [], index: 0, done: 0};

async function getJSON(path) {
  const response = await fetch(path, {cache: "no-store"});
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

async function loadCameras() {
  const overview = await getJSON("/api/label");
  const select = document.getElementById("camera");
  select.innerHTML = "";
  for (const name of Object.keys(overview.cameras)) {
    select.append(new Option(name, name));
  }
  select.onchange = () => loadCamera(select.value);
  if (select.options.length) await loadCamera(select.value);
  else show();
}

async function loadCamera(camera) {
  const overview = await getJSON("/api/label");
  state.camera = camera;
  state.labels = Object.keys(overview.cameras[camera].labels);
  state.items = await getJSON(`/api/label/${encodeURIComponent(camera)}`);
  state.index = 0;
  show();
}

function current() {
  return state.items[state.index] || null;
}

function show() {
  const item = current();
  document.getElementById("left").textContent = `${state.items.length - state.index} left`;
  document.getElementById("item").hidden = !item;
  document.getElementById("empty").hidden = Boolean(item);
  if (!item) return;
  const base = `/api/label/${encodeURIComponent(state.camera)}/${encodeURIComponent(item.name)}`;
  document.getElementById("picture").src = base;
  document.getElementById("guess").textContent = item.guess || "–";
  document.getElementById("confidence").textContent =
    item.confidence == null ? "" : `${Math.round(item.confidence * 100)}%`;
  document.getElementById("why").textContent = item.why.length ? `(${item.why.join(", ")})` : "";
  const keys = document.getElementById("labels");
  keys.innerHTML = "";
  state.labels.forEach((label, i) => {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.label = label;
    button.className = label === item.guess ? "guess" : "";
    if (i < 9) {
      const kbd = document.createElement("kbd");
      kbd.textContent = String(i + 1);
      button.append(kbd);
    }
    button.append(label);
    button.onclick = () => give(label);
    keys.append(button);
  });
}

async function send(body) {
  const item = current();
  const path = `/api/label/${encodeURIComponent(state.camera)}/${encodeURIComponent(item.name)}`;
  const response = await fetch(path, {method: "POST", body: JSON.stringify(body),
                                      headers: {"Content-Type": "application/json"}});
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.error);
  state.labels = Object.keys(answer.labels);
  state.done += 1;
  state.index += 1;
  show();
}

function give(label) {
  return send({label}).catch((error) => alert(error.message));
}

function skip() {
  state.index += 1;
  show();
}

document.getElementById("skip").onclick = skip;
document.getElementById("delete").onclick = () => send({delete: true});
document.getElementById("new").onsubmit = (event) => {
  event.preventDefault();
  const input = document.getElementById("label");
  const label = input.value.trim();
  input.value = "";
  input.blur();
  if (label && current()) give(label);
};

document.addEventListener("keydown", (event) => {
  if (event.target.tagName === "INPUT" || !current()) return;
  if (event.key >= "1" && event.key <= "9") {
    const label = state.labels[Number(event.key) - 1];
    if (label) give(label);
  } else if (event.key === "Enter" && current().guess && current().guess !== "unknown") {
    give(current().guess);
  } else if (event.key === "s" || event.key === "ArrowRight") {
    skip();
  } else if (event.key === "x" || event.key === "Delete") {
    send({delete: true});
  } else if (event.key === "n") {
    event.preventDefault();
    document.getElementById("label").focus();
  }
});

loadCameras();
