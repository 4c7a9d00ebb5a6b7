// The customer's screens: book (service → day → free slot), their bookings with move and
// cancel, and their points with the referral link.
import { get, post } from "./api.js";
import { h } from "./dom.js";
import { dateOf, dayShort, dayTitle, t, time, tn } from "./i18n.js";
import { back, errorText, notice, open, refresh } from "./main.js";
import { confirmButton, field, slotPicker } from "./parts.js";
import { openLink } from "./telegram.js";

export const tabs = () => [
  ["book", t("app-tab-book"), () => services()],
  ["my", t("app-tab-my"), () => myBookings()],
  ["points", t("app-tab-points"), () => points()],
];

const when = (iso) => `${dayTitle(dateOf(iso))}, ${time(iso)}`;

async function services() {
  const { services: list } = await get("services");
  if (!list.length) return h("p.empty", {}, t("app-no-services"));
  return [
    h("h2", {}, t("app-book-service")),
    h("ul.list", {}, list.map((s) => h("li", {}, h("button.row", {
      type: "button", dataset: { service: s.id }, onclick: () => open("days", () => days(s)),
    }, h("span.what", {}, h("b", {}, s.name), h("span.hint", {}, tn("app-minutes", s.minutes))), h("span.price", {}, s.price.text))))),
  ];
}

async function days(service) {
  const { days: list } = await get("days", { service_id: service.id });
  return [
    h("h2", {}, t("app-book-day")),
    h("p.hint", {}, service.name),
    list.length
      ? h("div.chips.days", {}, list.map((day) => h("button.chip", { type: "button", dataset: { day }, onclick: () => open("slots", () => slots(service, day)) }, dayShort(day))))
      : h("p.empty", {}, t("app-no-slots")),
  ];
}

async function slots(service, day) {
  const { slots: list } = await get("slots", { service_id: service.id, day });
  return [
    h("h2", {}, t("app-book-time")),
    h("p.hint", {}, `${service.name} · ${dayTitle(day)}`),
    list.length ? h("div.slots", {}, list.map((slot) => h("button.slot", { type: "button", dataset: { slot }, onclick: (event) => book(service, slot, event.currentTarget) }, time(slot))))
      : h("p.empty", {}, t("app-no-slots")),
  ];
}

async function book(service, slot, button) {
  button.disabled = true;
  try {
    const booking = await post("bookings", { service_id: service.id, start: slot });
    if (booking) await open("booked", () => booked(booking), { root: true });
    else document.querySelector('[data-page="my"]').click();  // booked, its answer lost
  } catch (error) {
    await refresh();
    notice(errorText(error), "bad");
  }
}

const booked = (b) => [
  h("h2", {}, t("app-booked-title")),
  h("dl", {}, field(t("app-service"), b.service.name), field(t("app-when"), when(b.start)), field(t("app-price"), b.price.text)),
  // issue 13: the time is held until the deposit is paid; the invoice is in the chat
  b.deposit ? h("p.notice", {}, t("app-booked-deposit", { amount: b.deposit.text })) : h("p.hint", {}, t("app-booked-hint")),
  h("button.primary", { type: "button", onclick: () => document.querySelector('[data-page="my"]').click() }, t("app-tab-my")),
];

async function myBookings() {
  const my = await get("my");
  if (!my.bookings.length) {
    return [h("p.empty", {}, t("app-my-none")),
      h("button.primary", { type: "button", onclick: () => document.querySelector('[data-page="book"]').click() }, t("app-tab-book"))];
  }
  return [
    h("h2", {}, t("app-my-title")),
    h("ul.cards", {}, my.bookings.map((b) => h("li.card", { dataset: { booking: b.id } },
      h("b", {}, b.service.name), h("p", {}, when(b.start)), h("p.hint", {}, b.price.text),
      h("div.buttons", {},
        h("button", { type: "button", onclick: () => open("move", () => moveScreen(b.id)) }, t("app-move")),
        confirmButton(t("app-cancel"), t("app-cancel-sure"), async () => {
          try {
            await post(`my/bookings/${b.id}/cancel`);
            await refresh();
            notice(t("app-cancelled"));
          } catch (error) {
            notice(errorText(error), "bad");
          }
        }, "danger"))))),
  ];
}

async function moveScreen(id) {
  const b = await get(`my/bookings/${id}`);
  return [
    h("h2", {}, t("app-move-title")),
    h("p.hint", {}, `${b.service.name} · ${when(b.start)}`),
    slotPicker(b.slots, async (slot) => {
      try {
        await post(`my/bookings/${id}/move`, { start: slot });
        await back();
        notice(t("app-moved", { when: when(slot) }));
      } catch (error) {
        await refresh();
        notice(errorText(error), "bad");
      }
    }),
  ];
}

async function points() {
  const my = await get("my");
  const link = h("input", { readOnly: true, value: my.referral_link, "aria-label": t("app-referral") });
  const copy = async () => {
    link.select();
    try {
      await navigator.clipboard.writeText(my.referral_link);
      notice(t("app-copied"));
    } catch { /* the text stays selected for a manual copy */ }
  };
  const share = `https://t.me/share/url?url=${encodeURIComponent(my.referral_link)}`;
  return [
    h("h2", {}, t("app-points-title")),
    h("p.big", {}, tn("app-points", my.points)),
    h("p.hint", {}, t("app-points-hint")),
    h("h3", {}, t("app-referral")),
    h("p", {}, t("app-referral-hint")),
    link,
    h("div.buttons", {},
      h("button", { type: "button", onclick: copy }, t("app-copy")),
      h("button.primary", { type: "button", onclick: () => openLink(share) }, t("app-share"))),
  ];
}
