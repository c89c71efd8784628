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
