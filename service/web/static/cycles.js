// The cycles table: one row per cycle with its ten steps, its duration, errors and flags (paused, orders
// skipped for a stale fair price, notices); a click opens the cycle's per-account results, its errors and
// its timeline (GET /api/cycles/{id}).

import {
  $, accountLabel, cell, el, formatDateTime, formatMilliseconds, formatTime, headerCell, show,
} from "./format.js";
import { api } from "./http.js";
import { cycleDurationMs, state } from "./state.js";

export const STEPS = [
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

export function stepName(stepId) {
  return STEP_NAMES[stepId] || stepId;
}

export function renderCycleHead() {
  const head = $("cycle-head");
  head.append(headerCell("Started"), headerCell("Trigger"));
  for (const step of STEPS) head.append(headerCell(step.label, { title: step.name }, "step-head"));
  head.append(headerCell("Duration", { title: "Per step the slowest account, summed over the steps" }, "num"));
  head.append(headerCell("Errors", {}, "num"), headerCell("Flags"));
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

function flagsCell(cycle) {
  const node = el("td", { className: "flags" });
  const summary = cycle.summary;
  if (!summary) return node;
  if (summary.paused) node.append(el("span", { className: "tag paused", text: "paused" }));
  const stale = summary.stale_fair_prices || 0;
  if (stale > 0) {
    node.append(el("span", {
      className: "tag stale", text: `${stale} stale fair price${stale === 1 ? "" : "s"}`,
      attrs: { "data-testid": "stale-fair-prices", title: "Orders skipped this cycle: their fair price was stale" },
    }));
  }
  if (summary.notices.length) {
    node.append(el("span", {
      className: "tag notice-count", text: `${summary.notices.length} notice${summary.notices.length === 1 ? "" : "s"}`,
      attrs: { title: summary.notices.join("\n") },
    }));
  }
  return node;
}

/** How the cycle started; a cycle known only from `recent` has it only if its summary carries it. */
function triggerOf(cycle) {
  return cycle.trigger || (cycle.summary && cycle.summary.trigger) || "";
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
  }, [el("td", { className: "started" }, [toggle]), cell(triggerOf(cycle), "trigger muted")]);
  for (const step of STEPS) row.append(stepCell(step, cycle));
  row.append(cell(cycle.summary ? formatMilliseconds(cycleDurationMs(cycle.summary)) : "running", "num muted duration"));
  row.append(el("td", {
    className: `num error-count${errorCount ? " has-errors" : ""}`,
    text: errorCount === null ? "" : `${errorCount}`,
    attrs: { "data-count": errorCount === null ? "" : `${errorCount}`, title: errorCount === null ? "" : `${errorCount} error${errorCount === 1 ? "" : "s"}` },
  }));
  row.append(flagsCell(cycle));
  return row;
}

export function renderCycles() {
  const body = $("cycle-rows");
  body.replaceChildren();
  for (const cycle of state.cycles) {
    body.append(cycleRow(cycle));
    if (state.expanded.has(cycle.cycle_id)) body.append(cycleDetailRow(cycle));
  }
  show("cycles-empty", state.cycles.length === 0);
}

export function toggleCycle(event) {
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
    el("div", { className: "scroll" }, [perAccountTable(cycle)]),
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
    section.append(el("div", { className: "scroll" }, [timelineTable(timeline.entries)]));
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
