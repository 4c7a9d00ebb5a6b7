// Pieces both roles use: a label with its value, a two-tap button, a slot picker, a money field.
import { h } from "./dom.js";
import { dateOf, dayShort, t, time } from "./i18n.js";

export const field = (label, value, data) =>
  h("div.field", { dataset: data }, h("dt", {}, label), h("dd", {}, value));

// The button stays disabled while its action runs: a double tap sends one request.
export function busyButton(tag, label, action) {
  const button = h(tag, { type: "button", onclick: async () => {
    if (button.disabled) return;
    button.disabled = true;
    try { await action(); } finally { button.disabled = false; }
  } }, label);
  return button;
}

// Acts on the second tap: the first one turns the button into "sure?".
export function confirmButton(label, sureLabel, action, kind = "") {
  let armed = false;
  const button = h("button", { type: "button", class: kind, onclick: async () => {
    if (!armed) {
      armed = true;
      button.textContent = sureLabel;
      button.classList.add("armed");
      return;
    }
    button.disabled = true;
    try { await action(); } finally { button.disabled = false; }
  } }, label);
  return button;
}

// Free starts grouped by day: a row of days, then the chosen day's times.
export function slotPicker(slots, choose) {
  if (!slots.length) return h("p.empty", {}, t("app-no-slots"));
  const days = [...new Set(slots.map(dateOf))];
  const times = h("div.slots");
  const dayButtons = days.map((day) => h("button.chip", { type: "button", dataset: { day }, onclick: () => pick(day) }, dayShort(day)));
  const pick = (day) => {
    dayButtons.forEach((b, i) => b.classList.toggle("active", days[i] === day));
    times.replaceChildren(...slots.filter((s) => dateOf(s) === day).map((slot) =>
      h("button.slot", { type: "button", dataset: { slot }, onclick: async (event) => {
        event.currentTarget.disabled = true;
        await choose(slot);
      } }, time(slot))));
  };
  pick(days[0]);
  return [h("div.chips", {}, dayButtons), times];
}

function fractionDigits(currency) {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
  } catch {
    return 2;
  }
}

// What a person types ("2500", "2 500", "2500,50", "2,500.50") → minor units; null when empty,
// NaN for anything else. A comma or point before the last one or two digits is the decimal one.
export function parseAmount(text, digits) {
  const compact = text.replace(/[\s\u00a0\u202f₽$€£₸₴₾֏]/g, "");
  if (!compact) return null;
  const match = /^(\d{1,3}(?:[.,]\d{3})*|\d+)(?:[.,](\d{1,2}))?$/.exec(compact);
  if (!match) return NaN;
  const whole = Number(match[1].replace(/[.,]/g, ""));
  const fraction = Number((match[2] || "").padEnd(digits, "0").slice(0, digits) || 0);
  return whole * 10 ** digits + fraction;
}

export function amountInput(price) {
  const digits = fractionDigits(price.currency);
  const node = h("input", { inputMode: "decimal", value: String(price.amount / 10 ** digits).replace(".", ",") });
  return { node, value: () => parseAmount(node.value, digits) };
}
