// The accounts as the server last described them: a strip with one chip per account (its state and the age
// of its last successful fetch, counting up every second), a banner per account that needs a new broker
// session (with the re-login form, POST /api/accounts/{id}/session), a banner per misconfigured account (its
// broker settings are wrong: a person must correct them) and a banner per failing account.

import { $, accountLabel, el, formatAge, formatMinute, formatTime } from "./format.js";
import { api } from "./http.js";
import {
  accountById, accountsNeedingSession, failingAccounts, misconfiguredAccounts, serverNow, state,
} from "./state.js";

const STATE_WORDS = { ok: "ok", session_needed: "session needed", not_fetched: "not fetched" };
const SESSION_MESSAGE = "The broker session expired: log in again to resume this account.";

/** Accounts whose session was renewed from this page since the server last described them. */
const renewed = new Set();
let onRenewed = () => {};

export function whenSessionRenewed(callback) {
  onRenewed = callback;
}

export function accountsChanged() {
  renewed.clear();
  renderAccounts();
}

export function renderAccounts() {
  renderStrip();
  renderSessionBanners();
  renderMisconfiguredBanners();
  renderFailingBanners();
}

function accountName(account) {
  return account.client_id ? `${accountLabel(account.account_id)} · ${account.client_id}` : accountLabel(account.account_id);
}

// --- the strip ---------------------------------------------------------------------------------------

function stateText(account) {
  if (account.state === "failing" || account.state === "misconfigured") {
    return account.failing_since ? `${account.state} since ${formatMinute(account.failing_since)}` : account.state;
  }
  return STATE_WORDS[account.state] || account.state;
}

function ageText(fetchedAt) {
  return fetchedAt ? `fetched ${formatAge((serverNow() - Date.parse(fetchedAt)) / 1000)}` : "never fetched";
}

function chip(account) {
  const title = [`${account.broker} account ${account.client_id}`];
  if (account.last_fetch_at) title.push(`last fetched at ${formatTime(account.last_fetch_at)} IST`);
  if (account.last_error) title.push(account.last_error);
  return el("li", {
    className: "chip",
    attrs: {
      "data-testid": "account-chip", "data-account-id": String(account.account_id), "data-state": account.state,
      "data-stale": String(Boolean(account.stale)), title: title.join("\n"),
    },
  }, [
    el("span", { className: "chip-name", text: accountName(account) }),
    el("span", { className: "chip-state", text: stateText(account) }),
    el("span", {
      className: "chip-age", text: ageText(account.last_fetch_at),
      attrs: { "data-testid": "fetch-age", "data-fetched-at": account.last_fetch_at || "" },
    }),
  ]);
}

function renderStrip() {
  const accounts = state.accounts ? state.accounts.accounts : [];
  $("account-chips").replaceChildren(...accounts.map(chip));
  $("account-strip").hidden = !state.accounts;
}

/** Called every second: the ages move on without a frame. */
export function tickAges() {
  for (const age of document.querySelectorAll("[data-fetched-at]")) {
    age.textContent = ageText(age.dataset.fetchedAt);
  }
}

// --- banners -------------------------------------------------------------------------------------------

function renderSessionBanners() {
  const container = $("session-banners");
  const needing = accountsNeedingSession().filter((account) => !renewed.has(account.account_id));
  const ids = new Set(needing.map((account) => String(account.account_id)));
  for (const banner of [...container.children]) {
    if (!ids.has(banner.dataset.accountId)) banner.remove();
  }
  for (const account of needing) {
    const shown = container.querySelector(`[data-account-id="${account.account_id}"]`);
    if (!shown) container.append(sessionBanner(account));
  }
}

/** An account whose broker starts a session only with a login by hand: its owner logs in at the broker's page
 *  and pastes the request token it gives (Kite). */
function logsInByHand(account) {
  return account.broker === "kite" || state.loginUrls.has(account.account_id);
}

