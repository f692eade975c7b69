// The errors panel (the recent cycles' errors, newest first) and the notices panel: what the cycles told the
// user that is not an error (archived, regenerated or unprotected orders, entries never seen, a pause), each
// distinct notice once, with when it was last told and in how many of the recent cycles.

import { $, accountLabel, el, formatDateTime, formatTime, show } from "./format.js";
import { stepName } from "./cycles.js";
import { state } from "./state.js";

export function renderErrors() {
  $("error-list").replaceChildren(...state.errors.map((error) => el("li", { attrs: { "data-testid": "error-item" } }, [
    el("div", { className: "error-head" }, [
      el("time", { text: formatTime(error.at), attrs: { datetime: error.at, title: formatDateTime(error.at) } }),
      el("span", { className: "tag kind", text: error.kind }),
      el("span", { className: "muted", text: `${stepName(error.step)} · ${accountLabel(error.account_id)}` }),
    ]),
    el("p", { className: "error-message", text: error.message }),
  ])));
  show("errors-empty", state.errors.length === 0);
}

/** Distinct notices of the recent cycles, the most recently told first. */
function distinctNotices() {
  const byText = new Map();
  for (const cycle of state.cycles) {
    if (!cycle.summary) continue;
    for (const text of new Set(cycle.summary.notices)) {
      const seen = byText.get(text);
      if (seen) seen.cycles += 1;
      else byText.set(text, { text, lastAt: cycle.started_at, cycles: 1 });
    }
  }
  return [...byText.values()];
}

export function renderNotices() {
  const notices = distinctNotices();
  const finished = state.cycles.filter((cycle) => cycle.summary).length;
  $("notice-list").replaceChildren(...notices.map((notice) => el("li", { attrs: { "data-testid": "notice-item" } }, [
    el("time", {
      text: formatTime(notice.lastAt), attrs: { datetime: notice.lastAt || "", title: formatDateTime(notice.lastAt) },
    }),
    el("span", { className: "notice-text", text: notice.text }),
    el("span", {
      className: "muted notice-count", text: `${notice.cycles} of ${finished} cycle${finished === 1 ? "" : "s"}`,
    }),
  ])));
  show("notices-empty", notices.length === 0);
}
