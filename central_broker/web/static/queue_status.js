// Resident status page (/q/<token>): the panel is replaced by the server's own rendering, pushed over SSE.
(function () {
  "use strict";
  function connect() {
    if (!window.EventSource || !document.getElementById("status-panel")) { return; }
    var note = document.getElementById("reconnecting");
    var source = new EventSource(window.location.pathname + "/events" + window.location.search);
    source.onopen = function () {
      document.body.setAttribute("data-live-connected", "yes");
      if (note) { note.hidden = true; }
    };
    source.onerror = function () { if (note) { note.hidden = false; } };
    source.addEventListener("status", function (event) {
      var data = JSON.parse(event.data);
      var panel = document.getElementById("status-panel");
      var holder = document.createElement("div");
      holder.innerHTML = data.html;  // rendered and escaped by this server's templates
      if (panel && holder.firstElementChild) { panel.replaceWith(holder.firstElementChild); }
      document.body.setAttribute("data-updated", String(Date.now()));
      if (data.state === "ended") { source.close(); }
    });
  }
  document.addEventListener("DOMContentLoaded", connect);
})();
