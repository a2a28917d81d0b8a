/* Renders every chart on the page with the vendored Apache ECharts. Each chart's numbers
   are embedded in the page (<script type="application/json">); clicking a bar, slice or
   point opens the list of the records behind it. Nothing is fetched from another host. */
(function () {
  "use strict";
  if (!window.echarts) { return; }
  var money = new Intl.NumberFormat("zh-CN", {style: "currency", currency: "CNY", maximumFractionDigits: 0});
  var plain = new Intl.NumberFormat("zh-CN", {maximumFractionDigits: 1});
  var units = {hours: " h"};
  var lang = (document.documentElement.lang || "zh").slice(0, 2);
  if (lang === "zh") { units.hours = " 小时"; }

  function shortMoney(value) {
    if (Math.abs(value) >= 1e8) { return "¥" + plain.format(value / 1e8) + (lang === "zh" ? "亿" : "00M"); }
    if (Math.abs(value) >= 1e4) { return "¥" + plain.format(value / 1e4) + (lang === "zh" ? "万" : "0k"); }
    return money.format(value);
  }
  function format(value, unit, short) {
    if (value === null || value === undefined) { return "—"; }
    if (unit === "money") { return short ? shortMoney(value) : money.format(value); }
    if (unit === "hours") { return plain.format(value) + units.hours; }
    return plain.format(value);
  }

  // The colours of the enum badges (Bootstrap 3 label classes), so a chart speaks the
  // same vocabulary as lists: P1 red, P2 orange, closed grey ...
  var palette = {danger: "#d9534f", warning: "#f0ad4e", info: "#5bc0de", success: "#5cb85c",
                 primary: "#337ab7", "default": "#999999"};
  function colour(name) { return name ? palette[name] : undefined; }

  function option(data, narrow) {
    var labels = data.categories.map(function (c) { return c.label; });
    var unit = data.series.length ? data.series[0].unit : "count";
    var tooltip = {
      trigger: data.kind === "pie" ? "item" : "axis", confine: true,
      valueFormatter: function (v) { return format(v, unit, false); }
    };
    if (data.kind === "pie") {
      var s = data.series[0];
      return {
        tooltip: tooltip, legend: {type: "scroll", bottom: 0},
        series: [{type: "pie", radius: narrow ? ["30%", "60%"] : ["35%", "65%"],
                  data: s.data.map(function (p, i) {
                    return {name: labels[i], value: p.value,
                            itemStyle: {color: colour(data.categories[i].colour)}};
                  }),
                  label: {formatter: "{b}: {c}"}}]
      };
    }
    var axisNames = {};
    var twoUnits = data.series.some(function (s) { return s.unit !== unit; });
    return {
      tooltip: tooltip,
      legend: {type: "scroll", top: 0},
      grid: {left: 8, right: 8, top: 36, bottom: 8, containLabel: true},
      xAxis: {type: "category", data: labels,
              axisLabel: {rotate: narrow || labels.length > 8 ? 40 : 0, hideOverlap: true}},
      yAxis: (twoUnits ? [unit, data.series[data.series.length - 1].unit] : [unit]).map(function (u) {
        return {type: "value", minInterval: u === "count" ? 1 : 0,
                axisLabel: {formatter: function (v) { return format(v, u, true); }}};
      }),
      series: data.series.map(function (s) {
        return {
          name: s.name, type: data.kind === "line" ? "line" : "bar", stack: s.stack || undefined,
          yAxisIndex: twoUnits && s.unit !== unit ? 1 : 0, connectNulls: true,
          itemStyle: {color: colour(s.colour)},
          data: s.data.map(function (p, i) {
            var own = !s.colour && data.series.length === 1 && data.categories[i].colour;
            return own ? {value: p.value, itemStyle: {color: colour(own)}} : p.value;
          }),
          tooltip: {valueFormatter: function (v) { return format(v, s.unit, false); }}
        };
      })
    };
  }

  var charts = [];
  document.querySelectorAll("[data-chart]").forEach(function (box) {
    var source = document.getElementById(box.getAttribute("data-chart"));
    if (!source) { return; }
    var data = JSON.parse(source.textContent);
    if (!data.categories.length) { box.style.display = "none"; return; }
    var chart = echarts.init(box, null, {renderer: "canvas", locale: lang === "zh" ? "ZH" : "EN"});
    chart.on("finished", function () { box.setAttribute("data-drawn", "1"); });
    chart.setOption(option(data, box.clientWidth < 480));
    chart.on("click", function (event) {
      var series = data.kind === "pie" ? data.series[0] : data.series[event.seriesIndex];
      var point = series && series.data[event.dataIndex];
      if (point && point.url) { window.location.href = point.url; }
    });
    charts.push(chart);
  });
  window.addEventListener("resize", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
}());
