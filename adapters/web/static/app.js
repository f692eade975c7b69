// The dashboard's behaviour: the API token, the WebSocket to /ws (reconnecting with backoff), and what
// the frames show — connection state, cycles as rows of the ten steps, PnL, orders with their three
// legs, errors, session banners with re-login, the kill switch and a cycle's timeline on click.
// Markup lives in index.html and looks in style.css. Every piece of data is written with textContent,
// never innerHTML: symbols, strategy names and messages come from users and brokers. Money is shown
// exactly as the server sends it (decimal strings); nothing here does arithmetic on it.

const STEPS = [
  { id: "fetch", label: "Fetch", name: "1 Fetch order book and positions" },
  { id: "pnl", label: "PnL", name: "2 FIFO profit and loss" },
  { id: "sync", label: "Sync", name: "3 Sync orders" },
  { id: "protect", label: "SL/TP", name: "4 Place stop-loss and take-profit" },
  { id: "modify_entries", label: "Entry mod", name: "5 Modify entries" },
  { id: "modify_stop_losses", label: "SL mod", name: "6 Modify stop-losses" },
  { id: "archive_rejected", label: "Archive", name: "7 Archive rejected orders" },
  { id: "regenerate", label: "Regen", name: "8 Regenerate rejected entries" },
  { id: "place_regenerated", label: "Place regen", name: "9 Place regenerated entries" },
  { id: "report", label: "Report", name: "10 Report errors" },
];
const STEP_NAMES = Object.fromEntries(STEPS.map((step) => [step.id, step.name]));
const OUTCOME_MARKS = { ok: "✓", failed: "✕", timed_out: "⏱", skipped: "–", running: "…" };
const OUTCOME_WORDS = { ok: "ok", failed: "failed", timed_out: "timed out", skipped: "skipped", running: "running" };
const MAX_CYCLES = 50;
const MAX_ERRORS = 100;
const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 30000;
const TOKEN_KEY = "monitoring-loop-token";

const timeFormat = new Intl.DateTimeFormat("en-IN", {
  timeZone: "Asia/Kolkata", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
});
const dateTimeFormat = new Intl.DateTimeFormat("en-IN", {
  timeZone: "Asia/Kolkata", dateStyle: "medium", timeStyle: "medium",
});

const state = {
  token: null,
  socket: null,
  backoffMs: BACKOFF_FIRST_MS,
  reconnectTimer: null,
  hadConnection: false,
  paused: false,
  cycles: [],
  expanded: new Set(),
  timelines: new Map(),
  errors: [],
  sessions: new Map(),
};

const $ = (id) => document.getElementById(id);

// --- small DOM helpers -----------------------------------------------------------------------------

function el(tag, options = {}, children = []) {
  const node = document.createElement(tag);
  if (options.className) node.className = options.className;
  if (options.text !== undefined && options.text !== null) node.textContent = String(options.text);
  for (const [name, value] of Object.entries(options.attrs || {})) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}

function cell(text, className = "") {
  return el("td", { className, text: text ?? "—" });
}

function show(id, visible) {
  $(id).hidden = !visible;
}

function formatTime(iso) {
  return iso ? timeFormat.format(new Date(iso)) : "—";
}

function formatDateTime(iso) {
  return iso ? `${dateTimeFormat.format(new Date(iso))} IST` : "";
}

function signClass(money) {
  if (money === null || money === undefined) return "num";
  if (String(money).startsWith("-")) return "num negative";
  return /^[0.]+$/.test(String(money)) ? "num" : "num positive";
}

function moneyCell(money) {
  return cell(money ?? "—", signClass(money));
}

function headerCell(text, attrs = {}, className = "") {
  return el("th", { className, text, attrs: { scope: "col", ...attrs } });
}

function stepName(stepId) {
  return STEP_NAMES[stepId] || stepId;
}

function accountLabel(accountId) {
  return accountId === null || accountId === undefined ? "user" : `#${accountId}`;
}

// --- token and HTTP --------------------------------------------------------------------------------

function takeTokenFromAddress() {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get("token");
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete("token");
    history.replaceState(null, "", url.pathname + url.search + url.hash);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const isJson = (response.headers.get("Content-Type") || "").includes("application/json");
  return { status: response.status, ok: response.ok, data: isJson ? await response.json() : null };
}

function showServerMessage(text) {
  $("server-message-text").textContent = text;
  show("server-message", true);
}

