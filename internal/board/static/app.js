// nettrain board: lists the runs, draws the selected run's curves and the
// overlay of the ticked runs, and shows comparison reports. Every string
// from the run directories goes into the page with textContent.
"use strict";

const colors = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#c8b400"];
const state = { selected: null, ticked: new Set(), runs: [], charts: {}, report: null, traceKey: null, metrics: new Map() };

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function fmt(v, digits) {
  if (v === null || v === undefined) return "";
  if (typeof v !== "number") return String(v);
  return Math.abs(v) >= 1e5 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toFixed(digits === undefined ? 4 : digits);
}

async function getJSON(url) {
  const r = await fetch(url, { cache: "no-store" });
  if (!r.ok) throw new Error(url + ": " + r.status);
  return r.json();
}

// getRun fetches /api/run for a run, asking only for the metrics rows the
// page does not hold yet (from, with the signature of the last one it
// holds: the server sends every row again if that row has changed), and
// returns the answer with all the run's rows in metrics.
async function getRun(name) {
  const have = state.metrics.get(name);
  let url = "/api/run?name=" + encodeURIComponent(name);
  if (have && have.rows.length > 0) url += "&from=" + have.rows.length + "&sig=" + encodeURIComponent(have.sig);
  const d = await getJSON(url);
  let rows = d.metrics;
  if (d.metrics_from > 0) {
    // The new rows follow those the page held when it asked; if another
    // request for the run has answered meanwhile, those may be gone: ask
    // again, from what the page holds now.
    if (state.metrics.get(name) !== have) return getRun(name);
    rows = have.rows;
    for (const r of d.metrics) rows.push(r);
  }
  state.metrics.set(name, { rows: rows, sig: d.metrics_sig });
  d.metrics = rows;
  return d;
}

// forgetRuns drops the rows of runs neither selected nor ticked.
function forgetRuns() {
  for (const name of [...state.metrics.keys()]) {
    if (name !== state.selected && !state.ticked.has(name)) state.metrics.delete(name);
  }
}

// ---- the runs table ----

function renderRuns(list) {
  state.runs = list.runs;
  state.dir = list.dir;
  const tbody = document.querySelector("#runs tbody");
  tbody.replaceChildren();
  if (list.runs.length === 0) {
    const tr = el("tr", null, "empty");
    const td = el("td", "no runs yet: nettrain train CONFIG --out " + list.dir + "/NAME");
    td.colSpan = 8;
    tr.append(td);
    tbody.append(tr);
  }
  for (const run of list.runs) {
    const tr = el("tr");
    tr.dataset.run = run.name;
    if (run.name === state.selected) tr.classList.add("selected");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = state.ticked.has(run.name);
    box.addEventListener("click", (ev) => {
      ev.stopPropagation();
      if (box.checked) state.ticked.add(run.name); else state.ticked.delete(run.name);
      toHash();
      refreshOverlay();
    });
    const tdBox = el("td");
    tdBox.append(box);
    const b = run.best || {};
    const metric = b.val_accuracy !== null && b.val_accuracy !== undefined ? fmt(b.val_accuracy) :
      (b.val_mae !== null && b.val_mae !== undefined ? "MAE " + fmt(b.val_mae, 3) : "");
    const where = run.best ? "epoch " + b.epoch + ", step " + b.step : "";
    const status = el("span", run.status, "status " + run.status);
    if (run.reason) status.title = run.reason;
    const tdStatus = el("td");
    tdStatus.append(status);
    tr.append(tdBox, el("td", run.name, "name"), tdStatus, el("td", where),
      el("td", b.val_loss !== undefined ? fmt(b.val_loss) : "", "num"), el("td", metric, "num"),
      el("td", run.rows, "num"), el("td", run.about));
    tr.addEventListener("click", () => selectRun(run.name));
    tbody.append(tr);
  }
}

function renderReports(list) {
  const ul = document.getElementById("reports");
  ul.replaceChildren();
  if (list.reports.length === 0) ul.append(el("li", "none (nettrain compare-optimizers CONFIG)", "empty"));
  for (const rep of list.reports) {
    const li = el("li");
    const a = el("a", rep.name);
    a.href = "#";
    a.dataset.report = rep.name;
    a.addEventListener("click", (ev) => { ev.preventDefault(); showReport(rep.name); });
    li.append(a);
    ul.append(li);
  }
}

