// Confirmation dialogs (admin/workflow_macros.html, docs/rules.md#period-workflow): when one
// opens, the keyboard lands on its first field (the reason to type), else on its confirming
// button, so Enter or Escape act on the dialog at once.
(function ($) {
  "use strict";
  if (!$) {
    return;
  }
  $(document).on("shown.bs.modal", ".modal", function () {
    var target = $(this).find("textarea, input:not([type=hidden]), select").first();
    if (!target.length) {
      target = $(this).find("button[type=submit]").first();
    }
    target.trigger("focus");
  });
})(window.jQuery);
