// The Telegram side of the Mini App, without telegram.org's script (nothing comes from a CDN):
// launch parameters from location.hash, the theme as CSS variables, and the few events we send.
// In a plain browser (tests) there is no Telegram client: sending events is then a no-op.

const STORE = "tgLaunch";

function readLaunch() {
  const fromHash = new URLSearchParams(location.hash.slice(1));
  if (fromHash.get("tgWebAppData")) {
    // A reload inside Telegram may come without the hash: keep what the launch brought.
    try { sessionStorage.setItem(STORE, location.hash.slice(1)); } catch { /* private mode */ }
    return fromHash;
  }
  let stored = null;
  try { stored = sessionStorage.getItem(STORE); } catch { /* private mode */ }
  return new URLSearchParams(stored || "");
}

const launch = readLaunch();

export const initData = launch.get("tgWebAppData") || "";
export const startParam = launch.get("tgWebAppStartParam") || "";
export const version = launch.get("tgWebAppVersion") || "";

function parseTheme(raw) {
  try { return raw ? JSON.parse(raw) : {}; } catch { return {}; }
}

// bg_color → --tg-bg-color …; a dark background marks the page dark (charts pick their colours).
export function applyTheme(theme) {
  const root = document.documentElement;
  // A new theme is whole: colours the old one had and this one lacks fall back to the defaults.
  for (const name of [...root.style]) if (name.startsWith("--tg-")) root.style.removeProperty(name);
  for (const [key, value] of Object.entries(theme || {})) {
    if (typeof value === "string" && /^#[0-9a-f]{3,8}$/i.test(value)) {
      root.style.setProperty(`--tg-${key.replaceAll("_", "-")}`, value);
    }
  }
  if (theme && theme.bg_color) root.dataset.scheme = isDark(theme.bg_color) ? "dark" : "light";
}

function isDark(hex) {
  let h = hex.slice(1);
  if (h.length === 3) h = [...h].map((c) => c + c).join("");
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16));
  return 0.299 * r + 0.587 * g + 0.114 * b < 128;
}

export function postEvent(type, data = {}) {
  const payload = JSON.stringify(data);
  try {
    if (window.TelegramWebviewProxy) {
      window.TelegramWebviewProxy.postEvent(type, payload);  // Android and iOS clients
    } else if (window.parent !== window) {
      window.parent.postMessage(JSON.stringify({ eventType: type, eventData: data }), "*");  // web
    }
  } catch { /* not inside Telegram */ }
}

function receiveEvent(type, data) {
  if (type === "theme_changed" && data) applyTheme(data.theme_params);
  if (type === "back_button_pressed") window.dispatchEvent(new Event("telegram-back"));
}

// Native clients call window.Telegram.WebView.receiveEvent; web clients post messages.
window.Telegram = window.Telegram || {};
window.Telegram.WebView = { receiveEvent };
window.TelegramGameProxy = { receiveEvent };
window.addEventListener("message", (event) => {
  if (event.source !== window.parent || window.parent === window) return;
  try {
    const message = JSON.parse(event.data);
    if (message && message.eventType) receiveEvent(message.eventType, message.eventData);
  } catch { /* not ours */ }
});

export function start() {
  applyTheme(parseTheme(launch.get("tgWebAppThemeParams")));
  postEvent("web_app_ready");
  postEvent("web_app_expand");
}

export function openLink(url) {
  // t.me links open inside Telegram; elsewhere a new tab does.
  if (window.TelegramWebviewProxy || window.parent !== window) {
    postEvent("web_app_open_tg_link", { path_full: url.replace(/^https:\/\/t\.me/, "") });
  } else {
    window.open(url, "_blank", "noopener");
  }
}
