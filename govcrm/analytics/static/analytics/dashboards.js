/* The dashboards' charts (ECharts, vendored next to this file). Each element with
 * data-chart="ID" is drawn from the JSON block <script type="application/json" id="ID"> that the
 * server rendered (Django's json_script): no inline script, so the strict CSP holds.
 * Chart kinds: "bars", "hbars" (horizontal), "stacked" and "lines" (labels + series of
 * numbers), "pie" (one series of {name, value}), "interval" (a rate per unit with its 95 %
 * interval as a floating bar), "map" (areas of a GeoJSON file, a static file of this site,
 * coloured by a value, with clusters drawn as circles; registered with echarts.registerMap).
 * Tooltips use ECharts' rich-text mode: its HTML tooltips carry style attributes, which the
 * policy (style-src 'self') would refuse. */
(function () {
  "use strict";

  function read(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function base(spec) {
    return {
      animation: false,
      tooltip: { trigger: spec.kind === "pie" ? "item" : "axis", renderMode: "richText" },
      legend: { top: 0 },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true }
    };
  }

  function options(spec) {
    var opt = base(spec);
    if (spec.kind === "pie") {
      opt.series = [{ type: "pie", name: spec.series[0].name, radius: ["35%", "65%"], top: 24,
                      data: spec.series[0].data }];
      return opt;
    }
    if (spec.kind === "interval") {
      var point = spec.series[0], band = spec.series[1];
      var width = band.high.map(function (h, i) {
        return h === null || band.low[i] === null ? null : Math.round((h - band.low[i]) * 10) / 10;
      });
      opt.tooltip.trigger = "item";
      opt.xAxis = { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } };
      opt.yAxis = { type: "category", data: spec.labels, inverse: true };
      opt.series = [
        { type: "bar", stack: "ci", data: band.low, itemStyle: { color: "transparent" }, silent: true,
          tooltip: { show: false } },
        { type: "bar", stack: "ci", name: band.name, data: width, barWidth: 10,
          itemStyle: { color: "#9ecae1" } },
        { type: "scatter", name: point.name, data: point.data, symbolSize: 10, itemStyle: { color: "#08519c" } }
      ];
      opt.legend.data = [point.name, band.name];
      return opt;
    }
    var categories = { type: "category", data: spec.labels };
    var values = spec.unit === "%" ? { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } }
                                   : { type: "value", minInterval: 1 };
    if (spec.kind === "hbars") {
      categories.inverse = true;
      categories.axisLabel = { width: 160, overflow: "truncate" };
      opt.xAxis = values;
      opt.yAxis = categories;
    } else {
      opt.xAxis = categories;
      opt.yAxis = values;
    }
    opt.series = spec.series.map(function (s) {
      var one = { type: spec.kind === "lines" ? "line" : "bar", name: s.name, data: s.data,
                  connectNulls: false, showSymbol: true };
      if (spec.kind === "stacked") { one.stack = "all"; }
      return one;
    });
    return opt;
  }

  function mapOptions(spec, geojson) {
    var codes = {};
    spec.areas.forEach(function (a) { codes[a.name] = true; });
    var mapName = "govcrm-" + spec.level;
    echarts.registerMap(mapName, {
      type: "FeatureCollection",
      features: geojson.features.filter(function (f) {
        return f.properties && f.properties.level === spec.level && codes[f.properties.code];
      })
    });
    // ECharts draws longitude and latitude at a fixed 0.75 ratio; the true one is cos(latitude).
    var lats = [];
    geojson.features.forEach(function (f) {
      if (codes[f.properties.code] && f.geometry && f.geometry.type === "Polygon") { lats.push(f.geometry.coordinates[0][0][1]); }
    });
    var midLat = lats.length ? lats.reduce(function (a, b) { return a + b; }, 0) / lats.length : 37;
    var labels = {};
    spec.areas.forEach(function (a) { labels[a.name] = a; });
    var values = spec.areas.map(function (a) { return a.value; }).filter(function (v) { return v !== null; });
    var biggest = 1;
    spec.clusters.data.forEach(function (c) { biggest = Math.max(biggest, c.value[2]); });
    return {
      animation: false,
      tooltip: { trigger: "item", renderMode: "richText" },
      legend: { top: 0, data: [spec.clusters.name] },
      visualMap: { type: "continuous", seriesIndex: 0, min: 0, max: Math.max(1, Math.max.apply(null, values.concat([0]))),
                   left: 8, bottom: 8, calculable: false, text: [spec.name, ""],
                   inRange: { color: ["#f7fbff", "#6baed6", "#08306b"] } },
      geo: { map: mapName, nameProperty: "code", roam: true, top: 32, bottom: 8,
             aspectScale: Math.cos(midLat * Math.PI / 180),
             itemStyle: { borderColor: "#555", borderWidth: 0.6 }, emphasis: { label: { show: false } } },
      series: [
        { type: "map", name: spec.name, geoIndex: 0, data: spec.areas,
          tooltip: { formatter: function (p) {
            var a = labels[p.name] || {};
            return (a.label || p.name) + "\n" + spec.name + ": " + (a.value === null || a.value === undefined ? "—" : a.value) +
              "\n" + spec.casesLabel + ": " + (a.cases === undefined ? "—" : a.cases);
          } } },
        { type: "scatter", name: spec.clusters.name, coordinateSystem: "geo", data: spec.clusters.data,
          symbolSize: function (v) { return 8 + 24 * Math.sqrt(v[2] / biggest); },
          itemStyle: { color: "rgba(203, 24, 29, 0.75)", borderColor: "#67000d" },
          tooltip: { formatter: function (p) { return p.name + "\n" + spec.casesLabel + ": " + p.value[2]; } } }
      ]
    };
  }

  function drawMap(el, spec, lang, charts) {
    fetch(spec.geojson, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error("map " + r.status); }
      return r.json();
    }).then(function (geojson) {
      var chart = echarts.init(el, null, { renderer: "canvas", locale: lang });
      chart.setOption(mapOptions(spec, geojson));
      var keys = {};
      spec.areas.forEach(function (a) { keys[a.name] = a.key; });
      chart.on("click", function (p) {
        if (p.seriesType === "scatter" && p.data && p.data.url) {
          window.location.href = p.data.url;  // the console's search for the cluster's cases
        } else if ((p.componentType === "geo" || p.seriesType === "map") && keys[p.name] !== undefined) {
          var q = new URLSearchParams(window.location.search);
          q.set("area", keys[p.name]);
          q.set("level", spec.drillLevel);
          window.location.search = q.toString();
        }
      });
      el.setAttribute("data-drawn", "true");
      charts.push(chart);
    }).catch(function () {
      el.setAttribute("data-failed", "true");
      el.textContent = el.getAttribute("data-failed-text") || "";
    });
  }

  function draw() {
    if (typeof echarts === "undefined") { return; }
    var lang = (document.documentElement.lang || "").toLowerCase().indexOf("zh") === 0 ? "ZH" : "EN";
    var charts = [];
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var spec = read(el.getAttribute("data-chart"));
      if (!spec) { return; }
      if (spec.kind === "map") { drawMap(el, spec, lang, charts); return; }
      var chart = echarts.init(el, null, { renderer: "canvas", locale: lang });
      chart.setOption(options(spec));
      el.setAttribute("data-drawn", "true");
      charts.push(chart);
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (c) { c.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
}());
