// What the page knows, and how each frame changes it. The page is a view of the server's state: accounts
// come from the `accounts` frame, orders and PnL from the latest full `orders` and `pnl` frames, cycles and
// errors from `recent` plus the live frames since. A page opened at any moment therefore holds what one open
// all along holds (the server keeps the latest 20 cycles and 50 errors, and so does the page).
// Without `accounts` and `recent` (an older server) it falls back to the live frames alone.

export const MAX_CYCLES = 20;
export const MAX_ERRORS = 50;

export const state = {
  token: null,
  socket: null,
  userId: null,
  /** Server clock minus this browser's clock (ms), from `hello`, so ages read true on a skewed clock. */
  clockSkewMs: 0,
  paused: false,
  pauseReason: "",
  /** The latest `accounts` frame, or null until one arrives (an older server never sends it). */
  accounts: null,
  /** Accounts told by `session_needed` before any `accounts` frame: the older server's banners. */
  sessions: new Map(),
  /** The login page of each account whose broker starts a session only with a login by hand (Kite), from its
   *  `session_needed` frame or the session route's 409 answer. */
  loginUrls: new Map(),
  orders: [],
  pnl: [],
  /** `fair_price_max_age_s` of the latest `pnl` frame: an older fair price is stale (null: not told). */
  fairPriceMaxAgeS: null,
  /** Newest first: {cycle_id, started_at, trigger, summary, errors}. */
  cycles: [],
  /** Newest first: {cycle_id, step, account_id, kind, message, at}. */
  errors: [],
  /** Cycle ids whose summary or errors arrived live on this connection (kept when `recent` arrives). */
  liveCycles: new Set(),
  expanded: new Set(),
  timelines: new Map(),
  pnlHistory: null,
};

export function serverNow() {
  return Date.now() + state.clockSkewMs;
}

export function forgetUserData() {
  Object.assign(state, {
    userId: null, accounts: null, orders: [], pnl: [], fairPriceMaxAgeS: null, cycles: [], errors: [], pnlHistory: null,
  });
  for (const collection of [state.sessions, state.loginUrls, state.liveCycles, state.expanded, state.timelines]) {
    collection.clear();
  }
}

// --- accounts ----------------------------------------------------------------------------------------

export function accountById(accountId) {
  return state.accounts ? state.accounts.accounts.find((account) => account.account_id === accountId) : undefined;
}

/** Accounts that need a new broker session: from the accounts state, or from `session_needed` frames. */
export function accountsNeedingSession() {
  if (!state.accounts) return [...state.sessions].map(([account_id, message]) => ({ account_id, message }));
  return state.accounts.accounts.filter((account) => account.state === "session_needed");
}

/** Accounts whose last fetch failed for wrong broker settings (a wrong address, keys the broker refused). */
export function misconfiguredAccounts() {
  return state.accounts ? state.accounts.accounts.filter((account) => account.state === "misconfigured") : [];
}

export function failingAccounts() {
  return state.accounts ? state.accounts.accounts.filter((account) => account.state === "failing") : [];
}

/** A `session_needed` frame comes during a cycle, before that cycle's `accounts` frame: it is applied to the
 *  accounts state at once, and the next `accounts` frame says it again (or no longer). */
export function applySessionNeeded(accountId, message, loginUrl) {
  if (loginUrl) state.loginUrls.set(accountId, loginUrl);
  const account = accountById(accountId);
  if (account) account.state = "session_needed";
  else state.sessions.set(accountId, message);
}

// --- cycles and errors ---------------------------------------------------------------------------------

function byNewest(a, b) {
  return (b.started_at || "\uffff").localeCompare(a.started_at || "\uffff");
}

export function cycleById(cycleId) {
  let cycle = state.cycles.find((candidate) => candidate.cycle_id === cycleId);
  if (!cycle) {
    cycle = { cycle_id: cycleId, started_at: null, trigger: null, summary: null, errors: [] };
    state.cycles.unshift(cycle);
    trimCycles();
  }
  return cycle;
}

function trimCycles() {
  state.cycles.sort(byNewest);
  for (const dropped of state.cycles.splice(MAX_CYCLES)) {
    state.expanded.delete(dropped.cycle_id);
    state.timelines.delete(dropped.cycle_id);
  }
}

export function applyCycleSummary(summary) {
  const cycle = cycleById(summary.cycle_id);
  cycle.summary = summary;
  cycle.started_at = cycle.started_at || summary.started_at;
  state.liveCycles.add(summary.cycle_id);
  state.timelines.delete(summary.cycle_id);
  trimCycles();
}

export function applyCycleErrors(cycleId, errors) {
  const cycle = cycleById(cycleId);
  cycle.errors = errors;
  state.liveCycles.add(cycleId);
  const tagged = errors.map((error) => ({ ...error, cycle_id: cycleId }));
  setErrors([...tagged, ...state.errors.filter((error) => error.cycle_id !== cycleId)]);
}

function setErrors(errors) {
  state.errors = errors.sort((a, b) => String(b.at).localeCompare(String(a.at))).slice(0, MAX_ERRORS);
}

/** `recent` is the server's word on the latest cycles and errors; what arrived live on this connection and
 *  is newer than its read is kept, so a cycle ending while the page connects is not lost. */
export function applyRecent(frame) {
  const live = state.cycles.filter((cycle) => state.liveCycles.has(cycle.cycle_id) || !cycle.summary);
  const recentIds = new Set(frame.cycles.map((summary) => summary.cycle_id));
  const cycles = frame.cycles.map((summary) => ({
    cycle_id: summary.cycle_id, started_at: summary.started_at, trigger: null, summary, errors: [],
  }));
  for (const cycle of live) {
    const known = cycles.find((candidate) => candidate.cycle_id === cycle.cycle_id);
    if (known) Object.assign(known, { trigger: cycle.trigger, errors: cycle.errors });
    else if (!recentIds.has(cycle.cycle_id)) cycles.push(cycle);
  }
  const recentErrorCycles = new Set(frame.errors.map((error) => error.cycle_id));
  const liveErrors = state.errors.filter((error) => state.liveCycles.has(error.cycle_id)
    && !recentErrorCycles.has(error.cycle_id));
  for (const cycle of cycles) {
    if (recentErrorCycles.has(cycle.cycle_id)) cycle.errors = frame.errors.filter((e) => e.cycle_id === cycle.cycle_id);
  }
  const kept = new Set(cycles.map((cycle) => cycle.cycle_id));
  for (const id of [...state.expanded]) if (!kept.has(id)) state.expanded.delete(id);
  state.cycles = cycles;
  trimCycles();
  setErrors([...frame.errors, ...liveErrors]);
}

/** A cycle's duration: per step the slowest account (accounts run in parallel), summed over the steps. */
export function cycleDurationMs(summary) {
  const slowest = new Map();
  for (const report of summary.steps) {
    slowest.set(report.step, Math.max(slowest.get(report.step) || 0, report.duration_ms || 0));
  }
  let total = 0;
  for (const duration of slowest.values()) total += duration;
  return total;
}
