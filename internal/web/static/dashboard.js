// The dashboard's history charts: fetches the series of the chosen range and
// topic from the gateway (GET /ui/history) and draws them with uPlot; the
// dashboard's event stream says when a new step is there to fetch. Text
// from the server reaches the page only as textContent.
(function () {
  "use strict";

  var card = document.getElementById("history");
  if (!card || typeof uPlot === "undefined") {
    return;
  }
  var note = document.getElementById("history-note");
  var topicSelect = document.getElementById("history-topic");
  var errorTypes = (card.dataset.errorTypes || "").split(",");
  var palette = [
    "#dc2626", "#ea580c", "#d97706", "#65a30d", "#0891b2", "#2563eb", "#7c3aed", "#c026d3",
    "#db2777", "#475569", "#0d9488", "#9333ea", "#b45309", "#4d7c0f", "#be123c",
  ];
  var charts = {};
  var lastTick = "";
  var loading = false;

  function colorOf(type) {
    var i = errorTypes.indexOf(type);
    return palette[(i < 0 ? errorTypes.length : i) % palette.length];
  }

  function fmtRate(v) {
    if (v == null) return "–";
    if (v === 0) return "0";
    if (v >= 1000) return (v / 1000).toFixed(1) + "k";
    if (v >= 10) return v.toFixed(0);
    return v.toFixed(v >= 1 ? 1 : 2);
  }

  function fmtCount(v) {
    if (v == null) return "–";
    if (v >= 1e6) return (v / 1e6).toFixed(1) + "M";
    if (v >= 1e4) return (v / 1e3).toFixed(0) + "k";
    return Math.round(v).toString();
  }

  function fmtPct(v) {
    return v == null ? "–" : (v * 100).toFixed(v < 0.1 ? 1 : 0) + "%";
  }

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  // Times are shown in UTC, as everywhere in the UI.
  function fmtTime(ts) {
    var d = new Date(ts * 1000);
    return pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
  }

  function fmtStamp(ts) {
    var d = new Date(ts * 1000);
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " +
      fmtTime(ts) + ":" + pad(d.getUTCSeconds()) + "Z";
  }

  function axes(fmt) {
    var font = "12px system-ui, sans-serif";
    return [
      {
        font: font, stroke: "#6b7280", grid: { stroke: "#eef1f6" }, ticks: { stroke: "#e5e7eb" },
        values: function (u, vals) { return vals.map(fmtTime); },
      },
      {
        font: font, stroke: "#6b7280", size: 52, grid: { stroke: "#eef1f6" }, ticks: { stroke: "#e5e7eb" },
        values: function (u, vals) { return vals.map(fmt); },
      },
    ];
  }

  function line(label, color, fmt, fill) {
    return {
      label: label, stroke: color, width: 2, fill: fill || undefined, points: { show: false },
      value: function (u, v) { return fmt(v); },
    };
  }

  // newest is the index of the last step with data in any series: the
  // legend shows its values while the pointer is not on the chart.
  function newest(data) {
    for (var i = data[0].length - 1; i >= 0; i--) {
      for (var s = 1; s < data.length; s++) {
        if (data[s][i] != null) return i;
      }
    }
    return null;
  }

  // draw (re)creates a chart when its series changed, else swaps its data.
  function draw(id, series, data, fmt, bands) {
    var el = document.getElementById(id);
    var key = series.map(function (s) { return s.label; }).join("|");
    var c = charts[id];
    if (c && c.key === key) {
      c.plot.setData(data);
      c.plot.setLegend({ idx: newest(data) });
      return;
    }
    if (c) {
      c.plot.destroy();
    }
    var opts = {
      width: Math.max(el.clientWidth, 200),
      height: 190,
      series: [{ label: "UTC", value: function (u, ts) { return ts == null ? "–" : fmtStamp(ts); } }].concat(series),
      bands: bands || [],
      axes: axes(fmt),
      scales: { y: { range: function (u, min, max) { return [0, Math.max(max || 0, 1e-9) * 1.1]; } } },
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      hooks: {
        setCursor: [function (u) {
          if (u.cursor.idx == null) u.setLegend({ idx: newest(u.data) });
        }],
      },
    };
    var plot = new uPlot(opts, data, el);
    plot.setLegend({ idx: newest(data) });
    charts[id] = { key: key, plot: plot, width: el.clientWidth };
  }

  // stacked turns the error types' series into a stacked area chart: each
  // series is drawn at the sum of those before it and itself, filled down
  // to the one below (a band), while its legend shows its own value.
  function stacked(t, types) {
    var data = [t];
    var sums = t.map(function () { return null; });
    var series = [];
    var bands = [];
    types.forEach(function (s, k) {
      var raw = s.per_second;
      sums = sums.map(function (acc, i) { return raw[i] == null ? acc : (acc || 0) + raw[i]; });
      data.push(sums.slice());
      var color = colorOf(s.type);
      series.push({
        label: s.type, stroke: color, width: 1.5, fill: color + "55", points: { show: false },
        value: function (u, v, si, idx) { return idx == null ? "–" : fmtRate(raw[idx]); },
      });
      if (k > 0) bands.push({ series: [k + 1, k], fill: color + "55" });
    });
    // uPlot fills bands between series; the first fills down to zero.
    return { data: data, series: series, bands: bands };
  }

  function render(h) {
    var t = h.times;
    draw("chart-throughput", [
      line("valid", "#16a34a", fmtRate, "rgba(22,163,74,0.08)"),
      line("quarantined", "#dc2626", fmtRate, "rgba(220,38,38,0.08)"),
    ], [t, h.valid_per_second, h.invalid_per_second], fmtRate);
    draw("chart-share", [line("invalid share", "#d97706", fmtPct, "rgba(217,119,6,0.08)")],
      [t, h.invalid_share], fmtPct);
    var types = h.invalid_by_error_type;
    if (types.length === 0) {
      draw("chart-errors", [line("none quarantined", "#9ca3af", fmtRate)], [t, h.invalid_per_second], fmtRate);
    } else {
      var st = stacked(t, types);
      draw("chart-errors", st.series, st.data, fmtRate, st.bands);
    }
    draw("chart-lag", [line("lag", "#4f46e5", fmtCount, "rgba(79,70,229,0.08)")], [t, h.lag], fmtCount);

    var current = topicSelect.value;
    var known = {};
    Array.prototype.forEach.call(topicSelect.options, function (o) { known[o.value] = true; });
    h.topics.forEach(function (topic) {
      if (!known[topic]) {
        var o = document.createElement("option");
        o.value = topic;
        o.textContent = topic;
        topicSelect.appendChild(o);
      }
    });
    topicSelect.value = current;

    note.classList.remove("alert");
    note.textContent = h.source === "prometheus"
      ? "From Prometheus: every gateway it scrapes, one point per " + h.step_seconds + " s (rates over max(step, 1 min))."
      : "This gateway's own figures since it started, one point per " + h.step_seconds + " s, kept in memory for up to 24 h.";
  }

  function load() {
    if (loading) return;
    loading = true;
    var params = new URLSearchParams({ range: card.dataset.range, topic: card.dataset.topic });
    fetch(card.dataset.url + "?" + params.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (resp) {
        return resp.json().then(function (body) {
          if (!resp.ok) {
            throw new Error(body && body.error ? body.error.message : resp.status + " " + resp.statusText);
          }
          return body;
        });
      })
      .then(function (h) {
        render(h);
        card.dataset.points = String(h.times.length);
        card.dataset.loaded = h.times.length ? String(h.times[h.times.length - 1]) : "0";
      })
      .catch(function (err) {
        note.classList.add("alert");
        note.textContent = "The history could not be read: " + err.message;
      })
      .finally(function () { loading = false; });
  }

  // The event stream's "history" event carries the newest step's time:
  // fetch again when it moves.
  document.body.addEventListener("htmx:sseMessage", function (evt) {
    if (!evt.detail || evt.detail.type !== "history") return;
    if (evt.detail.data !== lastTick) {
      var first = lastTick === "";
      lastTick = evt.detail.data;
      if (!first) load();
    }
  });

  topicSelect.addEventListener("change", function () { topicSelect.form.submit(); });

  if (typeof ResizeObserver !== "undefined") {
    new ResizeObserver(function () {
      Object.keys(charts).forEach(function (id) {
        var el = document.getElementById(id);
        if (charts[id].width !== el.clientWidth) {
          charts[id].width = el.clientWidth;
          charts[id].plot.setSize({ width: Math.max(el.clientWidth, 200), height: 190 });
        }
      });
    }).observe(card);
  }

  load();
})();
