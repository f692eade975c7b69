// The kill switch in the top bar: shows whether automation runs or is paused (and why), and pauses with an
// optional reason or resumes through POST /api/pause and /api/resume.

import { $, showMessage, show } from "./format.js";
import { api } from "./http.js";
import { state } from "./state.js";

export function setPaused(paused, reason) {
  state.paused = paused;
  state.pauseReason = reason || "";
  const label = $("automation-state");
  label.dataset.paused = String(paused);
  label.textContent = paused ? `Automation paused: ${reason || "no reason given"}` : "Automation running";
  $("pause-toggle").textContent = paused ? "Resume automation" : "Pause automation";
  $("pause-toggle").className = paused ? "primary" : "danger";
  show("pause-reason-label", !paused);
}

export async function onKillSwitchSubmit(event) {
  event.preventDefault();
  const button = $("pause-toggle");
  button.disabled = true;
  try {
    const reason = $("pause-reason").value.trim();
    const response = state.paused
      ? await api("POST", "/api/resume")
      : await api("POST", "/api/pause", reason ? { reason } : {});
    if (response.ok) {
      setPaused(response.data.paused, response.data.reason);
      $("pause-reason").value = "";
    } else {
      showMessage((response.data && response.data.error) || `The kill switch failed (HTTP ${response.status}).`);
    }
  } catch (error) {
    showMessage(`The kill switch failed: ${error.message}`);
  }
  button.disabled = false;
}
