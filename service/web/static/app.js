// The dashboard's entry point: the API token, the WebSocket to /ws (reconnecting with backoff), and each
// frame handed to the state (state.js) and the views that draw it: the account strip and banners, the day
// at a glance with its charts, orders, PnL, cycles, errors and notices, the kill switch.
// Markup lives in index.html and looks in style.css. Every piece of data is written with textContent,
// never innerHTML: symbols, strategy names and messages come from users and brokers.

import { accountsChanged, renderAccounts, tickAges, whenSessionRenewed } from "./accounts.js";
import { loadPnlHistory, observeCharts, renderDurationChart, renderPnlChart } from "./charts.js";
import { renderCycleHead, renderCycles, toggleCycle } from "./cycles.js";
import { renderDay } from "./day.js";
import { renderErrors, renderNotices } from "./errors.js";
import { $, formatInterval, show, showMessage } from "./format.js";
import { api } from "./http.js";
import { onKillSwitchSubmit, setPaused } from "./kill_switch.js";
import { renderOrders, renderPnl, tickFairPrices } from "./positions.js";
import {
  applyCycleErrors, applyCycleSummary, applyRecent, applySessionNeeded, cycleById, forgetUserData, state,
} from "./state.js";

const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 30000;
const TOKEN_KEY = "monitoring-loop-token";

const connection = { backoffMs: BACKOFF_FIRST_MS, reconnectTimer: null, hadConnection: false };

// --- token -----------------------------------------------------------------------------------------

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
  clearTimeout(connection.reconnectTimer);
  setConnection(connection.hadConnection ? "reconnecting" : "connecting");
  const socket = new WebSocket(socketUrl());
  let opened = false;
  state.socket = socket;
  socket.addEventListener("open", () => {
    opened = true;
    connection.hadConnection = true;
    connection.backoffMs = BACKOFF_FIRST_MS;
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
  const delay = connection.backoffMs;
  connection.backoffMs = Math.min(connection.backoffMs * 2, BACKOFF_MAX_MS);
  setConnection("reconnecting", `in ${Math.round(delay / 1000)} s`);
  connection.reconnectTimer = setTimeout(connect, delay);
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

function renderEverything() {
  renderAccounts();
  renderDay();
  renderOrders();
  renderPnl();
  renderCycles();
  renderErrors();
  renderNotices();
  renderPnlChart();
  renderDurationChart();
}

function signOut(reason) {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  forgetUserData();
  renderEverything();
  clearTimeout(connection.reconnectTimer);
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
  accounts: onAccounts,
  orders: (frame) => {
    state.orders = frame.orders;
    renderOrders();
  },
  pnl: (frame) => {
    state.pnl = frame.rows;
    state.fairPriceMaxAgeS = frame.fair_price_max_age_s ?? null;
    renderPnl();
  },
  recent: onRecent,
  cycle_started: onCycleStarted,
  cycle_summary: onCycleSummary,
  monitoring_errors: onMonitoringErrors,
  session_needed: (frame) => {
    applySessionNeeded(frame.account_id, frame.message, frame.login_url);
    renderAccounts();
  },
  paused: (frame) => setPaused(frame.paused, frame.reason),
  fanout: (frame) => showMessage(frame.message),
  error: (frame) => showMessage(`The server refused a request: ${frame.message}`),
  pong: () => {},
};

function onFrame(frame) {
  const handler = FRAME_HANDLERS[frame.type];
  if (handler) handler(frame);
}

function onHello(frame) {
  state.userId = frame.user_id;
  state.clockSkewMs = Date.parse(frame.server_time) - Date.now();
  state.liveCycles.clear();
  setPaused(frame.paused, frame.pause_reason);
  $("monitoring-note").textContent = frame.monitoring
    ? `User ${frame.user_id} · a cycle every ${formatInterval(frame.interval_s)} · times in IST`
    : `User ${frame.user_id} · monitoring is off`;
  loadPnlHistory();
}

function onAccounts(frame) {
  state.accounts = frame;
  state.sessions.clear();
  setPaused(frame.paused, frame.pause_reason);
  accountsChanged();
  renderDay();
  renderOrders();
  renderPnl();
}

function onRecent(frame) {
  applyRecent(frame);
  renderCycles();
  renderErrors();
  renderNotices();
  renderDurationChart();
}

function onCycleStarted(frame) {
  const cycle = cycleById(frame.cycle_id);
  cycle.started_at = frame.at;
  cycle.trigger = frame.trigger;
  renderCycles();
}

function onCycleSummary(frame) {
  applyCycleSummary(frame.summary);
  renderCycles();
  renderNotices();
  renderDurationChart();
  loadPnlHistory();
}

function onMonitoringErrors(frame) {
  applyCycleErrors(frame.cycle_id, frame.errors);
  renderErrors();
  renderCycles();
}

// --- start -----------------------------------------------------------------------------------------

function start() {
  renderCycleHead();
  observeCharts();
  $("login-form").addEventListener("submit", onLoginSubmit);
  $("kill-switch").addEventListener("submit", onKillSwitchSubmit);
  $("run-cycle").addEventListener("click", () => send({ type: "run_cycle" }));
  $("cycle-rows").addEventListener("click", toggleCycle);
  $("server-message-dismiss").addEventListener("click", () => show("server-message", false));
  whenSessionRenewed(() => send({ type: "subscribe" }));
  setInterval(() => {
    tickAges();
    tickFairPrices();
  }, 1000);
  const token = takeTokenFromAddress();
  if (token) signIn(token);
  else signOut();
}

start();
