// Counter page: the panel reloads when the branch's queue moves (SSE /counter/events), and keyboard
// shortcuts press the buttons (the letter shown on each button; T and A first choose a counter).
(function () {
  "use strict";
  function refresh() {
    var el = document.getElementById("counter-live");
    if (!el) { return; }
    fetch(el.getAttribute("data-src"), { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        el.innerHTML = html;
        el.setAttribute("data-refreshed", String(Date.now()));
      })
      .catch(function () { /* the next event retries */ });
  }
  function connect() {
    if (!window.EventSource || !document.getElementById("counter-live")) { return; }
    var source = new EventSource("/counter/events");
    source.addEventListener("queue", refresh);
    source.onopen = function () { document.body.setAttribute("data-live-connected", "yes"); };
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) { return; }
    var target = event.target;
    if (event.key === "Enter" && target && target.matches && target.matches("#counter-live select")) {
      event.preventDefault();
      target.form.requestSubmit();
      return;
    }
    if (target && target.closest && target.closest("input, select, textarea")) { return; }
    var key = (event.key || "").toLowerCase();
    if (key.length !== 1) { return; }
    var button = document.querySelector('#counter-live button[data-key="' + key + '"]');
    if (!button || button.disabled) { return; }
    event.preventDefault();
    var focus = button.getAttribute("data-focus");
    if (focus) { document.getElementById(focus).focus(); return; }
    button.click();
  });
  document.addEventListener("DOMContentLoaded", connect);
})();
