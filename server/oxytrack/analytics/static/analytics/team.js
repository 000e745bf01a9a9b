// Charts of the team overview, drawn with plotly.js from the JSON the server puts in
// <script type="application/json" id="team-chart-data"> (json_script): active hours
// per category per day (stacked bars) and each team's share of each category (one
// 100 % bar per team). Category and team names are typed by the super-admin: every
// string handed to plotly goes through `plain()` (plotly reads a subset of HTML);
// bidi controls were already made visible on the server (chart_label).
"use strict";

(function () {
  var CONFIG = { displaylogo: false, responsive: true, displayModeBar: false };
  var LOCALES = {
    fr: { moduleType: "locale", name: "fr", dictionary: {}, format: {
      days: ["dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"],
      shortDays: ["dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."],
      months: ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
        "septembre", "octobre", "novembre", "décembre"],
      shortMonths: ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août",
        "sept.", "oct.", "nov.", "déc."],
      date: "%d/%m/%Y", decimal: ",", thousands: "\u00a0" } },
  };

  function useLocale() {
    var lang = (document.documentElement.lang || "").toLowerCase().split("-")[0];
    if (!LOCALES[lang] || CONFIG.locale === lang) { return; }
    Plotly.register(LOCALES[lang]);
    CONFIG.locale = lang;
  }

  function plain(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function empty(el, message) {
    el.textContent = message;
    el.classList.add("chart-empty");
  }

  function drawDays(data) {
    var el = document.getElementById("category-days-chart");
    if (!el) { return; }
    if (!data.categories.length) { empty(el, data.labels.empty); return; }
    var traces = data.categories.map(function (category, i) {
      var name = plain(category.name);
      return { type: "bar", name: name, x: data.days, y: data.hours[i],
        marker: { color: category.colour },
        // The name through %{fullData.name}, never spliced into the template: a
        // category named "%{x}" would otherwise be read as template syntax.
        hovertemplate: "%{x}<br>%{y} h<extra>%{fullData.name}</extra>" };
    });
    var layout = { barmode: "stack", height: 360, margin: { t: 10, b: 40, l: 50, r: 10 },
      // Never below zero, even when every bar is (a first day's few seconds).
      yaxis: { title: { text: plain(data.labels.hours) }, rangemode: "tozero", automargin: true },
      xaxis: { type: "date" }, legend: { orientation: "h" } };
    Plotly.react(el, traces, layout, CONFIG);
  }

  function drawShares(data) {
    var el = document.getElementById("team-shares-chart");
    if (!el) { return; }
    if (!data.teams.length) { empty(el, data.labels.empty); return; }
    var teams = data.teams.map(function (t) { return plain(t.name); });
    var traces = data.categories.map(function (category, i) {
      var name = plain(category.name);
      return { type: "bar", orientation: "h", name: name, y: teams,
        x: data.teams.map(function (t) { return t.shares[i]; }),
        marker: { color: category.colour },
        hovertemplate: "%{y}<br>%{x} %<extra>%{fullData.name}</extra>" };
    });
    var layout = { barmode: "stack", height: Math.max(220, 80 + 36 * teams.length),
      margin: { t: 10, b: 40, l: 10, r: 10 },
      xaxis: { range: [0, 100], title: { text: plain(data.labels.share) } },
      yaxis: { automargin: true, type: "category", autorange: "reversed" },
      legend: { orientation: "h" } };
    Plotly.react(el, traces, layout, CONFIG);
  }

  function drawAll() {
    var node = document.getElementById("team-chart-data");
    if (!window.Plotly || !node) { return; }
    useLocale();
    var data = JSON.parse(node.textContent);
    drawDays(data);
    drawShares(data);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
