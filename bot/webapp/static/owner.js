// The owner's screens: the week, a booking's card (move, done, no-show, cancel), customers and
// a customer's card with a message box, and the numbers of /stats with their charts.
import { get, post } from "./api.js";
import { cohortChart, revenueChart } from "./charts.js";
import { h } from "./dom.js";
import { addDays, dateOf, dayMonth, dayShort, dayTitle, t, time, tn } from "./i18n.js";
import { back, errorText, notice, open, refresh } from "./main.js";
import { amountInput, busyButton, confirmButton, field, slotPicker } from "./parts.js";

let today = null;  // the shop's today: the first day of the week the server gives by default

export const tabs = () => [
  ["week", t("app-tab-week"), () => week()],
  ["customers", t("app-tab-customers"), () => customers()],
  ["stats", t("app-tab-stats"), () => stats()],
];

// --- the week -------------------------------------------------------------------------------

async function week(start) {
  const data = await get("owner/week", start ? { start } : undefined);
  today ??= data.start;
  const last = data.days.at(-1).date;
  const go = (day) => open("week", () => week(day), { root: true });
  return [
    h("div.toolbar",
      {},
      h("button.icon", { type: "button", title: t("app-week-prev"), "aria-label": t("app-week-prev"),
        onclick: () => go(addDays(data.start, -7)) }, "‹"),
      h("h2", {}, `${dayShort(data.start)} – ${dayShort(last)}`),
      h("button.icon", { type: "button", title: t("app-week-next"), "aria-label": t("app-week-next"),
        onclick: () => go(addDays(data.start, 7)) }, "›")),
    data.start !== today
      ? h("button.link", { type: "button", onclick: () => go(today) }, t("app-week-today")) : null,
    h("div.strip", {}, data.days.map((day) => h("a.strip-day", {
      href: `#`, onclick: (event) => { event.preventDefault(); document.getElementById(`day-${day.date}`).scrollIntoView(); },
      class: `strip-day${day.day_off ? " off" : ""}${day.date === today ? " today" : ""}`,
    }, h("span", {}, dayShort(day.date).split(",")[0]), h("b", {}, String(booked(day).length))))),
    data.days.map(dayCard),
  ];
}

const nameOf = (person) => person.name || t("app-no-name");  // erased by /forget, or never given
const booked = (day) => day.bookings.filter((b) => b.status !== "cancelled");

function dayCard(day) {
  const hours = day.day_off || !day.hours.length
    ? t("app-day-off") : day.hours.map((span) => `${span.start}–${span.end}`).join(", ");
  const entries = [
    ...day.bookings.map((b) => ({ start: b.start, node: bookingRow(b) })),
    ...day.blocks.map((b) => ({ start: b.start, node: span("block", t("app-block"), b) })),
    ...day.free.map((f) => ({ start: f.start, node: span("free", t("app-free"), f) })),
  ].sort((a, b) => a.start.localeCompare(b.start));
  return h("section.day", { id: `day-${day.date}`, class: `day${day.day_off ? " off" : ""}` },
    h("h3", {}, dayTitle(day.date), day.date === today ? h("span.badge", {}, t("app-today")) : null),
    h("p.hint", {}, hours, " · ", tn("app-bookings", booked(day).length)),
    entries.length ? h("ul.entries", {}, entries.map((e) => e.node)) : null);
}

const span = (kind, label, s) =>
  h(`li.${kind}`, {}, h("span.time", {}, `${time(s.start)}–${time(s.end)}`), h("span", {}, label));

function bookingRow(b) {
  return h(`li.booking.${b.status}`, {},
    h("button.row", { type: "button", dataset: { booking: b.id }, onclick: () => open("booking", () => bookingCard(b.id)) },
      h("span.time", {}, `${time(b.start)}–${time(b.end)}`),
      h("span.what", {}, h("b", {}, nameOf(b.customer)), h("span.hint", {}, b.service.name)),
      h("span.status", {}, b.status === "booked" ? (b.confirmed ? "✓" : "") : t(`app-status-${b.status}`))));
}

