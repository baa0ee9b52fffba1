/*
 * 民主测评 tally chart (docs/surveys.md#tally), drawn with the vendored Apache ECharts: per
 * target the votes for each option, stacked. The figures come from the page's
 * <script type="application/json" id="tally-data">; the table above carries them exactly.
 * #tally-chart gets data-rendered="1" once drawn.
 */
(function () {
  "use strict";

  var source = document.getElementById("tally-data");
  var holder = document.getElementById("tally-chart");
  if (!source || !holder || typeof echarts === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var FONT = "'WenQuanYi Micro Hei', 'Microsoft YaHei', 'PingFang SC', sans-serif";
  var COLORS = { excellent: "#2f7ed8", competent: "#8bbc21", basic: "#f28f43", incompetent: "#c42525" };
  holder.style.height = Math.max(320, 36 * data.names.length + 90) + "px";
  var chart = echarts.init(holder, null, { renderer: "svg" });
  chart.on("finished", function () {
    holder.setAttribute("data-rendered", "1");
  });
  var names = data.names.map(function (name, i) {
    return name + (data.scores[i] ? "（" + data.scores[i] + "）" : "");
  });
  chart.setOption({
    animation: false,
    textStyle: { fontFamily: FONT },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    legend: { top: 0 },
    grid: { left: 8, right: 24, top: 32, bottom: 28, containLabel: true },
    // The axis name under the middle of the axis: at its end it was cut off by the edge.
    xAxis: { type: "value", name: data.axisName, nameLocation: "middle", nameGap: 26, minInterval: 1 },
    yAxis: { type: "category", inverse: true, data: names, axisLabel: { interval: 0 } },
    series: data.options.map(function (option) {
      return {
        name: option.label, type: "bar", stack: "votes", color: COLORS[option.key],
        data: data.counts.map(function (counts) { return counts[option.key]; }),
        label: { show: true, formatter: function (p) { return p.value ? p.value : ""; } }
      };
    })
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
