// The day's two charts, drawn with uPlot (vendored in static/vendor/uplot, loaded before this module): the
// day PnL through the trading day, per account and in total (GET /api/pnl/history, loaded again after each
// cycle), and each recent cycle's duration. Amounts become floats here only to be plotted.

import { $, accountLabel, formatMinute, formatTime } from "./format.js";
import { api } from "./http.js";
import { cycleDurationMs, state } from "./state.js";

const PALETTE = ["#8250df", "#bf3989", "#1a7f37", "#9a6700", "#0550ae", "#cf222e"];
const TOTAL_COLOUR = "#0969da";
/** The width one bar label needs, so that labels never overlap. */
const BAR_LABEL_PX = 90;
const charts = new Map();
let historyRequest = 0;

function plotting() {
  return typeof window.uPlot === "function" ? window.uPlot : null;
}

function istDate(seconds) {
  return window.uPlot.tzDate(new Date(seconds * 1000), "Asia/Kolkata");
}

/** Money on the y axis: whole units once the scale spans more than a few units, else two decimals. */
function moneyTicks(_, splits) {
  const span = Math.abs(splits[splits.length - 1] - splits[0]);
  return splits.map((value) => value.toFixed(span >= 20 ? 0 : 2));
}

/** Times on the x axis: to the minute, or to the second when the chart spans less than ten minutes. */
function timeTicks(_, splits) {
  const format = splits[splits.length - 1] - splits[0] < 600 ? formatTime : formatMinute;
  return splits.map((seconds) => format(new Date(seconds * 1000)));
}

function chartHeight() {
  return window.matchMedia("(max-width: 640px)").matches ? 150 : 190;
}

/** Draws (or redraws) the chart in `containerId`, saying in `data-points` how many x values it has; a
 *  message instead when there is nothing to draw. */
function draw(containerId, messageId, options, data, message) {
  const container = $(containerId);
  charts.get(containerId)?.destroy();
  charts.delete(containerId);
  const uPlot = plotting();
  const shown = message || (uPlot ? "" : "The chart library did not load; the numbers are in the tables.");
  $(messageId).textContent = shown;
  $(messageId).hidden = !shown;
  container.hidden = Boolean(shown);
  container.dataset.points = shown ? "0" : String(data[0].length);
  if (shown) return;
  const plot = new uPlot({
    width: Math.max(container.clientWidth, 120), height: chartHeight(), tzDate: istDate,
    legend: { live: false }, cursor: { drag: { x: false, y: false } }, ...options,
  }, data, container);
  charts.set(containerId, plot);
}

const resizer = new ResizeObserver((entries) => {
  for (const entry of entries) {
    const plot = charts.get(entry.target.id);
    const width = Math.floor(entry.contentRect.width);
    if (plot && width > 0 && width !== plot.width) plot.setSize({ width, height: chartHeight() });
  }
});

export function observeCharts() {
  resizer.observe($("pnl-chart"));
  resizer.observe($("duration-chart"));
}

// --- day PnL ---------------------------------------------------------------------------------------

export async function loadPnlHistory() {
  const request = ++historyRequest;
  let history;
  try {
    const response = await api("GET", "/api/pnl/history");
    history = response.ok && response.data && Array.isArray(response.data.points)
      ? response.data
      : { message: response.status === 404
        ? "This server keeps no PnL history (it answered 404)."
        : `The PnL history could not be loaded (HTTP ${response.status}).` };
  } catch (error) {
    history = { message: `The PnL history could not be loaded: ${error.message}` };
  }
  if (request !== historyRequest || !state.token) return;
  state.pnlHistory = history;
  renderPnlChart();
}

/** An account's day PnL at a point, or null when an open lot had no price to mark it (unknown, not 0). */
function dayValue(point) {
  return point.unmarked_lots ? null : Number(point.realized) + Number(point.unrealized);
}

/** The points of one cycle, oldest first: each account's PnL is computed once per cycle, so a point for an
 *  account already in the group starts the next one. A group is drawn at its last point's time. */
