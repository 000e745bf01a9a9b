// The trends page's chart, drawn with plotly.js from the JSON the server puts in
// <script type="application/json" id="trend-data"> (json_script): one stacked bar
// per category per week (hours), and for a team the average per employee as a line.
//
// Category names are typed by the super-admin: like agent text, every string handed
// to plotly goes through `plain()` (plotly reads a subset of HTML in labels).
"use strict";

(function () {
  var CONFIG = { displaylogo: false, responsive: true, displayModeBar: false };

  function plain(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function hours(ms) { return Math.round(ms / 36000) / 100; }

  function draw() {
    var el = document.getElementById("trends-chart");
    var node = document.getElementById("trend-data");
    if (!el || !node || !window.Plotly) { return; }
    var data = JSON.parse(node.textContent);
    if (!data.categories.length) {
      el.textContent = data.labels.empty;
      el.classList.add("chart-empty");
      return;
    }
    var x = data.weeks.map(function (w) { return w[0]; });
    var when = data.weeks.map(function (w) { return plain(data.labels.week + " " + w[1]); });
    var traces = data.categories.map(function (c) {
      return { type: "bar", name: plain(c[0]), x: x, y: c[2].map(hours),
        marker: { color: c[1] }, customdata: when,
        // The name through %{fullData.name}, never spliced: it may hold "%{…}".
        hovertemplate: "%{customdata}<br>%{y} h<extra>%{fullData.name}</extra>" };
    });
    if (data.average.length) {
      traces.push({ type: "scatter", mode: "lines+markers", name: plain(data.labels.average),
        x: x, y: data.average.map(hours), yaxis: "y2", customdata: when,
        line: { color: "#333", dash: "dot" },
        hovertemplate: "%{customdata}<br>%{y} h<extra>" + plain(data.labels.average) + "</extra>" });
    }
    // French decimals and thousands ("1 234,5") when the page is French (<html lang>).
    var french = (document.documentElement.lang || "").toLowerCase().indexOf("fr") === 0;
    var layout = { barmode: "stack", height: 380, separators: french ? ",\u00a0" : ".,", margin: { t: 10, b: 40, l: 50, r: 50 },
      xaxis: { type: "category" },
      yaxis: { title: { text: plain(data.labels.hours) }, rangemode: "tozero" },
      legend: { orientation: "h" } };
    if (data.average.length) {
      layout.yaxis2 = { overlaying: "y", side: "right", rangemode: "tozero",
        title: { text: plain(data.labels.average) }, showgrid: false };
    }
    Plotly.react(el, traces, layout, CONFIG);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
