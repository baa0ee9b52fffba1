/*
 * 指标诊断: the correlation heatmap, drawn with the vendored Apache ECharts.
 *
 * The figures come from the page's <script type="application/json" id="diagnostics-data">
 * (weights/diagnostics.py: Page.chart). The same figures are in the table below the
 * chart, for readers without the chart. #diagnostics-heatmap gets data-rendered="1" once
 * drawn, so a browser test can wait for it.
 */
(function () {
  "use strict";

  var source = document.getElementById("diagnostics-data");
  var holder = document.getElementById("diagnostics-heatmap");
  var picker = document.getElementById("correlation-kind");
  if (!source || !holder || typeof echarts === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var chart = echarts.init(holder);
  var esc = echarts.format.encodeHTML;
  var FONT = "'WenQuanYi Micro Hei', 'Microsoft YaHei', 'PingFang SC', sans-serif";

  function draw(kind) {
    var matrix = data[kind];
    var cells = [];
    for (var i = 0; i < matrix.length; i++) {
      for (var j = 0; j < matrix.length; j++) {
        cells.push([j, i, matrix[i][j] === null ? "-" : matrix[i][j]]);
      }
    }
    chart.setOption({
      textStyle: { fontFamily: FONT },
      animation: false,
      grid: { left: 80, right: 20, top: 10, bottom: 90 },
      tooltip: {
        formatter: function (p) {
          var a = p.value[1], b = p.value[0];
          return esc(data.codes[a] + " " + data.names[a]) + "<br>" +
            esc(data.codes[b] + " " + data.names[b]) + "<br>r = " + esc(String(p.value[2]));
        }
      },
      xAxis: { type: "category", data: data.codes, axisLabel: { rotate: 60 } },
      yAxis: { type: "category", data: data.codes, inverse: true },
      visualMap: {
        min: -1, max: 1, calculable: true, orient: "horizontal", left: "center", bottom: 0,
        inRange: { color: ["#2166ac", "#f7f7f7", "#b2182b"] }
      },
      series: [{
        type: "heatmap", data: cells,
        label: { show: matrix.length <= 12, fontSize: 10 },
        emphasis: { itemStyle: { borderColor: "#333", borderWidth: 1 } }
      }]
    }, true);
  }

  draw(picker ? picker.value : "pearson");
  if (picker) {
    picker.addEventListener("change", function () { draw(picker.value); });
  }
  window.addEventListener("resize", function () { chart.resize(); });
  holder.setAttribute("data-rendered", "1");
})();
