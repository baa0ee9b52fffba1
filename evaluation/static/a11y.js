// Accessibility helpers of every page (docs/accessibility.md).
//
// 1. 适老化 larger text (docs/accessibility.md#larger-text): the 大字号 button toggles the
//    text-large class on <html> and remembers the choice in localStorage. The head snippet
//    (_text_size_head.html) applies a remembered choice before the page is drawn.
// 2. Names for the controls Flask-Admin's scripts draw without one: the column-help icons
//    of a list and the select2 boxes of a form.
(function () {
  "use strict";
  var KEY = "ledger-text-size";
  var root = document.documentElement;

  function show(large) {
    root.classList.toggle("text-large", large);
    document.querySelectorAll(".text-size-toggle").forEach(function (button) {
      button.setAttribute("aria-pressed", large ? "true" : "false");
    });
  }

  function remember(large) {
    try {
      if (large) {
        window.localStorage.setItem(KEY, "large");
      } else {
        window.localStorage.removeItem(KEY);
      }
    } catch (e) { /* storage blocked: the choice lasts for this page only */ }
  }

  show(root.classList.contains("text-large"));
  document.querySelectorAll(".text-size-toggle").forEach(function (button) {
    button.addEventListener("click", function () {
      var large = !root.classList.contains("text-large");
      show(large);
      remember(large);
    });
  });

  function nameUnnamedControls() {
    document.querySelectorAll("a[data-role=tooltip]").forEach(function (a) {
      // Bootstrap's tooltip moves the title into data-original-title.
      var text = a.getAttribute("title") || a.getAttribute("data-original-title");
      if (text && !a.getAttribute("aria-label")) {
        a.setAttribute("aria-label", text);
      }
    });
    document.querySelectorAll(".select2-container[id^='s2id_'] > a.select2-choice").forEach(function (a) {
      var label = document.querySelector("label[for='" + a.parentNode.id.slice(5) + "']");
      if (label && !a.getAttribute("aria-label")) {
        a.setAttribute("aria-label", label.textContent.trim());
      }
    });
  }
  // Flask-Admin draws its select2 boxes and tooltips in jQuery's ready handlers, which
  // jQuery 3 runs from a timer: name the controls after those have run.
  window.addEventListener("load", function () {
    window.setTimeout(nameUnnamedControls, 0);
  });
})();
