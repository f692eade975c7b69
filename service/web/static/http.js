// Calls to the service's HTTP API with the page's bearer token; answers come back as {status, ok, data}.

import { state } from "./state.js";

export async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const isJson = (response.headers.get("Content-Type") || "").includes("application/json");
  return { status: response.status, ok: response.ok, data: isJson ? await response.json() : null };
}
