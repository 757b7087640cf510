/* CX Inbox console: the analytics page's chart (conversations and messages over time), drawn with
   the vendored uPlot from the figures the page carries in data-chart. The same figures are in the
   page's table, for screen readers and without script. Sets data-chart-ready once drawn. */
(function () {
  "use strict";

  var COLOURS = ["#2563eb", "#16a34a", "#9333ea", "#ea580c"];
  var SERIES = ["newConversations", "closedConversations", "inbound", "outbound"];

  function width(box) {
    return Math.max(260, Math.floor(box.getBoundingClientRect().width));
  }

  function draw(box) {
    var figures = JSON.parse(box.getAttribute("data-chart"));
    var series = [{}];
    var columns = [figures.x];
    SERIES.forEach(function (key, i) {
      series.push({ label: figures.labels[key], stroke: COLOURS[i], width: 2, dash: i > 1 ? [5, 4] : undefined });
      columns.push(figures[key]);
    });
    var options = {
      width: width(box),
      height: 260,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), figures.timezone); },
      scales: { x: { time: true } },
      series: series,
    };
    var plot = new uPlot(options, columns, box);
    window.addEventListener("resize", function () { plot.setSize({ width: width(box), height: 260 }); });
    box.setAttribute("data-chart-ready", "true");
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), draw);
})();
