/* The process diagram of an application in the console (bpmn-js viewer, vendored next to this
 * file). The server renders the BPMN XML and the step ids into a JSON block
 * <script type="application/json" id="process-diagram-data"> (Django's json_script): no inline
 * script, so the strict CSP holds. Steps waiting now get the marker "step-current", steps done
 * get "step-done"; the result is announced in #process-diagram-status for screen readers. */
(function () {
  "use strict";

  function draw() {
    var holder = document.getElementById("process-diagram");
    var source = document.getElementById("process-diagram-data");
    if (!holder || !source || typeof BpmnJS === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var viewer = new BpmnJS({ container: holder });
    var status = document.getElementById("process-diagram-status");
    viewer.importXML(data.xml).then(function () {
      var canvas = viewer.get("canvas");
      var registry = viewer.get("elementRegistry");
      canvas.zoom("fit-viewport");
      (data.done || []).forEach(function (id) {
        if (registry.get(id)) { canvas.addMarker(id, "step-done"); }
      });
      (data.current || []).forEach(function (id) {
        if (registry.get(id)) { canvas.addMarker(id, "step-current"); }
      });
      holder.setAttribute("data-rendered", "true");
      if (status) { status.textContent = status.getAttribute("data-done"); }
    }).catch(function (err) {
      holder.setAttribute("data-rendered", "error");
      if (status) { status.textContent = status.getAttribute("data-failed") + " " + err.message; }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
}());
