/* launchbook site script: theme toggle, navigation, copy links, offline search.
   Works from file:// — the search index is a <script>, never fetch()ed. All text from the
   index is inserted with textContent, never as HTML. */
(function () {
  "use strict";
  var doc = document.documentElement;
  var root = doc.getAttribute("data-root") || "";

  /* Dark mode: follows the system until toggled; the choice is remembered. */
  var themeButton = document.querySelector(".theme-toggle");
  function currentTheme() {
    var forced = doc.getAttribute("data-theme");
    if (forced) return forced;
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }
  if (themeButton) {
    themeButton.setAttribute("aria-pressed", String(currentTheme() === "dark"));
    themeButton.addEventListener("click", function () {
      var next = currentTheme() === "dark" ? "light" : "dark";
      doc.setAttribute("data-theme", next);
      themeButton.setAttribute("aria-pressed", String(next === "dark"));
      try { localStorage.setItem("launchbook-theme", next); } catch (e) { /* storage may be off */ }
    });
  }

  /* Navigation drawer on small screens. */
  var navButton = document.querySelector(".nav-toggle");
  if (navButton) {
    navButton.addEventListener("click", function () {
      var open = document.body.classList.toggle("nav-open");
      navButton.setAttribute("aria-expanded", String(open));
      navButton.setAttribute("aria-label", open ? "Hide navigation" : "Show navigation");
    });
  }

  /* Toast for short confirmations. */
  var toast = document.querySelector(".toast");
  var toastTimer = null;
  function say(message) {
    if (!toast) return;
    toast.textContent = message;
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { toast.hidden = true; }, 1800);
  }

  /* "Copy link" on every checklist item. */
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(area);
      if (ok) { resolve(); } else { reject(new Error("copy failed")); }
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("li.lb-item[id]"), function (item) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy-link";
    button.textContent = "Copy link";
    button.setAttribute("aria-label", "Copy link to this item");
    var paragraph = item.querySelector(":scope > p");
    if (paragraph) {
      paragraph.appendChild(button);
    } else {
      item.insertBefore(button, item.querySelector(":scope > ul, :scope > ol, :scope > pre, :scope > div"));
    }
    button.addEventListener("click", function () {
      var url = location.href.split("#")[0] + "#" + item.id;
      copyText(url).then(function () { say("Link copied"); }, function () {
        history.replaceState(null, "", "#" + item.id);
        say("Link is in the address bar");
      });
    });
  });

  /* Tag filter on the home page. */
  var tagButtons = document.querySelectorAll(".tag-button");
  Array.prototype.forEach.call(tagButtons, function (button) {
    button.addEventListener("click", function () {
      var tag = button.getAttribute("data-tag");
      Array.prototype.forEach.call(tagButtons, function (b) { b.setAttribute("aria-pressed", String(b === button)); });
      Array.prototype.forEach.call(document.querySelectorAll(".card[data-tags]"), function (card) {
        var tags = card.getAttribute("data-tags").split("|");
        card.hidden = Boolean(tag) && tags.indexOf(tag) < 0;
      });
    });
  });

  /* Search. */
  var input = document.getElementById("search-input");
  var panel = document.getElementById("search-panel");
  var list = document.getElementById("search-results");
  var status = document.getElementById("search-status");
  if (!input || !panel || !list) return;
  var entries = null;
  var loading = false;
  var selected = -1;
  var LIMIT = 30;
  var KIND = { checklist: "Checklist", section: "Section", item: "Item", page: "Page" };

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  function prepare(raw) {
    return raw.map(function (e) {
      return { e: e, t: fold(e.t), o: fold(e.p + " " + e.x) };
    });
  }
  function load(then) {
    if (entries) { then(); return; }
    if (window.LAUNCHBOOK_SEARCH) { entries = prepare(window.LAUNCHBOOK_SEARCH); then(); return; }
    if (loading) return;
    loading = true;
    status.textContent = "Loading search index…";
    var script = document.createElement("script");
    script.src = root + "assets/search-index.js";
    script.onload = function () { entries = prepare(window.LAUNCHBOOK_SEARCH || []); then(); };
    script.onerror = function () { status.textContent = "The search index could not be loaded."; };
    document.head.appendChild(script);
  }
  function wordStart(text, term) {
    var at = text.indexOf(term);
    while (at >= 0) {
      if (at === 0 || /[^a-z0-9]/.test(text.charAt(at - 1))) return true;
      at = text.indexOf(term, at + 1);
    }
    return false;
  }
  function search(query) {
    var terms = fold(query).split(/\s+/).filter(Boolean);
    if (!terms.length) return [];
    var hits = [];
    for (var i = 0; i < entries.length; i++) {
      var entry = entries[i];
      var score = 0;
      for (var j = 0; j < terms.length; j++) {
        var term = terms[j];
        if (entry.t.indexOf(term) >= 0) {
          score += wordStart(entry.t, term) ? 10 : 6;
        } else if (entry.o.indexOf(term) >= 0) {
          score += 2;
        } else { score = 0; break; }
      }
      if (!score) continue;
      if (entry.e.k === "checklist" || entry.e.k === "page") score += 3;
      if (entry.t === terms.join(" ")) score += 5;
      hits.push({ s: score, entry: entry });
    }
    hits.sort(function (a, b) { return b.s - a.s || a.entry.t.length - b.entry.t.length || (a.entry.e.u < b.entry.e.u ? -1 : 1); });
    return hits;
  }
  function highlighted(text, terms) {
    var fragment = document.createDocumentFragment();
    var folded = fold(text);
    var marks = [];
    terms.forEach(function (term) {
      var at = folded.indexOf(term);
      if (at >= 0 && folded.length === text.length) marks.push([at, at + term.length]);
    });
    marks.sort(function (a, b) { return a[0] - b[0]; });
    var pos = 0;
    marks.forEach(function (m) {
      if (m[0] < pos) return;
      fragment.appendChild(document.createTextNode(text.slice(pos, m[0])));
      var mark = document.createElement("mark");
      mark.textContent = text.slice(m[0], m[1]);
      fragment.appendChild(mark);
      pos = m[1];
    });
    fragment.appendChild(document.createTextNode(text.slice(pos)));
    return fragment;
  }
  function select(index) {
    var options = list.querySelectorAll("[role=option]");
    if (!options.length) { selected = -1; return; }
    selected = (index + options.length) % options.length;
    Array.prototype.forEach.call(options, function (o, i) { o.setAttribute("aria-selected", String(i === selected)); });
    input.setAttribute("aria-activedescendant", options[selected].id);
    options[selected].scrollIntoView({ block: "nearest" });
  }
  function show() {
    var query = input.value.trim();
    list.textContent = "";
    selected = -1;
    input.removeAttribute("aria-activedescendant");
    if (!query) { panel.hidden = true; input.setAttribute("aria-expanded", "false"); return; }
    panel.hidden = false;
    input.setAttribute("aria-expanded", "true");
    if (!entries) { load(show); return; }
    var terms = fold(query).split(/\s+/).filter(Boolean);
    var hits = search(query);
    status.textContent = hits.length ? hits.length + (hits.length === 1 ? " result" : " results") +
      (hits.length > LIMIT ? ", showing the best " + LIMIT : "") : "No results for “" + query + "”";
    hits.slice(0, LIMIT).forEach(function (hit, i) {
      var e = hit.entry.e;
      var li = document.createElement("li");
      li.id = "search-result-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      var a = document.createElement("a");
      a.href = root + e.u;
      a.tabIndex = -1;
      var kind = document.createElement("span");
      kind.className = "result-kind";
      kind.textContent = KIND[e.k] || e.k;
      a.appendChild(kind);
      a.appendChild(document.createTextNode(" "));
      a.appendChild(highlighted(e.t, terms));
      if (e.p) {
        var path = document.createElement("span");
        path.className = "result-path";
        path.textContent = e.p;
        a.appendChild(path);
      }
      a.addEventListener("click", function () { panel.hidden = true; });
      li.appendChild(a);
      list.appendChild(li);
    });
  }
  var timer = null;
  input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(show, 60); });
  input.addEventListener("focus", function () { load(function () { if (input.value.trim()) show(); }); });
  input.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown") { event.preventDefault(); select(selected + 1); }
    else if (event.key === "ArrowUp") { event.preventDefault(); select(selected - 1); }
    else if (event.key === "Enter") {
      var options = list.querySelectorAll("[role=option] a");
      var target = options[selected >= 0 ? selected : 0];
      if (target) { event.preventDefault(); panel.hidden = true; location.href = target.href; }
    } else if (event.key === "Escape") { input.value = ""; show(); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "/" && document.activeElement !== input && !/^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName)) {
      event.preventDefault();
      input.focus();
    }
  });
  document.addEventListener("click", function (event) {
    if (!event.target.closest || !event.target.closest(".search")) { panel.hidden = true; input.setAttribute("aria-expanded", "false"); }
  });
})();
