/*
 * 一镇一报告 chart (docs/reports.md#doors), drawn with the vendored Apache ECharts: each
 * indicator's share of its maximum, the town beside the average of all towns. The figures
 * come from the page's <script type="application/json" id="report-data">; the table above
 * carries the exact amounts. #report-chart gets data-rendered="1" once drawn.
 */
(function () {
  "use strict";

  var source = document.getElementById("report-data");
  var holder = document.getElementById("report-chart");
  if (!source || !holder || typeof echarts === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var FONT = "'WenQuanYi Micro Hei', 'Microsoft YaHei', 'PingFang SC', sans-serif";
  // Every indicator gets its own row: two bars and a readable label.
  holder.style.height = Math.max(300, 34 * data.labels.length + 70) + "px";
  var chart = echarts.init(holder, null, { renderer: "svg" });
  chart.on("finished", function () {
    holder.setAttribute("data-rendered", "1");
  });
  chart.setOption({
    animation: false,
    textStyle: { fontFamily: FONT },
    tooltip: { trigger: "axis", valueFormatter: function (v) { return v + "%"; } },
    legend: { top: 0, data: [data.town_name, "镇街平均"] },
    grid: { left: 8, right: 40, top: 32, bottom: 8, containLabel: true },
    xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
    yAxis: { type: "category", inverse: true, data: data.labels, axisLabel: { interval: 0 } },
    series: [
      { name: data.town_name, type: "bar", data: data.town.map(parseFloat),
        label: { show: true, position: "right", formatter: "{c}%" } },
      { name: "镇街平均", type: "bar", data: data.average.map(parseFloat) }
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
