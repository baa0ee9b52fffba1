/*
 * 考核排名 charts, drawn with the vendored Apache ECharts (static/vendor/echarts).
 *
 * The page's <script type="application/json" id="ranking-data"> block says where the
 * figures are (ranking_view.py:chart_settings); they are fetched from charts.json after
 * the page (ranking_view.py:chart_data), so the table never waits for the charts. Amounts
 * arrive as two-decimal strings; they are turned into numbers here for drawing only — the
 * table, the XLSX and the print sheet carry the exact figures.
 *
 * When every chart has finished drawing, #ranking-charts gets data-rendered="1" so a
 * browser test can wait for it ("failed" when the figures could not be read).
 */
(function () {
  "use strict";

  var source = document.getElementById("ranking-data");
  var holder = document.getElementById("ranking-charts");
  if (!source || !holder || typeof echarts === "undefined") {
    return;
  }
  var settings = JSON.parse(source.textContent);
  var status = document.getElementById("charts-status");

  fetch(settings.charts_url, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) {
        throw new Error(response.status);
      }
      return response.json();
    })
    .then(function (figures) {
      if (status) {
        status.remove();
      }
      drawAll(Object.assign({}, settings, figures));
    })
    .catch(function () {
      if (status) {
        status.textContent = settings.labels.charts_failed;
        status.className = "alert alert-warning small";
      }
      holder.setAttribute("data-rendered", "failed");
    });

  function drawAll(data) {
    var units = data.units;
    var names = units.map(function (u) { return u.name; });
    var many = units.length > 30;
    var charts = [];
    var FONT = "'WenQuanYi Micro Hei', 'Microsoft YaHei', 'PingFang SC', sans-serif";

    var L = data.labels;
    // Tooltips are HTML: every name in them is user data and is escaped.
    var esc = echarts.format.encodeHTML;

    function num(text) {
      return text === null || text === undefined ? 0 : parseFloat(text);
    }

    var pending = 0;
    function watch(chart) {
      pending += 1;
      var done = false;
      chart.on("finished", function () {
        // A chart still waiting for its data (the trend) has drawn only its loading mask.
        if (done || chart.ledgerWaiting) {
          return;
        }
        done = true;
        pending -= 1;
        if (pending === 0) {
          holder.setAttribute("data-rendered", "1");
        }
      });
    }

    function make(id) {
      var element = document.getElementById(id);
      if (!element) {
        return null;
      }
      var chart = echarts.init(element, null, { renderer: "canvas" });
      charts.push(chart);
      watch(chart);
      return chart;
    }

    function windowEnd() {
      // About thirty units in view at a time.
      return Math.min(100, 3000 / units.length);
    }

    function zoom() {
      // A province has hundreds of towns: let the reader scroll instead of squeezing them.
      return many ? [{ type: "slider", start: 0, end: windowEnd() }, { type: "inside" }] : [];
    }

    var base = {
      textStyle: { fontFamily: FONT },
      animationDuration: 400,
      grid: { left: 48, right: 24, top: 48, bottom: 64, containLabel: true }
    };

    function totalsChart() {
      var chart = make("chart-totals");
      if (!chart) {
        return;
      }
      var series = data.dimensions.map(function (d) {
        return {
          name: d.name, type: "bar", stack: "total", barMaxWidth: 36,
          emphasis: { focus: "series" },
          data: units.map(function (u) { return num(u.dimensions[d.code]); })
        };
      });
      series.push({
        name: L.bonus, type: "bar", stack: "total", barMaxWidth: 36, itemStyle: { color: "#e6a23c" },
        data: units.map(function (u) { return num(u.bonus); }),
        label: {
          // Totals on top of the bars only while they fit side by side.
          show: units.length <= 15, position: "top", fontSize: 11, color: "#333",
          // A unit with missing values says so under its total (its grade is not shown).
          formatter: function (p) {
            var unit = units[p.dataIndex];
            return unit.complete ? unit.total : unit.total + "\n" + unit.grade;
          }
        }
      });
      series.push({
        name: L.penalty, type: "bar", stack: "total", barMaxWidth: 36, itemStyle: { color: "#909399" },
        data: units.map(function (u) { return -num(u.penalty); })
      });
      chart.setOption(Object.assign({}, base, {
        legend: { top: 8 },
        tooltip: {
          trigger: "axis", axisPointer: { type: "shadow" },
          formatter: function (items) {
            var unit = units[items[0].dataIndex];
            var lines = ["<b>" + unit.rank + ". " + esc(unit.name) + "</b> " + L.total + " " + unit.total];
            data.dimensions.forEach(function (d) { lines.push(esc(d.name) + "：" + unit.dimensions[d.code]); });
            lines.push(L.bonus + "：" + unit.bonus + "　" + L.penalty + "：" + unit.penalty);
            lines.push(L.grade + "：" + esc(unit.grade));
            if (unit.vetoed) { lines.push(L.vetoed); }
            return lines.join("<br>");
          }
        },
        xAxis: { type: "category", data: names,
          axisLabel: { rotate: units.length > 8 ? 40 : 0, interval: many ? "auto" : 0 } },
        yAxis: {
          type: "value", name: L.points,
          // Room below zero only as deep as the largest penalty needs.
          min: function (extent) { return extent.min < 0 ? Math.floor(extent.min / 5) * 5 : 0; }
        },
        dataZoom: zoom(),
        series: series
      }));
    }

    function radarChart() {
      var chart = make("chart-radar");
      var select = document.getElementById("radar-unit");
      if (!chart) {
        return;
      }
      if (select && !select.options.length) {
        units.forEach(function (u) {
          var option = document.createElement("option");
          option.value = u.unit;
          option.textContent = u.name;
          select.appendChild(option);
        });
      }
      var indicators = data.indicators;
      var average = {};
      indicators.forEach(function (i) {
        var sum = 0;
        units.forEach(function (u) { sum += num(u.indicators[i.code]); });
        average[i.code] = units.length ? (sum / units.length).toFixed(2) : "0.00";
      });
      function share(points, indicator) {
        var full = num(indicator.points);
        return full > 0 ? Math.round(1000 * num(points) / full) / 10 : 0;
      }
      function draw(code) {
        var unit = units.filter(function (u) { return u.unit === code; })[0] || units[0];
        if (!unit) {
          return;
        }
        chart.setOption(Object.assign({}, base, {
          legend: { top: 8, data: [unit.name, L.average] },
          tooltip: {
            trigger: "item",
            formatter: function (p) {
              var figures = p.name === L.average ? average : unit.indicators;
              return "<b>" + esc(p.name) + "</b><br>" + indicators.map(function (i) {
                return esc(i.name) + "：" + figures[i.code] + " / " + i.points;
              }).join("<br>");
            }
          },
          radar: {
            radius: "62%", center: ["50%", "56%"],
            indicator: indicators.map(function (i) {
              var label = i.name.length > 6 ? i.name.slice(0, 6) + "…" : i.name;
              return { name: label, max: 100 };
            }),
            axisName: { color: "#444", fontSize: 11 }
          },
          series: [{
            type: "radar",
            data: [
              { name: unit.name, value: indicators.map(function (i) { return share(unit.indicators[i.code], i); }),
                areaStyle: { opacity: 0.25 } },
              { name: L.average, value: indicators.map(function (i) { return share(average[i.code], i); }),
                lineStyle: { type: "dashed" } }
            ]
          }]
        }), true);
      }
      draw(select ? select.value : (units[0] && units[0].unit));
      if (select) {
        select.addEventListener("change", function () { draw(select.value); });
      }
    }

    function trendChart() {
      var chart = make("chart-trend");
      if (!chart) {
        return;
      }
      chart.ledgerWaiting = true;
      chart.showLoading({ text: L.loading });
      // The trend reads every period's ranking: it comes after the page, not with it.
      fetch(data.trend_url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) {
            throw new Error(response.status);
          }
          return response.json();
        })
        .then(function (trend) { drawTrend(chart, trend); })
        .catch(function () {
          chart.ledgerWaiting = false;
          chart.hideLoading();
          chart.setOption({ title: { text: L.trend_failed, left: "center", top: "middle",
            textStyle: { color: "#999", fontSize: 14 } } });
        });
    }

    function drawTrend(chart, trend) {
      var current = {};
      units.forEach(function (u) { current[u.unit] = u.rank; });
      var selected = {};
      // Legend in the order of the current ranking, so the leaders come first.
      trend.series.sort(function (a, b) { return (current[a.unit] || 1e9) - (current[b.unit] || 1e9); });
      var seen = {};
      trend.series.forEach(function (s) { seen[s.name] = (seen[s.name] || 0) + 1; });
      trend.series.forEach(function (s) {
        // The legend keys series by name: towns of the same name in different counties need
        // their code to stay apart.
        s.label = seen[s.name] > 1 ? s.name + "（" + s.unit + "）" : s.name;
        // With many units only the current top ten are switched on; the legend adds others.
        selected[s.label] = units.length <= 20 || (current[s.unit] || 1e9) <= 10;
      });
      chart.ledgerWaiting = false;
      chart.hideLoading();
      chart.setOption(Object.assign({}, base, {
        legend: { type: "scroll", top: 8, selected: selected },
        tooltip: { trigger: "axis" },
        grid: { left: 56, right: 56, top: 72, bottom: 24, containLabel: true },
        xAxis: { type: "category", boundaryGap: true, data: trend.periods.map(function (p) { return p.name; }) },
        yAxis: { type: "value", inverse: true, min: 1, minInterval: 1, name: L.rank, nameLocation: "start" },
        series: trend.series.map(function (s) {
          return { name: s.label, type: "line", data: s.ranks, connectNulls: false, symbolSize: 6,
            emphasis: { focus: "series" } };
        })
      }));
    }

    function uncertaintyChart() {
      var element = document.getElementById("chart-uncertainty");
      if (element && !many) {
        // One row per unit: keep the names readable.
        element.style.height = Math.max(380, units.length * 22 + 100) + "px";
      }
      var chart = make("chart-uncertainty");
      if (!chart) {
        return;
      }
      var lows = [], spans = [], medians = [], nominal = [];
      units.forEach(function (u, index) {
        var s = u.sensitivity || {};
        var low = Number(s.q5_rank), high = Number(s.q95_rank);
        // Keep a zero-width interval visible as a short bar centred on its rank.
        var span = Math.max(high - low, 0.3);
        lows.push(low - (span - (high - low)) / 2);
        spans.push(span);
        medians.push([Number(s.median_rank), index]);
        nominal.push([u.rank, index]);
      });
      chart.setOption(Object.assign({}, base, {
        legend: { top: 8, data: [L.interval, L.median, L.rank] },
        tooltip: {
          trigger: "axis", axisPointer: { type: "shadow" },
          formatter: function (items) {
            var unit = units[items[0].dataIndex];
            var s = unit.sensitivity || {};
            return "<b>" + esc(unit.name) + "</b><br>" + L.rank + " " + unit.rank + "<br>" + L.interval +
              " " + s.q5_rank + "–" + s.q95_rank + "，" + L.median + " " + s.median_rank +
              (s.grade_at_risk ? "<br>" + L.grade_at_risk : "");
          }
        },
        grid: { left: 24, right: 48, top: 48, bottom: 32, containLabel: true },
        xAxis: {
          type: "value", min: 0, max: units.length + 1, minInterval: 1, name: L.rank,
          axisLabel: { formatter: function (v) { return v >= 1 && v <= units.length ? v : ""; } }
        },
        yAxis: { type: "category", inverse: true, data: names, axisLabel: { interval: many ? "auto" : 0 } },
        dataZoom: many ? [{ type: "slider", yAxisIndex: 0, start: 0, end: windowEnd() }] : [],
        series: [
          { type: "bar", stack: "interval", data: lows, itemStyle: { color: "transparent" },
            emphasis: { disabled: true }, tooltip: { show: false }, barWidth: 10 },
          { name: L.interval, type: "bar", stack: "interval", data: spans, barWidth: 10,
            itemStyle: { color: "#5470c6", opacity: 0.45, borderRadius: 4 } },
          // The nominal rank as an outline, so the median drawn over it stays visible.
          { name: L.rank, type: "scatter", data: nominal, symbol: "diamond", symbolSize: 14,
            itemStyle: { color: "transparent", borderColor: "#ee6666", borderWidth: 2 } },
          { name: L.median, type: "scatter", data: medians, symbolSize: 7, itemStyle: { color: "#3b4f9e" } }
        ]
      }));
    }

    totalsChart();
    radarChart();
    trendChart();
    uncertaintyChart();

    window.addEventListener("resize", function () {
      charts.forEach(function (chart) { chart.resize(); });
    });
  }
})();