// ---- charts ----

function chartWidth() { return Math.max(320, Math.min(560, Math.floor((window.innerWidth - 140) / 3))); }

// draw makes or updates the uPlot chart in the div id: x values, series
// [{label, values}], a title and the y scale (log when asked and possible).
function draw(id, title, xlabel, x, series, log) {
  const key = id + "|" + series.map((s) => s.label + "/" + (s.color || "")).join("|") + "|" + log;
  const data = [x, ...series.map((s) => s.values)];
  const old = state.charts[id];
  if (old && old.key === key) {
    old.plot.setData(data);
    return;
  }
  if (old) old.plot.destroy();
  const div = document.getElementById(id);
  div.replaceChildren();
  const opts = {
    title: title, width: chartWidth(), height: 260,
    scales: { x: { time: false }, y: log ? { distr: 3 } : {} },
    axes: [{ label: xlabel }, { size: 64, values: (u, vals) => vals.map(tickText) }],
    series: [{ label: xlabel }, ...series.map((s, i) => ({ label: s.label, stroke: s.color || colors[i % colors.length], width: 2, points: { show: x.length < 40 }, spanGaps: true }))],
  };
  state.charts[id] = { key: key, plot: new uPlot(opts, data, div) };
}

// tickText labels an axis value in up to 4 significant digits (uPlot's
// default rounds small learning rates to equal labels).
function tickText(v) {
  if (v === null || v === undefined) return "";
  if (v !== 0 && (Math.abs(v) >= 1e5 || Math.abs(v) < 1e-4)) return v.toExponential(1);
  return String(+v.toPrecision(4));
}

function column(rows, k) { return rows.map((r) => (r[k] === null || r[k] === undefined ? null : r[k])); }

function wantsLog(arrays) {
  let lo = Infinity, hi = -Infinity;
  for (const a of arrays) for (const v of a) if (v !== null && v > 0) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  return lo > 0 && hi / lo > 10;
}

function drawRun(d) {
  const rows = d.metrics;
  const x = column(rows, "step");
  const train = column(rows, "train_loss"), val = column(rows, "val_loss");
  const losses = [{ label: "train loss (running mean over the epoch)", values: train }];
  if (val.some((v) => v !== null)) losses.push({ label: "validation loss", values: val });
  draw("chart-loss", "loss", "step", x, losses, wantsLog(losses.map((s) => s.values)));
  const acc = column(rows, "val_accuracy"), mae = column(rows, "val_mae");
  const div = document.getElementById("chart-metric");
  if (acc.some((v) => v !== null)) draw("chart-metric", "validation accuracy", "step", x, [{ label: "validation accuracy", values: acc }], false);
  else if (mae.some((v) => v !== null)) draw("chart-metric", "validation MAE", "step", x, [{ label: "validation MAE", values: mae }], false);
  div.hidden = !(acc.some((v) => v !== null) || mae.some((v) => v !== null));
  draw("chart-lr", "learning rate", "step", x, [{ label: "learning rate", values: column(rows, "lr") }], false);
}

// ---- the selected run ----

async function selectRun(name) {
  state.selected = name;
  toHash();
  for (const tr of document.querySelectorAll("#runs tbody tr")) tr.classList.toggle("selected", tr.dataset.run === name);
  await refreshRun();
  document.getElementById("run-section").scrollIntoView({ block: "nearest" });
}

async function refreshRun() {
  if (!state.selected) return;
  const d = await getRun(state.selected);
  document.getElementById("run-section").hidden = false;
  document.getElementById("run-name").textContent = d.name;
  const st = document.getElementById("run-status");
  st.textContent = d.status + (d.pid ? " (pid " + d.pid + ")" : "");
  st.className = "status " + d.status;
  document.getElementById("run-reason").textContent = d.reason || d.error || "";
  const cfg = document.getElementById("run-config");
  if (cfg.textContent !== d.config) cfg.textContent = d.config;
  drawRun(d);
  showTraces(d.name, d.traces || []);
}

