// Charts of the employee detail page, drawn with plotly.js from the JSON the
// server puts in <script type="application/json" id="chart-data"> (json_script).
//
// Titles come from whoever sits at the monitored PC: every string handed to
// plotly goes through `plain()`, because plotly reads a subset of HTML in
// labels, legends and hover texts. Escaping <, > and & makes them text.
// Hover templates only name %{customdata}: plotly substitutes it once and does
// not read %{...} in the title it puts there. Bidi controls (U+202E...) are
// already replaced by visible marks on the server (web/formatting.py
// chart_label): SVG text has no HTML isolation.
"use strict";

(function () {
  var PALETTE = ["#1f5fbf", "#e8743b", "#19a979", "#945ecf", "#ed4a7b", "#13a4b4",
    "#bf399e", "#6c8893", "#ee6868", "#2f6497", "#a1887f", "#d4a017"];
  var OTHER_COLOUR = "#b8c0cc";
  var IDLE_COLOUR = "#d5d9e0";
  // No mode bar (app.css hides it too).
  var CONFIG = { displaylogo: false, responsive: true, displayModeBar: false };
  var MAX_LABEL = 60;
  // plotly.js speaks English unless given a locale: the page's language (<html
  // lang>) picks French month and day names, day-first dates and "1 234,5".
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

  function shorten(text) {
    var chars = Array.from(String(text));  // never cut an emoji in half
    return chars.length > MAX_LABEL ? chars.slice(0, MAX_LABEL - 1).join("") + "…" : chars.join("");
  }

  function hours(ms) { return Math.round(ms / 3600) / 1000; }  // a few seconds still show

  function readData(root) {
    var node = root.querySelector ? root.querySelector("#chart-data") : null;
    node = node || document.getElementById("chart-data");
    return node ? JSON.parse(node.textContent) : null;
  }

  // Pie labels must be unique (plotly merges equal labels): number repeats.
  function uniqueLabels(rows) {
    var seen = {};
    return rows.map(function (row) {
      var label = plain(shorten(row[0]));
      if (seen[label]) { seen[label] += 1; label = label + " (" + seen[label] + ")"; }
      else { seen[label] = 1; }
      return label;
    });
  }

  // data.pie rows: [label, ms, colour ("" = from the palette), detail (raw app names), other].
  // A category keeps its own colour; the "Autres" slice is grey.
  function drawPie(data) {
    var el = document.getElementById("pie-chart");
    if (!el) { return; }
    var rows = data.pie || [];
    if (!rows.length) { empty(el, data.labels.empty); return; }
    var colours = rows.map(function (r, i) {
      return r[4] ? OTHER_COLOUR : (r[2] || PALETTE[i % PALETTE.length]);
    });
    var trace = {
      type: "pie", hole: 0.35, sort: false,
      labels: uniqueLabels(rows),
      values: rows.map(function (r) { return r[1]; }),
      customdata: rows.map(function (r) {
        var hover = plain(Array.from(String(r[0])).slice(0, 300).join(""));
        return r[3] && r[3] !== r[0] ? hover + "<br>" + plain(shorten(r[3])) : hover;
      }),
      marker: { colors: colours },
      pull: rows.map(function () { return 0; }),
      textinfo: "percent",
      hovertemplate: "%{customdata}<br>%{percent}<extra></extra>",
    };
    var layout = { margin: { t: 10, b: 10, l: 10, r: 10 }, height: 340,
      legend: { orientation: "v", font: { size: 11 } } };
    Plotly.react(el, [trace], layout, CONFIG).then(function () {
      if (el.dataset.clickBound) { return; }
      el.dataset.clickBound = "1";
      // Clicking a slice pulls it out (a second click puts it back).
      el.on("plotly_click", function (event) {
        var point = event.points[0];
        var pull = el.data[0].pull.slice();
        pull[point.pointNumber] = pull[point.pointNumber] ? 0 : 0.12;
        Plotly.restyle(el, { pull: [pull] });
      });
    });
  }

  // data.days rows: [day, active ms, idle ms]. By category, data.day_categories rows
  // [label, colour, ms per day] stack the active part per category (the rules' order,
  // "Non classé" last, each in its colour); idle time stays on top.
  function drawDays(data) {
    var el = document.getElementById("days-chart");
    if (!el) { return; }
    var days = data.days.map(function (d) { return d[0]; });
    var traces = (data.day_categories || []).map(function (c) {
      var name = plain(shorten(c[0]));
      // The name as customdata, not in the template: plotly would read %{...} in it.
      return { type: "bar", name: name, x: days,
        y: c[2].map(hours), marker: { color: c[1] },
        customdata: days.map(function () { return name; }),
        hovertemplate: "%{x}<br>%{y} h<extra>%{customdata}</extra>" };
    });
    if (!traces.length) {
      traces.push({ type: "bar", name: plain(data.labels.active), x: days,
        y: data.days.map(function (d) { return hours(d[1]); }), marker: { color: PALETTE[0] },
        hovertemplate: "%{x}<br>%{y} h<extra>" + plain(data.labels.active) + "</extra>" });
    }
    traces.push({ type: "bar", name: plain(data.labels.idle), x: days,
      y: data.days.map(function (d) { return hours(d[2]); }), marker: { color: IDLE_COLOUR },
      hovertemplate: "%{x}<br>%{y} h<extra>" + plain(data.labels.idle) + "</extra>" });
    var layout = { barmode: "stack", height: 340, margin: { t: 10, b: 40, l: 50, r: 10 },
      // Never below zero, even when every bar is (a first day's few seconds).
      yaxis: { title: { text: plain(data.labels.hours) }, rangemode: "tozero", automargin: true },
      xaxis: { type: "date" }, legend: { orientation: "h", traceorder: "normal" } };
    Plotly.react(el, traces, layout, CONFIG);
  }

  // data.timeline rows: [start, end, app, title, active, row, colour, order]. The row
  // is the span's app, friendly app name or category (`?group=`); a category comes in
  // its colour, the rows in the rules' order (first at the top).
  function drawTimeline(data) {
    var el = document.getElementById("timeline-chart");
    if (!el) { return; }
    var spans = data.timeline;
    if (!spans.length) { empty(el, data.labels.empty_day); return; }
    // One trace per row (its own colour, its legend entry), idle spans in one grey trace.
    var byRow = {}, order = [], ranks = {}, ranked = false;
    var idle = { type: "bar", orientation: "h", name: plain(data.labels.idle), base: [], x: [],
      y: [], customdata: [], marker: { color: IDLE_COLOUR },
      hovertemplate: "%{customdata}<extra></extra>" };
    spans.forEach(function (s) {
      var start = s[0], end = s[1], app = s[2], title = s[3], active = s[4];
      var label = s[5] || app, colour = s[6];
      var ms = new Date(end.replace(" ", "T")) - new Date(start.replace(" ", "T"));
      var row = plain(shorten(label));
      var hover = row + (label !== app ? "<br>" + plain(shorten(app)) : "") + "<br>" +
        plain(shorten(title)) + "<br>" + start.slice(11, 19) + " – " + end.slice(11, 19) +
        (active ? "" : " (" + plain(data.labels.idle_span) + ")") +
        (data.labels.zone ? "<br>" + plain(data.labels.zone) : "");
      // Only categories come with a colour: their rows then follow the rules' order.
      ranked = ranked || Boolean(colour);
      ranks[row] = s[7] || 0;
      var trace = idle;
      if (active) {
        if (!byRow[label]) {
          byRow[label] = { type: "bar", orientation: "h", name: row, base: [], x: [], y: [],
            customdata: [], marker: { color: colour || PALETTE[order.length % PALETTE.length] },
            hovertemplate: "%{customdata}<extra></extra>" };
          order.push(label);
        }
        trace = byRow[label];
      }
      trace.base.push(start); trace.x.push(ms); trace.y.push(row); trace.customdata.push(hover);
    });
    var traces = order.map(function (r) { return byRow[r]; });
    if (ranked) { traces.sort(function (a, b) { return ranks[a.name] - ranks[b.name]; }); }
    if (idle.x.length) { traces.push(idle); }
    var yaxis = { automargin: true, type: "category" };
    if (ranked) {
      // Bottom to top: the first rule's row at the top (a row of idle spans only too).
      yaxis.categoryorder = "array";
      yaxis.categoryarray = Object.keys(ranks).sort(function (a, b) {
        return ranks[b] - ranks[a];
      });
    }
    var layout = { barmode: "overlay", height: Math.max(220, 60 + 28 * order.length),
      margin: { t: 10, b: 40, l: 160, r: 10 },
      // The employee's clock; named when it is not the reader's zone.
      xaxis: { type: "date", title: { text: plain(data.labels.zone || "") } },
      yaxis: yaxis, showlegend: true,
      legend: { orientation: "h" } };
    Plotly.react(el, traces, layout, CONFIG);
  }

  function empty(el, message) {
    if (window.Plotly) { Plotly.purge(el); }
    el.textContent = message;
    el.classList.add("chart-empty");
  }

  function drawAll(root) {
    if (!window.Plotly) { return; }
    useLocale();
    var data = readData(root || document);
    if (!data) { return; }
    drawPie(data);
    drawDays(data);
    drawTimeline(data);
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.target && event.detail.target.id === "activity") { drawAll(event.detail.target); }
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  } else {
    drawAll(document);
  }
})();
