// The admin forms' date picker in Chinese and named for screen readers (docs/rules.md#dates).
//
// Flask-Admin draws its date inputs with bootstrap-daterangepicker 1.3, whose labels,
// month and weekday names are English and whose month and year menus have no name. This
// wraps the plugin so every picker it makes gets the Chinese names, weeks starting on
// Monday (English pages keep English ones), and names its two menus. It must run after
// daterangepicker.js and before Flask-Admin's form.js sets the pickers up (on document
// ready): the page frame loads it after every page's own scripts.
(function ($) {
  "use strict";
  if (!$ || !$.fn || !$.fn.daterangepicker) {
    return;
  }
  var english = document.documentElement.lang === "en";
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
  var names = english ? {month: "Month", year: "Year"} : {month: "月份", year: "年份"};

  function nameMenus(picker) {
    var proto = Object.getPrototypeOf(picker);
    if (proto.ledgerNamed) {
      return;
    }
    var render = proto.renderDropdowns;
    proto.renderDropdowns = function () {
      return render.apply(this, arguments)
        .replace('<select class="monthselect">', '<select class="monthselect" aria-label="' + names.month + '">')
        .replace('<select class="yearselect">', '<select class="yearselect" aria-label="' + names.year + '">');
    };
    proto.ledgerNamed = true;
  }

  var original = $.fn.daterangepicker;
  $.fn.daterangepicker = function (options, callback) {
    var settings = $.extend({}, options || {});
    if (!english) {
      settings.locale = $.extend({}, chinese, settings.locale || {});
    }
    var result = original.call(this, settings, callback);
    this.each(function () {
      var picker = $(this).data("daterangepicker");
      if (picker) {
        nameMenus(picker);
        picker.updateCalendars();  // drawn once already, before the menus had names
      }
    });
    return result;
  };
})(window.jQuery);
