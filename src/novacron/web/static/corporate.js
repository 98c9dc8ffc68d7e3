// Corporate pages: draw every chart from its JSON data block with plotly.js, and submit
// filter forms as soon as a select changes. No inline script anywhere (the CSP forbids
// it): a chart is <div data-figure="ID"> plus <script type="application/json" id="ID">.
(() => {
  "use strict";

  const CONFIG = { displayModeBar: false, responsive: true };
  const FONT = {
    family: 'Inter, ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif',
    size: 12,
    color: "#0f172a",
  };

  function figureOf(el) {
    const block = document.getElementById(el.dataset.figure);
    if (!block) throw new Error(`no chart data block #${el.dataset.figure}`);
    return JSON.parse(block.textContent);
  }

  function draw(el) {
    const fig = figureOf(el);
    const layout = Object.assign(
      { font: FONT, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)" },
      fig.layout || {},
    );
    return window.Plotly.newPlot(el, fig.data, layout, CONFIG).then(() => {
      el.dataset.rendered = "true";
    });
  }

  function drawAll() {
    const charts = document.querySelectorAll("[data-figure]");
    if (!charts.length) return;
    if (!window.Plotly) {
      charts.forEach((el) => {
        el.dataset.rendered = "unavailable";
        el.textContent = "Charts are unavailable: plotly.js did not load.";
      });
      return;
    }
    charts.forEach((el) => {
      draw(el).catch((err) => {
        el.dataset.rendered = "failed";
        console.error("chart", el.id, err);
      });
    });
  }

  function autosubmit() {
    document.querySelectorAll("form[data-autosubmit]").forEach((form) => {
      form.querySelectorAll("select").forEach((select) => {
        select.addEventListener("change", () => form.requestSubmit());
      });
    });
  }

  function start() {
    drawAll();
    autosubmit();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
