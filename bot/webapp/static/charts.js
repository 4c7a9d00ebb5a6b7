// The /stats charts drawn in the page as SVG: revenue by month (first and repeat purchases
// stacked) and the cohort retention heatmap. Colours come from the theme's CSS variables.
import { svg } from "./dom.js";
import { month, number, t } from "./i18n.js";

const W = 340;

export function revenueChart(rows) {
  const H = 180, left = 8, bottom = 22, top = 16;
  const max = Math.max(1, ...rows.map((r) => r.first + r.repeat));
  const step = (W - left) / rows.length;
  const bar = Math.max(4, step * 0.7);
  const y = (v) => top + (H - top - bottom) * (1 - v / max);
  const bars = rows.map((r, i) => {
    const x = left + i * step + (step - bar) / 2;
    const label = `${month(r.month)}: ${t("app-chart-first")} ${number(r.first / 100)}, ${t("app-chart-repeat")} ${number(r.repeat / 100)}`;
    return svg("g", {},
      svg("title", {}, label),
      svg("rect", { class: "first", x, y: y(r.first), width: bar, height: y(0) - y(r.first) }),
      svg("rect", { class: "repeat", x, y: y(r.first + r.repeat), width: bar, height: y(r.first) - y(r.first + r.repeat) }),
      svg("text", { x: x + bar / 2, y: H - 6, "text-anchor": "middle" }, month(r.month)));
  });
  const legend = svg("g", { class: "legend" },
    svg("rect", { class: "first", x: left, y: 2, width: 10, height: 10 }),
    svg("text", { x: left + 14, y: 11 }, t("app-chart-first")),
    svg("rect", { class: "repeat", x: left + 130, y: 2, width: 10, height: 10 }),
    svg("text", { x: left + 144, y: 11 }, t("app-chart-repeat")));
  return svg("svg", { class: "chart revenue", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": t("app-chart-revenue") },
    svg("line", { x1: left, x2: W, y1: y(0), y2: y(0), class: "axis" }), bars, legend);
}

export function cohortChart(cohorts) {
  const labelWidth = 60, cell = 22;
  const columns = Math.max(1, ...cohorts.map((c) => c.retention.length));
  const size = Math.min(cell, (W - labelWidth) / columns);
  const H = cohorts.length * size + 20;
  // A row per cohort (month of the first purchase); months still to come are null: no cell.
  const rows = cohorts.map((c, row) => svg("g", {},
    svg("text", { x: 0, y: 20 + row * size + size * 0.7 }, `${month(c.cohort)} ${c.cohort.slice(2, 4)}`),
    c.retention.map((share, col) => share === null ? null : svg("g", {},
      svg("title", {}, `${month(c.cohort)}, +${col}: ${Math.round(share * 100)}%`),
      svg("rect", { class: "cell", x: labelWidth + col * size, y: 20 + row * size, width: size - 1, height: size - 1,
        "fill-opacity": (0.08 + 0.92 * share).toFixed(2) })))));
  const heads = Array.from({ length: columns }, (_, col) =>
    svg("text", { x: labelWidth + col * size + size / 2, y: 12, "text-anchor": "middle" }, `+${col}`));
  return svg("svg", { class: "chart cohorts", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": t("app-chart-cohorts") }, heads, rows);
}
