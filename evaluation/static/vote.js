/*
 * The ballot (docs/surveys.md#voting): the 优秀 cap as the voter clicks, and a confirmation
 * before the ballot is cast. The server checks the same again; without this script the
 * server asks for the confirmation on a page of its own.
 */
(function () {
  "use strict";

  var form = document.getElementById("ballot-form");
  if (!form) {
    return;
  }
  var cap = form.getAttribute("data-cap");
  cap = cap === "" ? null : parseInt(cap, 10);
  var excellentLabel = form.getAttribute("data-excellent-label") || "优秀";
  var counter = document.getElementById("excellent-count");
  var dialog = document.getElementById("confirm-dialog");
  var targets = Array.prototype.slice.call(form.querySelectorAll("fieldset.target"));

  function chosen(target) {
    return target.querySelector("input[type=radio]:checked");
  }

  function excellentCount() {
    return form.querySelectorAll("input[type=radio][value=excellent]:checked").length;
  }

  // At the cap, the other targets' 优秀 can no longer be chosen (until one is taken back).
  function applyCap() {
    var count = excellentCount();
    var full = cap !== null && count >= cap;
    form.querySelectorAll("input[type=radio][value=excellent]").forEach(function (input) {
      input.disabled = full && !input.checked;
    });
    var done = targets.filter(chosen).length;
    var text = "已评 " + done + "/" + targets.length;
    if (cap !== null) {
      text += "，" + excellentLabel + " " + count + "/" + cap;
      if (full) {
        text += "（已满）";
      }
    }
    counter.textContent = text;
    counter.classList.toggle("full", full);
  }

  form.addEventListener("change", function (event) {
    var target = event.target.closest("fieldset.target");
    if (target) {
      target.classList.remove("missing");
    }
    applyCap();
  });

  form.addEventListener("submit", function (event) {
    if (document.getElementById("confirmed").value === "1") {
      return; // confirmed in the dialog: let it go
    }
    event.preventDefault();
    var missing = targets.filter(function (t) { return !chosen(t); });
    missing.forEach(function (t) { t.classList.add("missing"); });
    if (missing.length) {
      missing[0].scrollIntoView({ block: "center" });
      counter.textContent = "还有 " + missing.length + " 个对象未评价";
      return;
    }
    if (cap !== null && excellentCount() > cap) {
      counter.textContent = excellentLabel + "最多评 " + cap + " 个";
      return;
    }
    var totals = {};
    var order = [];
    targets.forEach(function (t) {
      var label = chosen(t).parentNode.querySelector("span").textContent;
      if (!(label in totals)) {
        totals[label] = 0;
        order.push(label);
      }
      totals[label] += 1;
    });
    var summary = document.getElementById("confirm-summary");
    summary.textContent = "";
    targets.forEach(function (t) {
      var item = document.createElement("li");
      item.textContent = t.getAttribute("data-name") + "：" +
        chosen(t).parentNode.querySelector("span").textContent;
      summary.appendChild(item);
    });
    var total = document.createElement("li");
    total.className = "font-weight-bold";
    total.textContent = "合计：" + order.map(function (l) { return l + " " + totals[l]; }).join("，");
    summary.appendChild(total);
    dialog.showModal();
  });

  document.getElementById("confirm-back").addEventListener("click", function () {
    dialog.close();
  });
  document.getElementById("confirm-cast").addEventListener("click", function () {
    document.getElementById("confirmed").value = "1";
    document.getElementById("confirm-cast").disabled = true;
    dialog.close();
    form.requestSubmit();
  });

  applyCap();
})();
