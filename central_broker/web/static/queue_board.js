// Display board (/board/<branch>): SSE pushes the whole board and the calls to announce; a two-tone chime
// (WebAudio) then the call spoken in Japanese and English (speechSynthesis) where the browser has them.
// Browsers allow sound only after a touch, unless the board runs with --autoplay-policy=no-user-gesture-required.
(function () {
  "use strict";
  var audio = null;
  var spoken = [];
  window.__boardAnnounced = spoken;  // what was announced, for tests and for checking a board by hand

  function ensureAudio() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) { return null; }
    if (!audio) { audio = new Ctx(); }
    if (audio.state === "suspended") { audio.resume(); }
    return audio;
  }
  function soundReady() {
    var hint = document.getElementById("sound-hint");
    if (hint && audio && audio.state === "running") { hint.hidden = true; }
  }
  function chime() {
    var ctx = ensureAudio();
    if (!ctx) { return 0; }
    [[880, 0], [660, 0.45]].forEach(function (tone) {
      var osc = ctx.createOscillator(), gain = ctx.createGain(), at = ctx.currentTime + tone[1];
      osc.type = "sine";
      osc.frequency.value = tone[0];
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.5, at + 0.03);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.8);
      osc.connect(gain).connect(ctx.destination);
      osc.start(at);
      osc.stop(at + 0.85);
    });
    return 1300;
  }
  function speak(call) {
    if (!window.speechSynthesis || !window.SpeechSynthesisUtterance) { return; }
    [["ja-JP", call.ja], ["en-US", call.en]].forEach(function (pair) {
      var utterance = new SpeechSynthesisUtterance(pair[1]);
      utterance.lang = pair[0];
      utterance.rate = 0.9;
      window.speechSynthesis.speak(utterance);
    });
  }
  function announce(call) {
    spoken.push(call.ja + " / " + call.en);
    document.body.setAttribute("data-announced", String(spoken.length));
    var wait = chime();
    window.setTimeout(function () { speak(call); }, wait);
    var now = document.getElementById("now");
    if (now) { now.classList.remove("flash"); void now.offsetWidth; now.classList.add("flash"); }
  }
  function text(el, value) { if (el) { el.textContent = value; } }
  function render(entries) {
    var first = entries[0];
    text(document.getElementById("now-number"), first ? first.number : "");
    var counter = document.getElementById("now-counter");
    if (counter) {
      counter.textContent = first ? first.counter_ja : "";
      if (first) {
        var en = document.createElement("span");
        en.className = "en";
        en.lang = "en";
        en.textContent = first.counter_en;
        counter.appendChild(en);
      }
    }
    var empty = document.getElementById("board-empty");
    if (empty) { empty.hidden = Boolean(first); }
    var list = document.getElementById("recent");
    if (list) {
      list.textContent = "";
      entries.slice(1).forEach(function (entry) {
        var li = document.createElement("li"), number = document.createElement("span"), where = document.createElement("span");
        li.setAttribute("data-number", entry.number);
        number.className = "number";
        number.textContent = entry.number;
        where.className = "counter";
        where.textContent = entry.counter_ja;
        li.appendChild(number);
        li.appendChild(where);
        list.appendChild(li);
      });
    }
  }
  function connect() {
    var body = document.body;
    if (!window.EventSource) { return; }
    var note = document.getElementById("board-reconnecting");
    var source = new EventSource(window.location.pathname + "/events" + window.location.search);
    source.onopen = function () { body.setAttribute("data-live-connected", "yes"); if (note) { note.hidden = true; } };
    source.onerror = function () { if (note) { note.hidden = false; } };
    source.addEventListener("board", function (event) {
      var data = JSON.parse(event.data);
      render(data.entries);
      data.calls.forEach(announce);
      body.setAttribute("data-updated", String(Date.now()));
    });
  }
  document.addEventListener("pointerdown", function () { ensureAudio(); window.setTimeout(soundReady, 100); });
  document.addEventListener("keydown", function () { ensureAudio(); window.setTimeout(soundReady, 100); });
  document.addEventListener("DOMContentLoaded", function () {
    ensureAudio();
    window.setTimeout(soundReady, 300);
    connect();
  });
})();
