// Live updates (server-sent events), print buttons and confirmations. Served from this server only;
// the page's CSP forbids inline scripts, so all behaviour is attached here.
(function () {
  "use strict";
  function refresh(topic) {
    document.querySelectorAll('[data-live="' + topic + '"]').forEach(function (el) {
      fetch(el.getAttribute("data-src"), { credentials: "same-origin", cache: "no-store" })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          el.innerHTML = html;
          el.setAttribute("data-refreshed", String(Date.now()));
        })
        .catch(function () { /* the next event retries */ });
    });
  }
  function connect() {
    if (!document.querySelector("[data-live]") || !window.EventSource) { return; }
    var source = new EventSource("/events");
    ["fleet", "orders", "calls"].forEach(function (topic) {
      source.addEventListener(topic, function () { refresh(topic); });
    });
    source.onopen = function () { document.body.setAttribute("data-live-connected", "yes"); };
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-print]");
    if (button) { window.print(); }
  });
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });
  document.addEventListener("DOMContentLoaded", connect);
})();