// --- a booking ----------------------------------------------------------------------------

async function bookingCard(id) {
  const b = await get(`owner/bookings/${id}`);
  const act = (action, body, done) => async () => {
    try {
      await post(`owner/bookings/${id}/${action}`, body?.());
      await back();
      notice(done);
    } catch (error) {
      notice(errorText(error), "bad");
    }
  };
  const amount = amountInput(b.price);
  const actions = b.status !== "booked" ? [] : [
    h("div.done", {},
      h("label", {}, t("app-done-amount"), amount.node),
      busyButton("button.primary", t("app-done"), () => {
        const value = amount.value();
        // Junk stays here with a word on what to type; empty means the service's price.
        if (Number.isNaN(value)) return notice(t("app-amount-bad"), "bad");
        return act("done", () => (value === null ? {} : { amount: value }), t("app-done-saved"))();
      })),
    h("div.buttons", {},
      h("button", { type: "button", onclick: () => open("move", () => moveScreen(b.id)) }, t("app-move")),
      confirmButton(t("app-no-show"), t("app-no-show-sure"), act("no_show", null, t("app-no-show-saved"))),
      confirmButton(t("app-cancel"), t("app-cancel-sure"), act("cancel", null, t("app-cancelled")), "danger")),
  ];
  return [
    h("h2", {}, nameOf(b.customer)),
    h("dl", {},
      field(t("app-when"), `${dayTitle(dateOf(b.start))}, ${time(b.start)}–${time(b.end)}`),
      field(t("app-service"), b.service.name),
      field(t("app-price"), b.price.text),
      b.customer.phone ? field(t("app-phone"), h("a", { href: `tel:${b.customer.phone}` }, b.customer.phone)) : null,
      field(t("app-status"), t(`app-status-${b.status}`) + (b.confirmed ? ` · ${t("app-confirmed")}` : ""))),
    h("button.link", { type: "button", onclick: () => open("customer", () => customerCard(b.customer.id)) }, t("app-customer-open")),
    actions,
  ];
}

async function moveScreen(id) {
  const b = await get(`owner/bookings/${id}`);
  return [
    h("h2", {}, t("app-move-title")),
    h("p.hint", {}, `${nameOf(b.customer)} · ${b.service.name} · ${dayTitle(dateOf(b.start))}, ${time(b.start)}`),
    slotPicker(b.slots, async (slot) => {
      try {
        await post(`owner/bookings/${id}/move`, { start: slot });
        await back();
        notice(t("app-moved", { when: `${dayTitle(dateOf(slot))}, ${time(slot)}` }));
      } catch (error) {
        await refresh();
        notice(errorText(error), "bad");
      }
    }),
  ];
}

// --- customers ------------------------------------------------------------------------------

const SORTS = ["last_visit", "total", "predicted", "risk"];

async function customers() {
  const state = { q: "", sort: "last_visit", offset: 0 };
  const list = h("ul.list");
  const count = h("p.hint");
  const more = h("button", { type: "button", hidden: true }, t("app-more"));
  const load = async (append) => {
    state.offset = append ? state.offset + 50 : 0;
    try {
      const page = await get("owner/customers", { q: state.q, sort: state.sort, offset: state.offset, limit: 50 });
      const rows = page.items.map(customerRow);
      if (append) list.append(...rows); else list.replaceChildren(...rows);
      count.textContent = tn("app-customers-found", page.total);
      more.hidden = state.offset + page.items.length >= page.total;
    } catch (error) {
      notice(errorText(error), "bad");
    }
  };
  more.onclick = () => load(true);
  let timer = 0;
  const search = h("input", { type: "search", placeholder: t("app-search"), "aria-label": t("app-search"),
    oninput: () => { clearTimeout(timer); timer = setTimeout(() => { state.q = search.value.trim(); load(); }, 300); } });
  const sort = h("select", { "aria-label": t("app-sort"), onchange: () => { state.sort = sort.value; load(); } },
    SORTS.map((key) => h("option", { value: key }, t(`app-sort-${key}`))));
  await load();
  return [h("div.filters", {}, search, sort), count, list, more];
}