// --- connection ------------------------------------------------------------------------------------

const CONNECTION_TEXT = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting",
  unauthorized: "Unauthorized: the token was refused",
  "signed-out": "Not signed in",
};

function setConnection(name, detail = "") {
  const node = $("connection");
  node.dataset.state = name;
  node.textContent = detail ? `${CONNECTION_TEXT[name]} ${detail}` : CONNECTION_TEXT[name];
  $("run-cycle").disabled = name !== "live";
}

function socketUrl() {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}/ws?token=${encodeURIComponent(state.token)}`;
}

function connect() {
  clearTimeout(state.reconnectTimer);
  setConnection(state.hadConnection ? "reconnecting" : "connecting");
  const socket = new WebSocket(socketUrl());
  let opened = false;
  state.socket = socket;
  socket.addEventListener("open", () => {
    opened = true;
    state.hadConnection = true;
    state.backoffMs = BACKOFF_FIRST_MS;
    setConnection("live");
  });
  socket.addEventListener("message", (message) => onFrame(JSON.parse(message.data)));
  socket.addEventListener("close", () => {
    if (state.socket !== socket) return;
    state.socket = null;
    if (opened) scheduleReconnect();
    else probeThenReconnect();
  });
}

async function probeThenReconnect() {
  let status = null;
  try {
    status = (await api("GET", "/api/orders")).status;
  } catch {
    status = null;
  }
  if (status === 401) signOut("The server refused this token (401). Paste a valid API token.");
  else scheduleReconnect();
}

function scheduleReconnect() {
  const delay = state.backoffMs;
  state.backoffMs = Math.min(state.backoffMs * 2, BACKOFF_MAX_MS);
  setConnection("reconnecting", `in ${Math.round(delay / 1000)} s`);
  state.reconnectTimer = setTimeout(connect, delay);
}

function send(frame) {
  if (state.socket && state.socket.readyState === WebSocket.OPEN) state.socket.send(JSON.stringify(frame));
}

// --- sign in and out -------------------------------------------------------------------------------

function signIn(token) {
  state.token = token;
  show("login", false);
  show("controls", true);
  show("dashboard", true);
  connect();
}

function forgetUserData() {
  state.cycles = [];
  state.expanded.clear();
  state.timelines.clear();
  state.errors = [];
  state.sessions.clear();
  renderCycles();
  renderOrders([]);
  renderPnl([]);
  renderErrors();
  renderSessionBanners();
}

function signOut(reason) {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  forgetUserData();
  clearTimeout(state.reconnectTimer);
  setConnection(reason ? "unauthorized" : "signed-out");
  $("login-reason").textContent = reason || "Paste your API token to follow your monitoring cycles.";
  show("login", true);
  show("controls", false);
  show("dashboard", false);
}

function onLoginSubmit(event) {
  event.preventDefault();
  const token = $("login-token").value.trim();
  if (!token) return;
  sessionStorage.setItem(TOKEN_KEY, token);
  $("login-token").value = "";
  signIn(token);
}

// --- frames ----------------------------------------------------------------------------------------

const FRAME_HANDLERS = {
  hello: onHello,
  cycle_started: onCycleStarted,
  cycle_summary: onCycleSummary,
  monitoring_errors: onMonitoringErrors,
  session_needed: onSessionNeeded,
  orders: (frame) => renderOrders(frame.orders),
  pnl: (frame) => renderPnl(frame.rows),
  paused: (frame) => setPaused(frame.paused, frame.reason),
  error: (frame) => showServerMessage(`The server refused a request: ${frame.message}`),
  pong: () => {},
};

function onFrame(frame) {
  const handler = FRAME_HANDLERS[frame.type];
  if (handler) handler(frame);
}

function formatInterval(seconds) {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

function onHello(frame) {
  setPaused(frame.paused, frame.pause_reason);
  $("monitoring-note").textContent = frame.monitoring
    ? `User ${frame.user_id} · a cycle every ${formatInterval(frame.interval_s)} · times in IST`
    : `User ${frame.user_id} · monitoring is off`;
}

function cycleById(cycleId) {
  let cycle = state.cycles.find((candidate) => candidate.cycle_id === cycleId);
  if (!cycle) {
    cycle = { cycle_id: cycleId, started_at: null, trigger: null, summary: null, errors: [] };
    state.cycles.unshift(cycle);
    for (const dropped of state.cycles.splice(MAX_CYCLES)) {
      state.expanded.delete(dropped.cycle_id);
      state.timelines.delete(dropped.cycle_id);
    }
  }
  return cycle;
}

function onCycleStarted(frame) {
  const cycle = cycleById(frame.cycle_id);
  cycle.started_at = frame.at;
  cycle.trigger = frame.trigger;
  renderCycles();
}

function onCycleSummary(frame) {
  const cycle = cycleById(frame.summary.cycle_id);
  cycle.summary = frame.summary;
  cycle.started_at = cycle.started_at || frame.summary.started_at;
  state.timelines.delete(cycle.cycle_id);
  renderCycles();
}

function onMonitoringErrors(frame) {
  const cycle = cycleById(frame.cycle_id);
  cycle.errors = frame.errors;
  state.errors = [...[...frame.errors].reverse(), ...state.errors].slice(0, MAX_ERRORS);
  renderErrors();
  renderCycles();
}

function onSessionNeeded(frame) {
  state.sessions.set(frame.account_id, frame.message);
  renderSessionBanners();
}

// --- cycles ----------------------------------------------------------------------------------------

function renderCycleHead() {
  const head = $("cycle-head");
  head.append(headerCell("Started"), headerCell("Trigger"));
  for (const step of STEPS) head.append(headerCell(step.label, { title: step.name }, "step-head"));
  head.append(headerCell("Duration", { title: "Sum of the steps' durations" }, "num"));
  head.append(headerCell("Errors", {}, "num"), headerCell("Notices"));
}

function reportsOf(cycle, stepId) {
  return cycle.summary ? cycle.summary.steps.filter((report) => report.step === stepId) : [];
}

function stepOutcome(cycle, reports) {
  if (!cycle.summary) return "running";
  for (const outcome of ["failed", "timed_out", "ok"]) {
    if (reports.some((report) => report.outcome === outcome)) return outcome;
  }
  return "skipped";
}

function milliseconds(report) {
  return report.duration_ms === null || report.duration_ms === undefined ? "" : ` ${report.duration_ms} ms`;
}

function describeReport(report) {
  const duration = milliseconds(report);
  return `${accountLabel(report.account_id)}: ${OUTCOME_WORDS[report.outcome]}${duration ? ` in${duration}` : ""}`;
}

function stepTitle(step, cycle, reports) {
  if (!cycle.summary) return `${step.name}: the cycle is running`;
  if (!reports.length) return `${step.name}: not run in this cycle`;
  return `${step.name} — ${reports.map(describeReport).join("; ")}`;
}

function stepCell(step, cycle) {
  const reports = reportsOf(cycle, step.id);
  const outcome = stepOutcome(cycle, reports);
  return el("td", {
    className: `step outcome-${outcome}`,
    text: OUTCOME_MARKS[outcome],
    attrs: {
      title: stepTitle(step, cycle, reports), "data-step": step.id, "data-outcome": outcome,
      "data-testid": "step-cell", "aria-label": `${step.label}: ${OUTCOME_WORDS[outcome]}`,
    },
  });
}

function cycleDuration(cycle) {
  if (!cycle.summary) return "running";
  let total = 0;
  for (const step of STEPS) {
    const durations = reportsOf(cycle, step.id).map((report) => report.duration_ms || 0);
    total += durations.length ? Math.max(...durations) : 0;
  }
  return total >= 1000 ? `${(total / 1000).toFixed(1)} s` : `${total} ms`;
}

function noticesCell(cycle) {
  const notices = cycle.summary ? [...cycle.summary.notices] : [];
  const node = el("td", { className: "notices" });
  if (cycle.summary && cycle.summary.paused) node.append(el("span", { className: "tag paused", text: "paused" }));
  for (const notice of notices) node.append(el("span", { className: "notice", text: notice }));
  return node;
}

function cycleRow(cycle) {
  const expanded = state.expanded.has(cycle.cycle_id);
  const toggle = el("button", {
    className: "row-toggle", text: formatTime(cycle.started_at),
    attrs: {
      type: "button", "aria-expanded": String(expanded),
      title: `${formatDateTime(cycle.started_at)} · ${cycle.cycle_id}`,
    },
  });
  const errorCount = cycle.summary ? cycle.summary.error_count : null;
  const row = el("tr", {
    className: `cycle${expanded ? " expanded" : ""}`,
    attrs: {
      "data-testid": "cycle-row", "data-cycle-id": cycle.cycle_id,
      "data-status": cycle.summary ? "done" : "running",
    },
  }, [el("td", {}, [toggle]), cell(cycle.trigger || "—", "muted")]);
  for (const step of STEPS) row.append(stepCell(step, cycle));
  row.append(cell(cycleDuration(cycle), "num muted"));
  row.append(cell(errorCount ?? "—", `num${errorCount ? " has-errors" : ""}`));
  row.append(noticesCell(cycle));
  return row;
}

function renderCycles() {
  const body = $("cycle-rows");
  body.replaceChildren();
  for (const cycle of state.cycles) {
    body.append(cycleRow(cycle));
    if (state.expanded.has(cycle.cycle_id)) body.append(cycleDetailRow(cycle));
  }
  show("cycles-empty", state.cycles.length === 0);
}

function toggleCycle(event) {
  const row = event.target.closest("tr.cycle");
  if (!row) return;
  const cycleId = row.dataset.cycleId;
  if (state.expanded.has(cycleId)) state.expanded.delete(cycleId);
  else state.expanded.add(cycleId);
  renderCycles();
}

// --- one cycle's detail: per account, its errors, its timeline --------------------------------------

function cycleDetailRow(cycle) {
  const content = el("div", { className: "detail" }, [
    el("h3", { text: `Cycle ${cycle.cycle_id}` }),
    perAccountTable(cycle),
    cycleErrors(cycle),
    timelineSection(cycle),
  ]);
  return el("tr", { className: "cycle-detail", attrs: { "data-testid": "cycle-detail" } }, [
    el("td", { attrs: { colspan: String(STEPS.length + 5) } }, [content]),
  ]);
}

function perAccountTable(cycle) {
  if (!cycle.summary) {
    return el("p", { className: "muted", text: "The cycle is running; per-account results come with its summary." });
  }
  const accounts = [...new Set(cycle.summary.steps.map((report) => report.account_id))];
  const head = el("tr", {}, [headerCell("Account")]);
  for (const step of STEPS) head.append(headerCell(step.label, { title: step.name }));
  const body = el("tbody");
  for (const accountId of accounts) {
    const row = el("tr", {}, [el("th", { text: accountLabel(accountId), attrs: { scope: "row" } })]);
    for (const step of STEPS) row.append(accountStepCell(cycle, step, accountId));
    body.append(row);
  }
  const table = el("table", { className: "per-account", attrs: { "data-testid": "per-account" } });
  table.append(el("thead", {}, [head]), body);
  return table;
}

function accountStepCell(cycle, step, accountId) {
  const report = cycle.summary.steps.find((found) => found.step === step.id && found.account_id === accountId);
  if (!report) return el("td", { className: "step blank", text: "" });
  return el("td", {
    className: `step outcome-${report.outcome}`,
    text: `${OUTCOME_MARKS[report.outcome]}${milliseconds(report)}`,
    attrs: { title: `${step.name} — ${describeReport(report)}` },
  });
}

function cycleErrors(cycle) {
  if (!cycle.errors.length) return el("p", { className: "muted", text: "No errors in this cycle." });
  return el("ul", { className: "cycle-errors" }, cycle.errors.map((error) => el("li", {
    text: `${stepName(error.step)} · ${accountLabel(error.account_id)} · ${error.kind}: ${error.message}`,
  })));
}

function timelineSection(cycle) {
  const section = el("div", { className: "timeline", attrs: { "data-testid": "timeline" } });
  section.append(el("h4", { text: "Timeline" }));
  const timeline = state.timelines.get(cycle.cycle_id);
  if (!timeline) {
    loadTimeline(cycle.cycle_id);
    section.append(el("p", { className: "muted", text: "Loading the timeline…" }));
  } else if (timeline.message) {
    section.append(el("p", {
      className: "muted", text: timeline.message, attrs: { "data-testid": "timeline-message" },
    }));
  } else {
    section.append(timelineTable(timeline.entries));
  }
  return section;
}

async function loadTimeline(cycleId) {
  state.timelines.set(cycleId, { message: "Loading the timeline…" });
  let timeline;
  try {
    const response = await api("GET", `/api/cycles/${encodeURIComponent(cycleId)}`);
    timeline = timelineFrom(response);
  } catch (error) {
    timeline = { message: `The timeline could not be loaded: ${error.message}` };
  }
  state.timelines.set(cycleId, timeline);
  if (state.expanded.has(cycleId)) renderCycles();
}

function timelineFrom(response) {
  if (response.ok && response.data && Array.isArray(response.data.entries)) return { entries: response.data.entries };
  if (response.status === 404) return { message: "No timeline is available for this cycle (the server answered 404)." };
  return { message: `The timeline could not be loaded (HTTP ${response.status}).` };
}

function timelineTable(entries) {
  const head = el("tr", {}, ["Time", "Step", "Account", "Outcome", "Detail"].map((title) => headerCell(title)));
  const body = el("tbody", {}, entries.map((entry) => el("tr", { attrs: { "data-testid": "timeline-entry" } }, [
    cell(formatTime(entry.at), "muted"),
    cell(stepName(entry.step)),
    cell(accountLabel(entry.account_id)),
    cell(entry.outcome, entry.outcome ? `outcome-text-${entry.outcome}` : ""),
    cell(typeof entry.detail === "string" ? entry.detail : JSON.stringify(entry.detail)),
  ])));
  return el("table", { className: "timeline-table" }, [el("thead", {}, [head]), body]);
}

// --- PnL and orders --------------------------------------------------------------------------------

function openQuantity(qty) {
  if (qty > 0) return `${qty} long`;
  if (qty < 0) return `${-qty} short`;
  return "flat";
}

function renderPnl(rows) {
  const body = $("pnl-rows");
  body.replaceChildren(...rows.map((row) => el("tr", { attrs: { "data-testid": "pnl-row" } }, [
    cell(accountLabel(row.account_id)),
    cell(row.symbol, "symbol"),
    cell(openQuantity(row.open_qty), "num"),
    moneyCell(row.realized_pnl),
    moneyCell(row.unrealized_pnl),
  ])));
  show("pnl-empty", rows.length === 0);
}

function badge(status) {
  if (!status) return el("span", { className: "badge none", text: "—" });
  const slug = String(status).toLowerCase().replace(/[^a-z]+/g, "-");
  return el("span", { className: `badge status-${slug}`, text: status });
}

function legCell(price, detail, status, brokerId) {
  return el("td", { className: "leg", attrs: { title: brokerId ? `broker order ${brokerId}` : "not sent" } }, [
    el("span", { className: "price", text: price ?? "—" }),
    detail ? el("span", { className: "leg-detail", text: detail }) : "",
    badge(status),
  ]);
}

function entryCell(order) {
  const price = order.entry_limit_price ?? order.entry_stop_price;
  const parts = [order.entry_type];
  if (order.entry_limit_price && order.entry_stop_price) parts.push(`stop ${order.entry_stop_price}`);
  if (order.avg_entry_price) parts.push(`avg ${order.avg_entry_price}`);
  return legCell(price, parts.join(" · "), order.entry_orderstatus, order.entry_order_id);
}

function orderRow(order) {
  return el("tr", { attrs: { "data-testid": "order-row", "data-order-id": String(order.id) } }, [
    el("td", {}, [
      el("span", { className: "order-id", text: `#${order.id}` }),
      el("span", { className: "strategy", text: order.strategy }),
    ]),
    cell(accountLabel(order.account_id)),
    cell(order.symbol, "symbol"),
    cell(order.side, `side-${String(order.side).toLowerCase()}`),
    cell(`${order.filled_qty} / ${order.quantity}`, "num"),
    el("td", {}, [badge(order.status)]),
    entryCell(order),
    legCell(order.sl_stop_price, order.sl_qty ? `qty ${order.sl_qty}` : "", order.sl_orderstatus, order.sl_order_id),
    legCell(order.tp_price, order.tp_qty ? `qty ${order.tp_qty}` : "", order.tp_orderstatus, order.tp_order_id),
    cell(order.ltp, "num"),
    moneyCell(order.realized_pnl),
    moneyCell(order.unrealized_pnl),
  ]);
}

