// The bot's JSON API (/app/api/*). Every request carries Telegram's init data, which the server
// checks (signature and age); the page itself holds no secret.
import { initData } from "./telegram.js";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code);
    this.status = status;
    this.code = code;
  }
}

async function request(method, path, body, key) {
  const headers = { Authorization: `tma ${initData}` };
  if (key) headers["Idempotency-Key"] = key;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(`/app/api/${path}`, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "network", "");
  }
  let data = null;
  try { data = await response.json(); } catch { /* an empty or non-JSON answer */ }
  if (!response.ok) {
    throw new ApiError(response.status, data?.error || "http", data?.message || "");
  }
  return data;
}

export const get = (path, query) => {
  const search = query ? `?${new URLSearchParams(query)}` : "";
  return request("GET", path + search);
};
function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// One key per action: the server acts on the first request carrying it, so the one retry after
// a lost answer (the request may have arrived) cannot act twice. When the lost one did act, the
// retry hears "already_done": the action happened, its answer is gone (null).
export async function post(path, body = {}) {
  const key = newKey();
  try {
    return await request("POST", path, body, key);
  } catch (error) {
    if (error.code !== "network") throw error;
  }
  try {
    return await request("POST", path, body, key);
  } catch (error) {
    if (error.code === "already_done") return null;
    throw error;
  }
}
