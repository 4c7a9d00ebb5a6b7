// Words come from the bot's catalogues (/app/api/me "texts"); this module only picks and fills
// them, and formats dates, times and counts the reader's way.
let texts = {};
let language = "ru";
let plurals = new Intl.PluralRules("ru");

export function setTexts(newTexts, newLanguage) {
  texts = newTexts || {};
  language = newLanguage || "ru";
  plurals = new Intl.PluralRules(language);
  document.documentElement.lang = language;
}

function fill(template, params) {
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? params[name] : whole));
}

export function t(key, params = {}) {
  return fill(texts[key] ?? key, params);
}

// Plural texts are three ids per count: key-one, key-few, key-many (English uses one and many).
export function tn(key, n, params = {}) {
  const form = plurals.select(n);
  const id = `${key}-${form === "other" ? "many" : form}`;
  return fill(texts[id] ?? texts[`${key}-many`] ?? id, { n: number(n), ...params });
}

export const number = (n) => new Intl.NumberFormat(language).format(n);

// "2026-12-01" → a Date at UTC midnight, formatted in UTC so the reader's own zone never shifts it.
const utcDate = (day) => new Date(`${day}T00:00:00Z`);

export function dayTitle(day) {
  return new Intl.DateTimeFormat(language, {
    weekday: "long", day: "numeric", month: "long", timeZone: "UTC",
  }).format(utcDate(day));
}

export function dayShort(day) {
  return new Intl.DateTimeFormat(language, {
    weekday: "short", day: "numeric", month: "short", timeZone: "UTC",
  }).format(utcDate(day));
}

export function dayMonth(day) {  // "November 26" without the weekday: reads well after "on"
  return new Intl.DateTimeFormat(language, { day: "numeric", month: "long", timeZone: "UTC" })
    .format(utcDate(day));
}

export function month(yyyyMm) {
  return new Intl.DateTimeFormat(language, { month: "short", timeZone: "UTC" })
    .format(new Date(`${yyyyMm}-01T00:00:00Z`));
}

// Times arrive with the shop's offset ("2026-12-01T10:00:00+03:00"): the shop's wall clock is the
// text itself, whatever zone the phone is in.
export const time = (iso) => iso.slice(11, 16);
export const dateOf = (iso) => iso.slice(0, 10);

export function addDays(day, n) {
  const date = utcDate(day);
  date.setUTCDate(date.getUTCDate() + n);
  return date.toISOString().slice(0, 10);
}