// ---- the selected run's trace pages (trace*.html in its directory) ----

function traceURL(run, file) {
  return "/api/trace?name=" + encodeURIComponent(run) + "&file=" + encodeURIComponent(file);
}

// showTraces lists the run's trace pages and shows one in the frame; it
// redraws only when the list changes, so the page in the frame keeps its
// state between polls.
function showTraces(run, traces) {
  const key = JSON.stringify([state.dir, run, traces]);
  if (state.traceKey === key) return;
  state.traceKey = key;
  const links = document.getElementById("trace-links");
  const frame = document.getElementById("trace-frame");
  links.textContent = "";
  if (traces.length === 0) {
    frame.hidden = true;
    frame.removeAttribute("src");
    const dir = (state.dir ? state.dir + "/" : "") + run;
    links.appendChild(el("span", "No trace page in this run. Draw one with: "));
    links.appendChild(el("code", "nettrain trace " + dir + "/config.yaml --weights " + dir + "/best.safetensors --html " + dir + "/trace.html"));
    return;
  }
  const pick = (file) => {
    frame.src = traceURL(run, file);
    frame.hidden = false;
    for (const a of links.querySelectorAll("a[data-trace]")) a.classList.toggle("current", a.dataset.trace === file);
  };
  traces.forEach((file, i) => {
    if (i > 0) links.appendChild(el("span", " · "));
    const a = el("a", file);
    a.href = "#";
    a.dataset.trace = file;
    a.addEventListener("click", (ev) => { ev.preventDefault(); pick(file); });
    links.appendChild(a);
    const open = el("a", "↗");
    open.href = traceURL(run, file);
    open.target = "_blank";
    open.rel = "noopener";
    open.title = "open in a new tab";
    links.appendChild(el("span", " "));
    links.appendChild(open);
  });
  pick(traces[0]);
}

// ---- overlay of the ticked runs ----

async function refreshOverlay() {
  const names = [...state.ticked];
  document.getElementById("overlay-section").hidden = names.length === 0;
  if (names.length === 0) return;
  const runs = await Promise.all(names.map((n) => getRun(n).catch(() => null)));
  // One x axis: the union of the runs' steps; a run without a row at a
  // step has a gap there.
  const steps = [...new Set(runs.flatMap((r) => (r ? r.metrics.map((m) => m.step) : [])))].sort((a, b) => a - b);
  const at = (r, k) => {
    const m = new Map(r.metrics.map((row) => [row.step, row[k]]));
    return steps.map((s) => (m.has(s) && m.get(s) !== null ? m.get(s) : null));
  };
  // Each run keeps its colour in both charts (the accuracy chart leaves
  // out regression runs).
  const ok = runs.filter((r) => r).map((r, i) => ({ r: r, color: colors[i % colors.length] }));
  const loss = ok.map(({ r, color }) => {
    const val = r.metrics.some((m) => m.val_loss !== null);
    return { label: val ? r.name : r.name + " (training loss: no validation data)", color: color, values: at(r, val ? "val_loss" : "train_loss") };
  });
  const title = ok.length > 0 && loss.every((s) => s.label.endsWith("no validation data)")) ? "training loss" : "validation loss";
  draw("overlay-loss", title, "step", steps, loss, wantsLog(loss.map((s) => s.values)));
  const acc = ok.filter(({ r }) => r.metrics.some((m) => m.val_accuracy !== null)).map(({ r, color }) => ({ label: r.name, color: color, values: at(r, "val_accuracy") }));
  document.getElementById("overlay-metric").hidden = acc.length === 0;
  if (acc.length > 0) draw("overlay-metric", "validation accuracy", "step", steps, acc, false);
}

// ---- comparison reports ----

