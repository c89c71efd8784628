// The portal works without JavaScript; this file only adds comfort where it runs.
// 1. Mark the page as scripted, so that controls that need JavaScript (category search, location) show.
document.documentElement.classList.add("js");

document.addEventListener("DOMContentLoaded", function () {
  // 2. "Use my location": fill latitude and longitude from the device (no map, no network request of ours).
  var button = document.getElementById("use-location");
  var status = document.getElementById("location-status");
  if (button && status) {
    if (!("geolocation" in navigator)) {
      button.hidden = true;
    }
    button.addEventListener("click", function () {
      status.textContent = button.dataset.busy;
      navigator.geolocation.getCurrentPosition(function (position) {
        document.getElementById("id_lat").value = position.coords.latitude.toFixed(6);
        document.getElementById("id_lon").value = position.coords.longitude.toFixed(6);
        status.textContent = button.dataset.done;
      }, function () {
        status.textContent = button.dataset.failed;
      }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
    });
  }

  // 3. A form marked data-once is sent once: its submit button is disabled after the first click.
  //    (The server is idempotent on the form's token anyway; this only spares a second round trip.)
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll('button[type="submit"]').forEach(function (b) {
        window.setTimeout(function () { b.disabled = true; }, 0);
      });
    });
  });

  // 4. After a refused submission, move focus to the summary of what to correct.
  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
  }
});
