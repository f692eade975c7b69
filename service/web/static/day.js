// The day at a glance, from the `accounts` frame: the day's PnL (realized plus unrealized) in total and per
// account, and the daily loss limit as a gauge of the day's loss against it (hidden when there is no limit).
// The server adds the money up; the page only rounds it for reading.

import { $, accountLabel, cell, el, labelCells, money, signClass, signedMoney, twoDecimals } from "./format.js";
import { state } from "./state.js";

const DAY_LABELS = ["Account", "Realized", "Unrealized", "Day"];

function unmarkedNote(figures) {
  const lots = figures.unmarked_lots || 0;
  return `Unknown: ${lots} open lot${lots === 1 ? " has" : "s have"} no price to mark ${lots === 1 ? "it" : "them"}`;
}

function signedCell(value, figures, testId) {
  const node = cell(signedMoney(value), `num ${signClass(value)}`.trim());
  if (testId) node.dataset.testid = testId;
  if (value === null || value === undefined) node.title = unmarkedNote(figures);
  return node;
}

export function renderDay() {
  const frame = state.accounts;
  $("day-summary").hidden = !frame;
  $("day-waiting").hidden = Boolean(frame);
  if (!frame) return;
  const total = frame.total;
  const value = $("day-total-value");
  value.textContent = signedMoney(total.day_pnl);
  value.className = `value ${signClass(total.day_pnl)}`.trim();
  value.title = total.day_pnl === null ? unmarkedNote(total) : "";
  $("day-total-parts").textContent = `realized ${money(total.realized)} · unrealized ${
    total.unrealized === null ? `— (${total.unmarked_lots} unmarked)` : money(total.unrealized)}`;
  $("day-accounts").replaceChildren(...frame.accounts.map((account) => labelCells(el("tr", {
    attrs: { "data-testid": "day-account", "data-account-id": String(account.account_id) },
  }, [
    el("th", { text: `${accountLabel(account.account_id)} · ${account.client_id}`, attrs: { scope: "row" } }),
    signedCell(account.pnl.realized, account.pnl),
    signedCell(account.pnl.unrealized, account.pnl),
    signedCell(account.pnl.day_pnl, account.pnl, "day-pnl"),
  ]), DAY_LABELS)));
  renderLossGauge(frame);
}

/** The day's loss against the limit, measured on the figure the limit watches (`limit_pnl`: unmarked lots
 *  count as zero there). The bar's width is the only float here; the text shows the amounts. */
function renderLossGauge(frame) {
  const gauge = $("loss-gauge");
  const limit = frame.daily_loss_limit;
  gauge.hidden = limit === null || limit === undefined;
  if (gauge.hidden) return;
  const shownLimit = twoDecimals(limit);
  const watched = twoDecimals(frame.limit_pnl);
  const loss = watched.startsWith("-") ? watched.slice(1) : "0.00";
  const share = Math.min(Number(loss) / Number(limit), 1);
  $("loss-gauge-bar").style.width = `${(share * 100).toFixed(1)}%`;
  gauge.dataset.level = share >= 1 ? "reached" : share >= 0.75 ? "near" : "ok";
  gauge.setAttribute("aria-valuemax", String(Number(limit)));
  gauge.setAttribute("aria-valuenow", String(Number(loss)));
  const unmarked = frame.total.unmarked_lots ? " (unmarked lots count as zero)" : "";
  const then = frame.paused ? "automation is paused" : "the next cycle starts paused";
  $("loss-gauge-text").textContent = share >= 1
    ? `Day loss ${loss}${unmarked} has reached the limit of ${shownLimit}: ${then}`
    : `Day loss ${loss}${unmarked} of the ${shownLimit} limit (${Math.floor(share * 100)}%)`;
}
