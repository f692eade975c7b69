// The orders table (each trade with its entry, stop-loss and take-profit legs) and the PnL table (FIFO per
// account and symbol), drawn from the latest full `orders` and `pnl` frames. Rows of an account whose data
// the latest cycle did not fetch carry a "stale" mark. Prices and money show at two decimals.

import {
  $, accountLabel, cell, el, formatTime, labelCells, money, moneyCell, show, twoDecimals,
} from "./format.js";
import { accountById, state } from "./state.js";

const PNL_LABELS = ["Account", "Symbol", "Open", "Realized", "Unrealized"];
const ORDER_LABELS = [
  "Order", "Account", "Symbol", "Side", "Filled / qty", "Status", "Entry", "Stop-loss", "Take-profit", "LTP",
  "Realized", "Unrealized",
];

function accountCell(accountId) {
  const account = accountById(accountId);
  const node = el("td", { className: "account" }, [el("span", { text: accountLabel(accountId) })]);
  if (account && account.stale) {
    const fetched = account.last_fetch_at ? `last fetched at ${formatTime(account.last_fetch_at)} IST` : "never fetched";
    node.append(el("span", {
      className: "tag stale", text: "stale",
      attrs: { "data-testid": "stale-mark", title: `Not fetched by the latest cycle; ${fetched}` },
    }));
  }
  return node;
}

function rowAttrs(testId, accountId, extra = {}) {
  const account = accountById(accountId);
  return {
    "data-testid": testId, "data-account-id": String(accountId),
    "data-stale": String(Boolean(account && account.stale)), ...extra,
  };
}

function unrealizedCell(value) {
  const node = moneyCell(value);
  if (value === null || value === undefined) node.title = "Unmarked: no price to value the open position";
  return node;
}

// --- PnL -------------------------------------------------------------------------------------------

function openQuantity(qty) {
  if (qty > 0) return `${qty} long`;
  if (qty < 0) return `${-qty} short`;
  return "flat";
}

export function renderPnl() {
  const rows = state.pnl;
  $("pnl-rows").replaceChildren(...rows.map((row) => labelCells(el("tr", {
    attrs: rowAttrs("pnl-row", row.account_id),
  }, [
    accountCell(row.account_id),
    cell(row.symbol, "symbol"),
    cell(openQuantity(row.open_qty), "num"),
    moneyCell(row.realized_pnl),
    unrealizedCell(row.unrealized_pnl),
  ]), PNL_LABELS)));
  show("pnl-empty", rows.length === 0);
}

// --- orders ----------------------------------------------------------------------------------------

function badge(status) {
  if (!status) return el("span", { className: "badge none", text: "—" });
  const slug = String(status).toLowerCase().replace(/[^a-z]+/g, "-");
  return el("span", { className: `badge status-${slug}`, text: status });
}

function legCell(price, detail, status, brokerId) {
  return el("td", { className: "leg", attrs: { title: brokerId ? `broker order ${brokerId}` : "not sent" } }, [
    el("span", { className: "price", text: money(price) }),
    detail ? el("span", { className: "leg-detail", text: detail }) : "",
    badge(status),
  ]);
}

function entryCell(order) {
  const price = order.entry_limit_price ?? order.entry_stop_price;
  const parts = [order.entry_type];
  if (order.entry_limit_price && order.entry_stop_price) parts.push(`stop ${twoDecimals(order.entry_stop_price)}`);
  if (order.avg_entry_price) parts.push(`avg ${twoDecimals(order.avg_entry_price)}`);
  return legCell(price, parts.join(" · "), order.entry_orderstatus, order.entry_order_id);
}

function orderRow(order) {
  return labelCells(el("tr", { attrs: rowAttrs("order-row", order.account_id, { "data-order-id": String(order.id) }) }, [
    el("td", { className: "order" }, [
      el("span", { className: "order-id", text: `#${order.id}` }),
      el("span", { className: "strategy", text: order.strategy }),
    ]),
    accountCell(order.account_id),
    cell(order.symbol, "symbol"),
    cell(order.side, `side-${String(order.side).toLowerCase()}`),
    cell(`${order.filled_qty} / ${order.quantity}`, "num"),
    el("td", {}, [badge(order.status)]),
    entryCell(order),
    legCell(order.sl_stop_price, order.sl_qty ? `qty ${order.sl_qty}` : "", order.sl_orderstatus, order.sl_order_id),
    legCell(order.tp_price, order.tp_qty ? `qty ${order.tp_qty}` : "", order.tp_orderstatus, order.tp_order_id),
    cell(money(order.ltp), "num"),
    moneyCell(order.realized_pnl),
    unrealizedCell(order.unrealized_pnl),
  ]), ORDER_LABELS);
}

export function renderOrders() {
  const newestFirst = [...state.orders].sort((a, b) => (b.id ?? 0) - (a.id ?? 0));
  $("order-rows").replaceChildren(...newestFirst.map(orderRow));
  show("orders-empty", newestFirst.length === 0);
}
