/* The dashboards' charts (ECharts, vendored next to this file). Each element with
 * data-chart="ID" is drawn from the JSON block <script type="application/json" id="ID"> that the
 * server rendered (Django's json_script): no inline script, so the strict CSP holds.
 * Chart kinds: "bars" and "lines" (labels + series of numbers), "pie" (one series of
 * {name, value}), "interval" (a rate per unit with its 95 % interval as a floating bar).
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
    opt.xAxis = { type: "category", data: spec.labels };
    opt.yAxis = spec.unit === "%" ? { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } }
                                  : { type: "value", minInterval: 1 };
    opt.series = spec.series.map(function (s) {
      return { type: spec.kind === "lines" ? "line" : "bar", name: s.name, data: s.data,
               connectNulls: false, showSymbol: true };
    });
    return opt;
  }

  function draw() {
    if (typeof echarts === "undefined") { return; }
    var lang = (document.documentElement.lang || "").toLowerCase().indexOf("zh") === 0 ? "ZH" : "EN";
    var charts = [];
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var spec = read(el.getAttribute("data-chart"));
      if (!spec) { return; }
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
