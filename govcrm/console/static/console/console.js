// The console works without JavaScript; this file only adds comfort where it runs.
// 1. Mark the page as scripted, so that controls that need JavaScript (the category search) show.
document.documentElement.classList.add("js");

// 2. After HTMX swaps the case panel, move focus to what changed (the error, the "done" message,
//    or the case heading), so that keyboard and screen-reader users are not left on a removed button.
document.addEventListener("htmx:afterSettle", function (event) {
  var panel = document.getElementById("case-panel");
  if (!panel || !event.detail.requestConfig || event.detail.requestConfig.verb !== "post") {
    return;
  }
  var target = panel.querySelector('[role="alert"], [role="status"]') || panel.querySelector("h1");
  if (target) {
    target.setAttribute("tabindex", "-1");
    target.focus();
  }
});

// 3. Intake: a click on a suggested category chooses it in the category <select> (adding the
//    option when the category search had narrowed the list).
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("#intake-suggestions [data-category]");
  if (!button) {
    return;
  }
  var select = document.getElementById("id_category");
  if (!select) {
    return;
  }
  var code = button.getAttribute("data-category");
  if (!select.querySelector('option[value="' + CSS.escape(code) + '"]')) {
    select.add(new Option(button.getAttribute("data-category-name") + " (" + code + ")", code));
  }
  select.value = code;
  select.dispatchEvent(new Event("change", { bubbles: true }));
  select.focus();
});
