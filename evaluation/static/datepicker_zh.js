// The admin forms' date picker in Chinese (docs/rules.md#dates).
//
// Flask-Admin draws its date inputs with bootstrap-daterangepicker 1.3, whose labels,
// month and weekday names are English. This wraps the plugin so every picker it makes
// gets the Chinese ones, weeks starting on Monday. It must run after daterangepicker.js
// and before Flask-Admin's form.js sets the pickers up (on document ready): the page
// frame loads it after every page's own scripts. English pages keep the English picker.
(function ($) {
  "use strict";
  if (!$ || !$.fn || !$.fn.daterangepicker || document.documentElement.lang === "en") {
    return;
  }
  var chinese = {
    applyLabel: "确定",
    cancelLabel: "取消",
    fromLabel: "从",
    toLabel: "至",
    weekLabel: "周",
    customRangeLabel: "自定义",
    daysOfWeek: ["日", "一", "二", "三", "四", "五", "六"],
    monthNames: ["1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月"],
    firstDay: 1
  };
  var original = $.fn.daterangepicker;
  $.fn.daterangepicker = function (options, callback) {
    var settings = $.extend({}, options || {});
    settings.locale = $.extend({}, chinese, settings.locale || {});
    return original.call(this, settings, callback);
  };
})(window.jQuery);
