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

async function request(method, path, body) {
  const headers = { Authorization: `tma ${initData}` };
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
export const post = (path, body = {}) => request("POST", path, body);
