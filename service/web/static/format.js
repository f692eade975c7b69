// How values read on the page: times in IST, ages, money and prices at two decimals, account names, and
// the small DOM helpers every view uses. Money arrives as decimal strings and is rounded here exactly (on
// digits, with BigInt), never through a float; nothing here adds money up — totals come from the server.

const timeFormat = new Intl.DateTimeFormat("en-IN", {
  timeZone: "Asia/Kolkata", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
});
const minuteFormat = new Intl.DateTimeFormat("en-IN", {
  timeZone: "Asia/Kolkata", hour: "2-digit", minute: "2-digit", hour12: false,
});
const dateTimeFormat = new Intl.DateTimeFormat("en-IN", {
  timeZone: "Asia/Kolkata", dateStyle: "medium", timeStyle: "medium",
});

export function formatTime(iso) {
  return iso ? timeFormat.format(new Date(iso)) : "—";
}

export function formatMinute(iso) {
  return iso ? minuteFormat.format(new Date(iso)) : "—";
}

export function formatDateTime(iso) {
  return iso ? `${dateTimeFormat.format(new Date(iso))} IST` : "";
}

export function formatAge(seconds) {
  const whole = Math.max(0, Math.floor(seconds));
  if (whole < 120) return `${whole} s ago`;
  if (whole < 7200) return `${Math.floor(whole / 60)} min ago`;
  return `${Math.floor(whole / 3600)} h ago`;
}

export function formatInterval(seconds) {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

export function formatMilliseconds(total) {
  return total >= 1000 ? `${(total / 1000).toFixed(1)} s` : `${total} ms`;
}

// --- money and prices ------------------------------------------------------------------------------

const DECIMAL = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** A decimal string ("1489.1", "-26.5", "160.0000", "1E+1") rounded half away from zero to two decimals
 *  ("1489.10", "-26.50", "160.00", "10.00"); null and undefined give null, anything else is shown as is. */
export function twoDecimals(value) {
  if (value === null || value === undefined) return null;
  const match = DECIMAL.exec(String(value).trim());
  if (!match || (!match[2] && !match[3])) return String(value);
  const [, sign, whole = "", fraction = "", exponent = "0"] = match;
  const scale = fraction.length - Number(exponent);
  let cents = BigInt(`${whole}${fraction}` || "0");
  if (scale < 2) cents *= 10n ** BigInt(2 - scale);
  else if (scale > 2) {
    const divisor = 10n ** BigInt(scale - 2);
    cents = (cents + divisor / 2n) / divisor;
  }
  const digits = cents.toString().padStart(3, "0");
  const negative = sign === "-" && cents !== 0n;
  return `${negative ? "-" : ""}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

/** Money for reading: two decimals, "—" when the server sent none (an unmarked position). */
export function money(value) {
  return twoDecimals(value) ?? "—";
}

/** Like `money`, with a "+" on gains, for day results. */
export function signedMoney(value) {
  const shown = twoDecimals(value);
  if (shown === null) return "—";
  return /^-|^0\.00$/.test(shown) ? shown : `+${shown}`;
}

export function signClass(value) {
  const shown = twoDecimals(value);
  if (shown === null || /^0\.00$/.test(shown)) return "";
  return shown.startsWith("-") ? "negative" : "positive";
}

// --- names -------------------------------------------------------------------------------------------

export function accountLabel(accountId) {
  return accountId === null || accountId === undefined ? "user" : `#${accountId}`;
}

// --- DOM -------------------------------------------------------------------------------------------

export const $ = (id) => document.getElementById(id);

/** An element with a class, text (always as textContent) and attributes, and its children. */
export function el(tag, options = {}, children = []) {
  const node = document.createElement(tag);
  if (options.className) node.className = options.className;
  if (options.text !== undefined && options.text !== null) node.textContent = String(options.text);
  for (const [name, value] of Object.entries(options.attrs || {})) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}

export function cell(text, className = "") {
  return el("td", { className, text: text ?? "—" });
}

export function moneyCell(value) {
  return cell(money(value), `num ${signClass(value)}`.trim());
}

export function headerCell(text, attrs = {}, className = "") {
  return el("th", { className, text, attrs: { scope: "col", ...attrs } });
}

/** Each cell of a row gets its column's name as `data-label`, which the phone layout shows on its card. */
export function labelCells(row, labels) {
  [...row.children].forEach((node, index) => {
    if (labels[index]) node.dataset.label = labels[index];
  });
  return row;
}

export function show(id, visible) {
  $(id).hidden = !visible;
}

/** The dismissable message under the top bar: what the server refused, or a request that failed. */
export function showMessage(text) {
  $("server-message-text").textContent = text;
  show("server-message", true);
}
