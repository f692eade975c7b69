// The orders table (each trade with its entry, stop-loss and take-profit legs) and the PnL table (FIFO per
// account and symbol, each open position with the fair price that marks it and its age), drawn from the latest
// full `orders` and `pnl` frames. Rows of an account whose data the latest cycle did not fetch carry a "stale"
// mark; so does a fair price older than the server's limit, or missing. Prices and money show at two decimals.

import {
  $, accountLabel, cell, el, formatAge, formatInterval, formatTime, labelCells, money, moneyCell, show, twoDecimals,
} from "./format.js";
import { accountById, serverNow, state } from "./state.js";

const PNL_LABELS = ["Account", "Symbol", "Open", "Fair", "Realized", "Unrealized"];
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

function exitSide(openQty) {
  return openQty > 0 ? "Sell fair price: what selling the long fetches" : "Buy fair price: what buying back the short costs";
}

/** The fair price of an open position (`fair_price_stale` is true or false only then): its price and age, or
 *  "—" with a stale mark when it has none; "—" alone for a flat row (or a row of a server before fair prices). */
function fairCell(row) {
  const node = el("td", { className: "num fair", attrs: { "data-testid": "fair-price" } });
  if (row.fair_price_stale === undefined || row.fair_price_stale === null) {
    node.textContent = "—";
  } else if (row.fair_price === null || row.fair_price === undefined) {
    node.append("—", staleTag("No fair price for this symbol"));
  } else {
    Object.assign(node.dataset, {
      pricedAt: row.fair_price_updated_at, price: row.fair_price, serverStale: String(row.fair_price_stale),
    });
    node.title = `${exitSide(row.open_qty)}; written by the ${row.fair_price_source} `
      + `at ${formatTime(row.fair_price_updated_at)} IST`;
    drawFair(node);
  }
  return node;
}

function staleTag(title) {
  return el("span", { className: "tag stale", text: "stale", attrs: { "data-testid": "fair-stale", title } });
}

/** A priced cell as of now: its age counts up, and it is stale once older than the limit of the latest `pnl`
 *  frame (or when the server said so). */
function drawFair(node) {
  const ageSeconds = (serverNow() - Date.parse(node.dataset.pricedAt)) / 1000;
  const limit = state.fairPriceMaxAgeS;
  const stale = node.dataset.serverStale === "true" || (limit !== null && ageSeconds > limit);
  const parts = [
    el("span", { className: "price", text: money(node.dataset.price) }),
    el("span", { className: "fair-age", text: formatAge(ageSeconds), attrs: { "data-testid": "fair-age" } }),
  ];
  if (stale) {
    const over = limit === null ? "older than the server's limit" : `older than ${formatInterval(limit)} are stale`;
    parts.push(staleTag(`Priced ${formatAge(ageSeconds)}; fair prices ${over}`));
  }
  node.dataset.stale = String(stale);
  node.replaceChildren(...parts);
}

/** Called every second: the fair prices' ages move on, and a price passing the limit is marked, without a frame. */
export function tickFairPrices() {
  for (const node of document.querySelectorAll("td.fair[data-priced-at]")) drawFair(node);
}

export function renderPnl() {
  const rows = state.pnl;
  $("pnl-rows").replaceChildren(...rows.map((row) => labelCells(el("tr", {
    attrs: rowAttrs("pnl-row", row.account_id),
  }, [
    accountCell(row.account_id),
    cell(row.symbol, "symbol"),
    cell(openQuantity(row.open_qty), "num"),
    fairCell(row),
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
