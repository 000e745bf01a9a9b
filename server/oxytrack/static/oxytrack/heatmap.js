// The heatmap (activity/heatmap.py, templates/oxytrack/_heatmap.html): hour of day ×
// weekday of average active minutes, drawn with plotly.js from the JSON the server
// puts in <script type="application/json" id="heatmap-data"> (json_script).
// Every string in it is the server's own (no agent text), already translated and
// formatted; still passed through `plain()`, as plotly reads a subset of HTML.
"use strict";

(function () {
  // No mode bar (app.css hides it too).
  var CONFIG = { displaylogo: false, responsive: true, displayModeBar: false };

  function plain(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function draw() {
    var el = document.getElementById("heatmap-chart");
    var node = document.getElementById("heatmap-data");
    if (!el || !node || !window.Plotly) { return; }
    var data = JSON.parse(node.textContent);
    if (!data.employees) {
      Plotly.purge(el);
      el.textContent = data.labels.empty;
      el.classList.add("chart-empty");
      return;
    }
    var trace = {
      type: "heatmap", z: data.z, x: data.x.map(plain), y: data.y.map(plain),
      customdata: data.hover.map(function (row) { return row.map(plain); }),
      hovertemplate: "%{customdata}<extra></extra>",
      // Plotly's "Blues" runs dark to light: reversed, so no activity is light.
      colorscale: "Blues", reversescale: true, zmin: 0, xgap: 1, ygap: 1,
      colorbar: { title: { text: plain(data.labels.minutes) }, thickness: 12 },
    };
    var french = (document.documentElement.lang || "").toLowerCase().indexOf("fr") === 0;
    var layout = { height: 300, margin: { t: 10, b: 40, l: 90, r: 10 },
      separators: french ? ",\u00a0" : ".,",
      // Monday on top, as in a diary.
      yaxis: { autorange: "reversed", type: "category" },
      xaxis: { type: "category", tickangle: 0 } };
    Plotly.react(el, [trace], layout, CONFIG);
  }

  document.addEventListener("htmx:afterSettle", draw);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