function renderOrders(orders) {
  const newestFirst = [...orders].sort((a, b) => (b.id ?? 0) - (a.id ?? 0));
  $("order-rows").replaceChildren(...newestFirst.map(orderRow));
  show("orders-empty", orders.length === 0);
}

// --- errors ----------------------------------------------------------------------------------------

function renderErrors() {
  $("error-list").replaceChildren(...state.errors.map((error) => el("li", { attrs: { "data-testid": "error-item" } }, [
    el("div", { className: "error-head" }, [
      el("time", { text: formatTime(error.at), attrs: { datetime: error.at, title: formatDateTime(error.at) } }),
      el("span", { className: "tag kind", text: error.kind }),
      el("span", { className: "muted", text: `${stepName(error.step)} · ${accountLabel(error.account_id)}` }),
    ]),
    el("p", { className: "error-message", text: error.message }),
  ])));
  show("errors-empty", state.errors.length === 0);
}

// --- session banners -------------------------------------------------------------------------------

function renderSessionBanners() {
  const container = $("session-banners");
  for (const banner of [...container.children]) {
    if (!state.sessions.has(Number(banner.dataset.accountId))) banner.remove();
  }
  for (const [accountId, message] of state.sessions) {
    const shown = container.querySelector(`[data-account-id="${accountId}"]`);
    if (!shown) container.append(sessionBanner(accountId, message));
  }
}

