// Start-up and navigation: who is this (owner, customer, guest), their words, and a stack of
// screens with a back button (Telegram's own when inside Telegram, ours in the page as well).
import { ApiError, get } from "./api.js";
import { h } from "./dom.js";
import { setTexts, t } from "./i18n.js";
import { postEvent, start } from "./telegram.js";

const tabsBar = document.getElementById("tabs");
const main = document.getElementById("main");
const backButton = document.getElementById("back");
const noticeBox = document.getElementById("notice");

let stack = [];
let drawing = 0;

// A screen is a page name (for the tests and the styles) and a function that builds it.
export async function open(page, build, { root = false } = {}) {
  if (root) stack = [];
  stack.push({ page, build });
  clearNotice();
  await draw();
}

export async function back() {
  if (stack.length < 2) return;
  stack.pop();
  await draw();
}

export const refresh = () => draw();

async function draw() {
  const { page, build } = stack.at(-1);
  const ticket = ++drawing;
  main.dataset.page = page;
  main.setAttribute("aria-busy", "true");
  const visible = stack.length > 1;
  backButton.hidden = !visible;
  postEvent("web_app_setup_back_button", { is_visible: visible });
  for (const tab of tabsBar.children) tab.classList.toggle("active", tab.dataset.page === stack[0].page);
  let content;
  try {
    content = await build();
  } catch (error) {
    content = errorBox(error);
  }
  if (ticket !== drawing) return;  // a newer screen was opened meanwhile
  main.replaceChildren(...[content].flat(Infinity).filter((node) => node !== null && node !== undefined));
  main.removeAttribute("aria-busy");
  window.scrollTo(0, 0);
}

export function errorText(error) {
  if (error instanceof ApiError) {
    if (error.message && error.code !== "network") return error.message;
    if (error.code === "network") return t("app-error-network");
  }
  console.error(error);
  return t("app-error");
}

export const errorBox = (error) => h("p.error", { role: "alert" }, errorText(error));

export function notice(text, kind = "ok") {
  noticeBox.textContent = text;
  noticeBox.className = `notice ${kind}`;
  noticeBox.hidden = false;
}

function clearNotice() {
  noticeBox.hidden = true;
  noticeBox.textContent = "";
}

function setTabs(tabs) {
  tabsBar.replaceChildren(...tabs.map(([page, label, build]) =>
    h("button.tab", { type: "button", dataset: { page }, onclick: () => open(page, build, { root: true }) }, label)));
  tabsBar.hidden = tabs.length === 0;
}

async function boot() {
  start();
  backButton.addEventListener("click", back);
  window.addEventListener("telegram-back", back);
  let me;
  try {
    me = await get("me");
  } catch (error) {
    main.replaceChildren(errorBox(error));
    main.dataset.page = "error";
    main.removeAttribute("aria-busy");
    return;
  }
  setTexts(me.texts, me.language);
  backButton.textContent = t("app-back");
  document.title = t("app-title");
  if (me.role === "owner") {
    const owner = await import("./owner.js");
    setTabs(owner.tabs());
  } else if (me.role === "customer") {
    const customer = await import("./customer.js");
    setTabs(customer.tabs(me));
  } else {
    setTabs([]);
    await open("guest", () => h("p.empty", {}, t("app-guest")), { root: true });
    return;
  }
  tabsBar.firstElementChild.click();
}

boot();