function cycleGroups(points) {
  const groups = [];
  let current = null;
  for (const point of [...points].sort((a, b) => Date.parse(a.at) - Date.parse(b.at))) {
    if (!current || current.values.has(point.account_id)) {
      current = { values: new Map() };
      groups.push(current);
    }
    current.values.set(point.account_id, dayValue(point));
    current.time = Date.parse(point.at) / 1000;
  }
  return groups;
}

/** One x per cycle that computed PnL; per account its value in that cycle, and the total of every account's
 *  latest value (unknown while any of them is unmarked). */
function pnlData(points) {
  const groups = cycleGroups(points);
  const accounts = [...new Set(points.map((point) => point.account_id))].sort((a, b) => a - b);
  const latest = new Map();
  const total = groups.map((group) => {
    for (const [accountId, value] of group.values) latest.set(accountId, value);
    const known = [...latest.values()];
    return known.includes(null) ? null : known.reduce((sum, value) => sum + value, 0);
  });
  const lines = accounts.map((accountId) => groups.map((group) => group.values.get(accountId) ?? null));
  return { accounts, data: [groups.map((group) => group.time), total, ...lines] };
}

export function renderPnlChart() {
  const history = state.pnlHistory;
  if (!history) {
    draw("pnl-chart", "pnl-chart-message", {}, [], "Loading…");
    return;
  }
  if (history.message || !history.points.length) {
    draw("pnl-chart", "pnl-chart-message", {}, [], history.message || "No PnL computed yet today.");
    return;
  }
  const { accounts, data } = pnlData(history.points);
  const series = [
    {},
    { label: "Total", stroke: TOTAL_COLOUR, width: 2.5, spanGaps: true, points: { show: data[0].length < 3 } },
    ...accounts.map((accountId, index) => ({
      label: accountLabel(accountId), stroke: PALETTE[index % PALETTE.length], width: 1.25, spanGaps: true,
      points: { show: data[0].length < 3 },
    })),
  ];
  draw("pnl-chart", "pnl-chart-message", {
    series, axes: [{ values: timeTicks, space: 90 }, { size: 64, values: moneyTicks }],
  }, data);
}

// --- cycle durations -------------------------------------------------------------------------------

/** One bar per finished recent cycle, oldest on the left, labelled with the minute it started (to the
 *  second when two labels would share a minute). */
export function renderDurationChart() {
  const done = state.cycles.filter((cycle) => cycle.summary && cycle.started_at)
    .sort((a, b) => a.started_at.localeCompare(b.started_at));
  if (!done.length) {
    draw("duration-chart", "duration-chart-message", {}, [], "No finished cycle yet.");
    return;
  }
  const started = done.map((cycle) => cycle.started_at);
  const width = $("duration-chart").parentElement.clientWidth;
  const every = Math.ceil(done.length / Math.max(2, Math.floor(width / BAR_LABEL_PX)));
  const labelled = started.map((_, index) => index).filter((index) => (done.length - 1 - index) % every === 0);
  const minutes = labelled.map((index) => formatMinute(started[index]));
  const label = new Set(minutes).size === minutes.length ? formatMinute : formatTime;
  const bars = plotting() ? window.uPlot.paths.bars({ size: [0.7, 24] }) : undefined;
  draw("duration-chart", "duration-chart-message", {
    series: [
      {},
      { label: "Duration (ms)", stroke: "#57606a", fill: "#8c959fa0", paths: bars, points: { show: false } },
    ],
    legend: { show: false },
    axes: [
      { splits: () => labelled, values: (_, splits) => splits.map((index) => label(started[index])) },
      { size: 56 },
    ],
    scales: {
      x: { time: false, range: () => [-0.5, done.length - 0.5] },
      y: { range: (_, min, max) => [0, Math.max(max * 1.1, 10)] },
    },
  }, [done.map((_, index) => index), done.map((cycle) => cycleDurationMs(cycle.summary))]);
}
