// The day at a glance, from the `accounts` frame: the day's PnL (realized plus unrealized) in total and per
// account, and the daily loss limit as a gauge of the day's loss against it (hidden when there is no limit).
// The server adds the money up; the page only rounds it for reading.

import { $, accountLabel, cell, el, labelCells, money, signClass, signedMoney, twoDecimals } from "./format.js";
import { state } from "./state.js";

const DAY_LABELS = ["Account", "Realized", "Unrealized", "Day"];

function signedCell(value, testId) {
  const node = cell(signedMoney(value), `num ${signClass(value)}`.trim());
  if (testId) node.dataset.testid = testId;
  if (value === null || value === undefined) node.title = "Unknown: an open position is unmarked";
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
  $("day-total-parts").textContent = `realized ${money(total.realized)} · unrealized ${
    total.unrealized === null ? "— (unmarked)" : money(total.unrealized)}`;
  $("day-accounts").replaceChildren(...frame.accounts.map((account) => labelCells(el("tr", {
    attrs: { "data-testid": "day-account", "data-account-id": String(account.account_id) },
  }, [
    el("th", { text: account.client_id ? `${accountLabel(account.account_id)} · ${account.client_id}`
      : accountLabel(account.account_id), attrs: { scope: "row" } }),
    signedCell(account.realized),
    signedCell(account.unrealized),
    signedCell(account.day_pnl, "day-pnl"),
  ]), DAY_LABELS)));
  renderLossGauge(frame.daily_loss_limit, total.day_pnl);
}

/** The day's loss against the limit. The bar's width is the only float here; the text shows the amounts. */
function renderLossGauge(limit, dayPnl) {
  const gauge = $("loss-gauge");
  gauge.hidden = limit === null || limit === undefined;
  if (gauge.hidden) return;
  const shownLimit = twoDecimals(limit);
  const bar = $("loss-gauge-bar");
  if (dayPnl === null || dayPnl === undefined) {
    bar.style.width = "0%";
    gauge.dataset.level = "unknown";
    gauge.removeAttribute("aria-valuenow");
    $("loss-gauge-text").textContent = `Day loss unknown (an open position is unmarked); limit ${shownLimit}`;
    return;
  }
  const shownPnl = twoDecimals(dayPnl);
  const loss = shownPnl.startsWith("-") ? shownPnl.slice(1) : "0.00";
  const share = Number(limit) > 0 ? Math.min(Number(loss) / Number(limit), 1) : 1;
  bar.style.width = `${(share * 100).toFixed(1)}%`;
  gauge.dataset.level = share >= 1 ? "reached" : share >= 0.75 ? "near" : "ok";
  gauge.setAttribute("aria-valuemax", String(Number(limit)));
  gauge.setAttribute("aria-valuenow", String(Number(loss)));
  $("loss-gauge-text").textContent = share >= 1
    ? `Day loss ${loss} has reached the limit of ${shownLimit}: the next cycle starts paused`
    : `Day loss ${loss} of the ${shownLimit} limit (${Math.floor(share * 100)}%)`;
}
