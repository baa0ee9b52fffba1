// 适老化 larger text (docs/accessibility.md#larger-text): the 大字号 button toggles the
// text-large class on <html> and remembers the choice in localStorage. The head snippet
// (_text_size_head.html) applies a remembered choice before the page is drawn.
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
})();