function sessionBanner(accountId, message) {
  const inputId = `session-token-${accountId}`;
  const status = el("p", { className: "banner-status", attrs: { role: "status", "aria-live": "polite" } });
  const form = el("form", { className: "banner-form" }, [
    el("label", { text: "Broker session token (optional)", attrs: { for: inputId } }),
    el("input", {
      attrs: { id: inputId, type: "password", autocomplete: "off", placeholder: "leave empty to use the stored keys" },
    }),
    el("button", { text: "Log in again", attrs: { type: "submit", "data-testid": "relogin" } }),
  ]);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    renewSession(accountId, form, status);
  });
  return el("section", {
    className: "banner",
    attrs: { role: "alert", "data-testid": "session-banner", "data-account-id": String(accountId) },
  }, [
    el("h2", { text: `Account ${accountLabel(accountId)} needs a new broker session` }),
    el("p", { text: message }),
    form,
    status,
  ]);
}

async function renewSession(accountId, form, status) {
  const button = form.querySelector("button");
  const token = form.querySelector("input").value.trim();
  button.disabled = true;
  status.textContent = "Logging in…";
  try {
    const response = await api("POST", `/api/accounts/${accountId}/session`, token ? { token } : {});
    if (response.ok) {
      state.sessions.delete(accountId);
      renderSessionBanners();
      return;
    }
    status.textContent = (response.data && response.data.error) || `Login failed (HTTP ${response.status}).`;
  } catch (error) {
    status.textContent = `Login failed: ${error.message}`;
  }
  button.disabled = false;
}

