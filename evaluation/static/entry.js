/* 评分录入: small comforts only; the page works without them.
 * - selectors marked data-autosubmit submit their form on change;
 * - a changed grid cell is highlighted and leaving with unsaved changes asks first;
 * - a save that clears saved values asks to confirm them and for the reason (清除理由),
 *   which the server requires and records; without script the reason field is typed. */
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
  function clearedCells() {
    var cleared = [];
    grid.querySelectorAll('input[name$="-value"], select[name$="-value"]').forEach(function (input) {
      if (!input.disabled && input.value.trim() === "" && original(input) !== "") {
        cleared.push(input.getAttribute("aria-label") || input.name);
      }
    });
    return cleared;
  }
  grid.addEventListener("submit", function (event) {
    var cleared = clearedCells();
    var reason = document.getElementById("entry-clear-reason");
    if (cleared.length && reason) {
      var shown = cleared.slice(0, 10).join("\n") + (cleared.length > 10 ? "\n……" : "");
      var answer = window.prompt(
        "将清除 " + cleared.length + " 项已保存的数值（清除后按未录入计 0 分）：\n" + shown +
        "\n\n确认清除请填写理由（必填，记入变更历史）：", reason.value.trim());
      if (answer === null) { event.preventDefault(); return; }
      if (!answer.trim()) {
        event.preventDefault();
        window.alert("未填写清除理由，没有保存。");
        return;
      }
      reason.value = answer.trim();
    }
    dirty = false;
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });
})();