function sessionBanner(account) {
  const accountId = account.account_id;
  const inputId = `session-token-${accountId}`;
  const byHand = logsInByHand(account);
  const loginUrl = state.loginUrls.get(accountId);
  const status = el("p", { className: "banner-status", attrs: { role: "status", "aria-live": "polite" } });
  const form = el("form", { className: "banner-form" }, [
    el("label", {
      text: byHand ? "Request token from the broker's login" : "Broker session token (optional)",
      attrs: { for: inputId },
    }),
    el("input", {
      attrs: byHand
        ? { id: inputId, type: "text", autocomplete: "off", placeholder: "the request_token the login page gives" }
        : { id: inputId, type: "password", autocomplete: "off", placeholder: "leave empty to use the stored keys" },
    }),
    el("button", { text: "Log in again", attrs: { type: "submit", "data-testid": "relogin" } }),
  ]);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    renewSession(accountId, byHand, form, status);
  });
  const name = account.client_id ? accountName(account) : accountLabel(accountId);
  return el("section", {
    className: "banner",
    attrs: { role: "alert", "data-testid": "session-banner", "data-account-id": String(accountId) },
  }, [
    el("h2", { text: `Account ${name} needs a new broker session` }),
    el("p", { text: account.message || SESSION_MESSAGE }),
    loginUrl
      ? el("p", {}, [el("a", {
        text: "Open the broker's login page",
        attrs: { href: loginUrl, target: "_blank", rel: "noopener noreferrer", "data-testid": "login-link" },
      })])
      : "",
    account.last_error ? el("p", { className: "banner-error", text: account.last_error }) : "",
    form,
    status,
  ]);
}

async function renewSession(accountId, byHand, form, status) {
  const button = form.querySelector("button");
  const token = form.querySelector("input").value.trim();
  button.disabled = true;
  status.textContent = "Logging in…";
  try {
    const body = token ? (byHand ? { request_token: token } : { token }) : {};
    const response = await api("POST", `/api/accounts/${accountId}/session`, body);
    if (response.status === 409 && response.data && response.data.login_url) {
      state.loginUrls.set(accountId, response.data.login_url);
      const banner = form.closest("[data-testid=session-banner]");
      banner.replaceWith(sessionBanner(accountById(accountId) || { account_id: accountId }));
      return;
    }
    if (response.ok) {
      state.sessions.delete(accountId);
      renewed.add(accountId);
      renderSessionBanners();
      onRenewed(accountId);
      return;
    }
    status.textContent = (response.data && response.data.error) || `Login failed (HTTP ${response.status}).`;
  } catch (error) {
    status.textContent = `Login failed: ${error.message}`;
  }
  button.disabled = false;
}

function renderMisconfiguredBanners() {
  $("misconfigured-banners").replaceChildren(...misconfiguredAccounts().map((account) => {
    const since = account.failing_since ? ` since ${formatMinute(account.failing_since)} IST` : "";
    return el("section", {
      className: "banner",
      attrs: { role: "alert", "data-testid": "misconfigured-banner", "data-account-id": String(account.account_id) },
    }, [
      el("h2", { text: `Account ${accountName(account)} has wrong broker settings${since}` }),
      el("p", { className: "banner-error", text: account.last_error }),
      el("p", {
        text: "Its broker address or its stored keys must be corrected: logging in again cannot help. "
          + "Its orders and PnL below are the last known ones.",
      }),
    ]);
  }));
}

function renderFailingBanners() {
  $("failing-banners").replaceChildren(...failingAccounts().map((account) => {
    const since = account.failing_since ? ` since ${formatMinute(account.failing_since)} IST` : "";
    const shown = account.last_fetch_at
      ? `Its orders and PnL below are from the last successful fetch, at ${formatTime(account.last_fetch_at)} IST.`
      : "It has not been fetched successfully yet.";
    return el("section", {
      className: "banner warning",
      attrs: { role: "status", "data-testid": "failing-banner", "data-account-id": String(account.account_id) },
    }, [
      el("h2", { text: `Account ${accountName(account)} is failing${since}` }),
      el("p", { className: "banner-error", text: account.last_error || "The broker did not answer." }),
      el("p", { text: shown }),
    ]);
  }));
}
