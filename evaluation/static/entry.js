/* 评分录入: small comforts only; the page works without them.
 * - selectors marked data-autosubmit submit their form on change;
 * - a changed grid cell is highlighted and leaving with unsaved changes asks first. */
(function () {
  "use strict";
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () {
      if (select.id === "entry-period" || select.id === "entry-level") {
        // A new period or level makes the chosen unit/indicator meaningless.
        select.form.submit();
      } else if (select.value) {
        select.form.submit();
      }
    });
  });

  var grid = document.getElementById("entry-grid-form");
  if (!grid) { return; }
  var dirty = false;
  function original(input) {
    var name = input.name.replace(/-(value|note)$/, "");
    var kind = input.name.endsWith("-note") ? "orig_note" : "orig_value";
    var hidden = grid.querySelector('input[name="' + name + "-" + kind + '"]');
    return hidden ? hidden.value : "";
  }
  function same(a, b) {
    if (a === b) { return true; }
    if (a === "" || b === "") { return false; }
    return !isNaN(Number(a)) && !isNaN(Number(b)) && Number(a) === Number(b);
  }
  grid.addEventListener("input", onEdit);
  grid.addEventListener("change", onEdit);
  function onEdit(event) {
    var input = event.target;
    if (!input.name || !/-(value|note)$/.test(input.name)) { return; }
    var changed = !same(input.value.trim(), original(input));
    input.classList.toggle("border-primary", changed);
    input.classList.toggle("bg-light", changed);
    dirty = dirty || changed;
  }
  grid.addEventListener("submit", function () { dirty = false; });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });
})();
