// What Flask-Admin and a few pages did with inline handlers (onclick="…"), which the
// Content-Security-Policy no longer runs (docs/rules.md#security):
//   data-confirm="question"  a submit button asks before it submits (a row's delete);
//   data-model-action="name" a list's 「With selected」 menu runs that action;
//   data-print               prints the page;
// and Flask-Admin's href="javascript:void(0)" placeholders are not followed.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) { return; }
    var confirmer = target.closest("[data-confirm]");
    if (confirmer && !window.confirm(confirmer.getAttribute("data-confirm"))) {
      event.preventDefault();
      return;
    }
    var action = target.closest("[data-model-action]");
    if (action) {
      event.preventDefault();
      if (window.modelActions) {
        window.modelActions.execute(action.getAttribute("data-model-action"));
      }
      return;
    }
    var link = target.closest("a[href^='javascript:'], .field-filters a.filter");
    if (link) {
      event.preventDefault();  // Flask-Admin's placeholder links: never run as a script URL
    }
    if (target.closest("[data-print]")) {
      event.preventDefault();
      window.print();
    }
  }, true);  // capture: before any handler that stops the click from bubbling
})();
