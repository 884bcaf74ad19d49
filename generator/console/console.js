// launchbook run console (served only by `launchbook serve`; never part of the static site).
(function () {
  "use strict";
  var BASE = "/__launchbook/console";

  function onStaticPage() {
    var checklist = document.querySelector("article[data-checklist]");
    var heading = document.querySelector("main h1");
    if (checklist && heading) {
      var start = document.createElement("button");
      start.type = "button";
      start.className = "tag-button";
      start.textContent = "Start a run";
      start.addEventListener("click", function () {
        location.href = BASE + "/start/" + encodeURIComponent(checklist.getAttribute("data-checklist")).replace(/%2F/g, "/");
      });
      heading.insertAdjacentElement("afterend", start);
    }
    var run = document.querySelector("article[data-run]");
    if (run && heading) {
      var link = document.createElement("a");
      link.href = BASE + "/run/" + encodeURIComponent(run.getAttribute("data-run"));
      link.textContent = "Open in the run console";
      var p = document.createElement("p");
      p.appendChild(link);
      heading.insertAdjacentElement("afterend", p);
    }
  }

  function token() {
    var meta = document.querySelector('meta[name="launchbook-console-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function submitForm(form, submitter) {
    var data = new FormData(form);
    if (submitter && submitter.name) { data.set(submitter.name, submitter.value); }
    var error = form.querySelector("[data-error]");
    if (error) { error.textContent = ""; }
    var buttons = form.querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    return fetch(form.action, {method: "POST", body: data, credentials: "same-origin",
                               headers: {"Accept": "application/json", "X-CSRF-Token": token()}})
      .then(function (response) { return response.json().catch(function () { return {ok: false, error: "HTTP " + response.status}; }); })
      .then(function (answer) {
        buttons.forEach(function (b) { b.disabled = false; });
        if (!answer.ok) {
          if (error) { error.textContent = answer.error; }
          var note = form.querySelector("textarea[name=note]");
          if (note && /note/.test(answer.error)) { note.setAttribute("aria-invalid", "true"); note.focus(); }
          return;
        }
        if (form.hasAttribute("data-mark")) {
          form.reset();
          var n = form.querySelector("textarea[name=note]");
          if (n) { n.removeAttribute("aria-invalid"); }
          refresh();
          return;
        }
        if (answer.location) {
          var target = new URL(answer.location, location.href);
          if (target.pathname === location.pathname) { location.hash = target.hash; location.reload(); }
          else { location.href = target.href; }
        }
      }, function (problem) {
        buttons.forEach(function (b) { b.disabled = false; });
        if (error) { error.textContent = "Not sent: " + problem; }
      });
  }

  var runId = null, lastVersion = null, closed = null;

  function apply(state) {
    if (closed !== null && state.closed !== closed) { location.reload(); return; }
    closed = state.closed;
    lastVersion = state.version;
    var summary = document.getElementById("summary");
    if (summary) { summary.innerHTML = state.summary; }
    Object.keys(state.items).forEach(function (id) {
      var box = document.getElementById("state-" + id);
      if (box && box.innerHTML !== state.items[id]) { box.innerHTML = state.items[id]; }
      var item = document.getElementById("item-" + id);
      var status = box && box.querySelector(".status");
      if (item && status) { item.setAttribute("data-status", status.className.replace(/.*status-/, "")); }
    });
    filter(currentFilter);
  }

  function refresh() {
    return fetch(BASE + "/run/" + encodeURIComponent(runId) + "/state", {credentials: "same-origin"})
      .then(function (r) { return r.json(); }).then(function (state) { if (state.items) { apply(state); } });
  }

  var currentFilter = "all";
  function filter(kind) {
    currentFilter = kind;
    document.querySelectorAll(".citem").forEach(function (item) {
      var status = item.getAttribute("data-status");
      var show = kind === "all" || (kind === "open" && status === "open") ||
        (kind === "required" && item.getAttribute("data-required") === "yes") ||
        (kind === "problems" && (status === "failed" || status === "blocked"));
      item.hidden = !show;
    });
    document.querySelectorAll("[data-filter]").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-filter") === kind));
    });
  }

  var KEYS = {d: "done", f: "failed", s: "skipped", n: "na", b: "blocked", o: "open"};
  function visibleItems() {
    return Array.prototype.filter.call(document.querySelectorAll(".citem"), function (i) { return !i.hidden; });
  }
  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var target = event.target;
    if (target.closest && target.closest("textarea, input, select")) { return; }
    var item = target.closest ? target.closest(".citem") : null;
    var items = visibleItems();
    var at = item ? items.indexOf(item) : -1;
    if (event.key === "j" || event.key === "ArrowDown") {
      var next = items[Math.min(at + 1, items.length - 1)];
      if (next) { next.focus(); event.preventDefault(); }
    } else if (event.key === "k" || event.key === "ArrowUp") {
      var previous = items[Math.max(at - 1, 0)];
      if (previous) { previous.focus(); event.preventDefault(); }
    } else if (item && event.key === "e") {
      var note = item.querySelector("textarea[name=note]");
      if (note) { note.focus(); event.preventDefault(); }
    } else if (item && KEYS[event.key]) {
      var form = item.querySelector("form[data-mark]");
      var button = form && form.querySelector('button[name=status][value="' + KEYS[event.key] + '"]');
      if (button) { event.preventDefault(); submitForm(form, button); }
    }
  }

  function onConsolePage(article) {
    runId = article.getAttribute("data-console-run");
    document.querySelectorAll("[data-filter]").forEach(function (b) {
      b.addEventListener("click", function () { filter(b.getAttribute("data-filter")); });
    });
    document.addEventListener("keydown", onKey);
    var source = new EventSource(BASE + "/run/" + encodeURIComponent(runId) + "/events");
    source.onopen = function () { document.documentElement.setAttribute("data-console-live", ""); };
    source.onmessage = function (event) { apply(JSON.parse(event.data)); };
    source.addEventListener("problem", function (event) {
      var box = document.getElementById("console-problem");
      if (box) { box.textContent = JSON.parse(event.data); }
    });
  }

  var started = false;
  function init() {
    if (started) { return; }
    started = true;
    if (!document.body.classList.contains("console")) { onStaticPage(); return; }
    document.querySelectorAll("form[data-console-form]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        submitForm(form, event.submitter);
      });
    });
    var article = document.querySelector("article[data-console-run]");
    if (article) { onConsolePage(article); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