function customerRow(c) {
  const facts = [
    c.last_visit ? t("app-last-visit", { day: dayShort(c.last_visit) }) : t("app-no-visits"),
    tn("app-visits", c.visits),
    c.total.text,
  ];
  return h("li", {}, h("button.row", { type: "button", onclick: () => open("customer", () => customerCard(c.id)) },
    h("span.what", {}, h("b", {}, nameOf(c), c.at_risk ? h("span.badge.risk", {}, t("app-at-risk")) : null),
      h("span.hint", {}, facts.join(" · ")),
      c.predicted ? h("span.hint", {}, t("app-predicted-short", { money: c.predicted.text })) : null)));
}

// Issue 13: the visits this customer lost the shop, as /today shows them; nothing when none.
function lostLine(c) {
  const parts = [];
  if (c.no_shows) parts.push(tn("app-no-shows", c.no_shows));
  if (c.late_cancels) parts.push(tn("app-late-cancels", c.late_cancels));
  return parts.length ? h("p.warn.lost", { role: "note" }, t("app-lost", { parts: parts.join(", ") })) : null;
}

async function customerCard(id) {
  const c = await get(`owner/customers/${id}`);
  const text = h("textarea", { rows: 3, placeholder: t("app-message-placeholder"), "aria-label": t("app-message") });
  const send = async () => {
    try {
      const queued = await post(`owner/customers/${id}/message`, { text: text.value });
      text.value = "";
      // The outbox keeps the sending window: send_at says when it goes (now, or later).
      const later = queued?.send_at && Date.parse(queued.send_at) > Date.now() + 60_000;
      notice(later
        ? t("app-message-queued-at", { day: dayMonth(dateOf(queued.send_at)), time: time(queued.send_at) })
        : t("app-message-queued"));
    } catch (error) {
      notice(errorText(error), "bad");
    }
  };
  return [
    h("h2", {}, nameOf(c), c.at_risk ? h("span.badge.risk", {}, t("app-at-risk")) : null),
    lostLine(c),
    h("dl", {},
      c.phone ? field(t("app-phone"), h("a", { href: `tel:${c.phone}` }, c.phone)) : null,
      field(t("app-visits-label"), tn("app-visits", c.visits)),
      field(t("app-last-visit-label"), c.last_visit ? dayTitle(c.last_visit) : t("app-no-visits")),
      field(t("app-total"), c.total.text),
      field(t("app-predicted"), c.predicted ? c.predicted.text : t("app-predicted-none")),
      field(t("app-points-label"), tn("app-points", c.points)),
      field(t("app-birthday"), c.birthday || t("app-unknown")),
      field(t("app-source"), c.source || t("app-unknown")),
      field(t("app-consent"), c.consent ? t("app-yes") : t("app-no"))),
    c.history.length ? [
      h("h3", {}, t("app-history")),
      h("ul.history", {}, c.history.map((p) => h("li", {}, h("span", {}, `${dayShort(p.date)} · ${p.service}`), h("b", {}, p.amount.text)))),
    ] : null,
    h("h3", {}, t("app-message")),
    h("p.hint", {}, t("app-message-hint")),
    text,
    busyButton("button.primary", t("app-message-send"), send),
  ];
}

// --- numbers --------------------------------------------------------------------------------

async function stats() {
  const data = await get("owner/stats");
  return [
    h("h2", {}, t("app-stats-title")),
    // Each figure's text is the /stats line itself, label included: shown as the chat shows it.
    h("ul.figures", {}, data.figures.map((f) => h("li", { title: f.label, dataset: { key: f.key } }, f.text))),
    data.charts.revenue.length ? [h("h3", {}, t("app-chart-revenue")), revenueChart(data.charts.revenue)] : null,
    data.charts.cohorts.length ? [h("h3", {}, t("app-chart-cohorts")), h("p.hint", {}, t("app-chart-cohorts-hint")), cohortChart(data.charts.cohorts)] : null,
  ];
}