async function showReport(name) {
  const d = await getJSON("/api/report?name=" + encodeURIComponent(name));
  state.report = name;
  toHash();
  const s = d.summary;
  document.getElementById("report").hidden = false;
  document.getElementById("report-title").textContent = "Optimizer comparison: " + (s.name || d.name) + " (" + d.name + ")";
  const cols = [["rank", null], ["optimizer", "optimizer"], ["lr", "chosen_lr"], ["best val loss (mean)", "best_val_loss_mean"],
    ["sd", "best_val_loss_std"], ["final val loss", "final_val_loss_mean"], ["best val acc", "best_val_accuracy_mean"],
    ["steps to target", "steps_to_target_median"], ["good lrs", "robust_lrs"], ["diverged", "diverged"]];
  const head = el("tr");
  for (const [label] of cols) head.append(el("th", label));
  document.querySelector("#report-table thead").replaceChildren(head);
  const body = document.querySelector("#report-table tbody");
  body.replaceChildren();
  (s.optimizers || []).forEach((o, i) => {
    const tr = el("tr");
    for (const [, k] of cols) {
      let v = k === null ? i + 1 : o[k];
      if (k === "diverged") v = (o.diverged || []).length;
      if (k === "robust_lrs") v = o.robust_lrs + "/" + (o.lr_grid || []).length;
      tr.append(el("td", typeof v === "number" ? (Number.isInteger(v) ? v : fmt(v)) : (v === null || v === undefined ? "-" : v), "num"));
    }
    body.append(tr);
  });
  const ul = document.getElementById("report-findings");
  ul.replaceChildren(...(s.findings || []).map((f) => el("li", f)));
  const imgs = document.getElementById("report-images");
  imgs.replaceChildren(...d.images.map((f) => {
    const img = el("img");
    img.alt = f;
    img.src = "/api/image?name=" + encodeURIComponent(d.name) + "&file=" + encodeURIComponent(f);
    return img;
  }));
  document.getElementById("report").scrollIntoView({ block: "nearest" });
}

// ---- polling ----

async function tick() {
  const live = document.getElementById("live");
  try {
    const list = await getJSON("/api/runs");
    renderRuns(list);
    renderReports(list);
    forgetRuns();
    await refreshRun();
    await refreshOverlay();
    live.textContent = "live, updated " + new Date().toLocaleTimeString();
    live.classList.remove("off");
  } catch (e) {
    live.textContent = "cannot reach the board: " + e.message;
    live.classList.add("off");
  }
  setTimeout(tick, 1000);
}

// The address may name a run, runs to overlay and a report:
// #run=NAME&overlay=A,B&report=NAME (each URI-encoded). The page keeps it
// up to date (so that it can be bookmarked or shared) and follows it when
// it is changed: by hand, or by the browser's back and forward.
function fromHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  state.ticked = new Set((p.get("overlay") || "").split(",").filter((n) => n));
  for (const box of document.querySelectorAll("#runs tbody tr[data-run] input[type=checkbox]")) {
    box.checked = state.ticked.has(box.closest("tr").dataset.run);
  }
  if (p.get("report") && p.get("report") !== state.report) showReport(p.get("report")).catch(() => {});
  if (!p.get("report") && state.report) { // an address without one closes it
    state.report = null;
    document.getElementById("report").hidden = true;
  }
  if (!p.get("run") && state.selected) {
    state.selected = null;
    document.getElementById("run-section").hidden = true;
    for (const tr of document.querySelectorAll("#runs tbody tr")) tr.classList.remove("selected");
  }
  if (p.get("run") && p.get("run") !== state.selected) {
    if (state.dir === undefined) state.selected = p.get("run"); // the first poll shows it
    else selectRun(p.get("run")).catch(() => {});
  }
  if (state.dir !== undefined) refreshOverlay().catch(() => {});
}

// toHash writes the state into the address without adding a history entry
// or firing hashchange.
function toHash() {
  const p = new URLSearchParams();
  if (state.selected) p.set("run", state.selected);
  if (state.ticked.size > 0) p.set("overlay", [...state.ticked].join(","));
  if (state.report) p.set("report", state.report);
  const h = "#" + p.toString();
  if (location.hash !== h) history.replaceState(null, "", h);
}

fromHash();
window.addEventListener("hashchange", fromHash);
for (const tr of document.querySelectorAll("#runs tbody tr[data-run]")) tr.addEventListener("click", () => selectRun(tr.dataset.run));
for (const a of document.querySelectorAll("#reports a[data-report]")) a.addEventListener("click", (ev) => { ev.preventDefault(); showReport(a.dataset.report); });
tick();