// --- kill switch -----------------------------------------------------------------------------------

function setPaused(paused, reason) {
  state.paused = paused;
  const label = $("automation-state");
  label.dataset.paused = String(paused);
  label.textContent = paused ? `Automation paused: ${reason || "no reason given"}` : "Automation running";
  $("pause-toggle").textContent = paused ? "Resume automation" : "Pause automation";
  $("pause-toggle").className = paused ? "primary" : "danger";
  show("pause-reason-label", !paused);
}

async function onKillSwitchSubmit(event) {
  event.preventDefault();
  const button = $("pause-toggle");
  button.disabled = true;
  try {
    const reason = $("pause-reason").value.trim();
    const response = state.paused
      ? await api("POST", "/api/resume")
      : await api("POST", "/api/pause", reason ? { reason } : {});
    if (response.ok) {
      setPaused(response.data.paused, response.data.reason);
      $("pause-reason").value = "";
    } else {
      showServerMessage((response.data && response.data.error) || `The kill switch failed (HTTP ${response.status}).`);
    }
  } catch (error) {
    showServerMessage(`The kill switch failed: ${error.message}`);
  }
  button.disabled = false;
}

// --- start -----------------------------------------------------------------------------------------

function start() {
  renderCycleHead();
  $("login-form").addEventListener("submit", onLoginSubmit);
  $("kill-switch").addEventListener("submit", onKillSwitchSubmit);
  $("run-cycle").addEventListener("click", () => send({ type: "run_cycle" }));
  $("cycle-rows").addEventListener("click", toggleCycle);
  $("server-message-dismiss").addEventListener("click", () => show("server-message", false));
  const token = takeTokenFromAddress();
  if (token) signIn(token);
  else signOut();
}

start();
