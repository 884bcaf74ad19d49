/* launchbook site script: theme toggle, navigation, copy links, offline search.
   Works from file:// — the search index is loaded as <script>s, never fetch()ed. All text from the
   index is inserted with textContent, never as HTML. */
(function () {
  "use strict";
  var doc = document.documentElement;
  var root = doc.getAttribute("data-root") || "./";
  /* Links the page builds from index data: always relative to the site root ("./" or
     "../"), and never anything but http(s) or file (a name can never become javascript:). */
  function siteHref(url) {
    var href = root + url;
    try {
      var protocol = new URL(href, location.href).protocol;
      if (protocol !== "http:" && protocol !== "https:" && protocol !== "file:") return "#";
    } catch (e) { return "#"; }
    return href;
  }

  /* Fragments match heading anchors in any case, as on GitHub: #Deploy-Steps reaches
     id="deploy-steps" (anchors are lower case; the link checker accepts the same links). */
  function followFragment() {
    var wanted;
    try { wanted = decodeURIComponent(location.hash.slice(1)); } catch (e) { return; }
    if (!wanted || document.getElementById(wanted)) return;
    var target = document.getElementById(wanted.toLowerCase());
    if (target) target.scrollIntoView();
  }
  followFragment();
  window.addEventListener("hashchange", followFragment);

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
    /* Right after the item's first line of text, as the item's own child: the stylesheet lays it over
       the end of that line (it costs no line), shows it on hover and focus, and after a tap. */
    var first = item.querySelector(":scope > p");
    item.insertBefore(button, first ? first.nextSibling :
      item.querySelector(":scope > ul, :scope > ol, :scope > pre, :scope > div, :scope > blockquote, :scope > table"));
    button.addEventListener("click", function () {
      var url = location.href.split("#")[0] + "#" + item.id;
      copyText(url).then(function () { say("Link copied"); }, function () {
        history.replaceState(null, "", "#" + item.id);
        say("Link is in the address bar");
      });
    });
  });

  /* A tap (or click) on an item's text shows its Copy link button: touch screens have no hover. */
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!target.closest || target.closest("a, button, input, select, textarea, summary, label")) return;
    var item = target.closest("li.lb-item[id]");
    Array.prototype.forEach.call(document.querySelectorAll("li.show-copy"), function (other) {
      if (other !== item) other.classList.remove("show-copy");
    });
    if (item) item.classList.add("show-copy");
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

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  /* Run archive: filters and pages over window.LAUNCHBOOK_RUNS (a <script>, so file:// works). */
  function setupArchive() {
    var form = document.getElementById("run-filters");
    var table = document.getElementById("run-table");
    var rows = window.LAUNCHBOOK_RUNS;
    if (!form || !table || !rows) return;
    var body = table.tBodies[0];
    var count = document.getElementById("run-count");
    var pager = document.querySelector(".pager");
    var pageLabel = document.getElementById("run-page");
    var PAGE = 50;
    var page = 0;
    var OUTCOME = { "go": "GO", "no-go": "NO-GO", "incomplete": "INCOMPLETE" };
    function field(name) { return form.elements[name]; }
    try {
      var saved = new URLSearchParams(location.hash.slice(1));
      ["checklist", "release", "outcome", "from", "to"].forEach(function (name) {
        if (saved.get(name)) field(name).value = saved.get(name);
      });
      page = Math.max(0, parseInt(saved.get("page") || "1", 10) - 1) || 0;
    } catch (e) { /* old browser: start unfiltered */ }
    function matches(row) {
      var checklist = field("checklist").value, release = fold(field("release").value.trim());
      var outcome = field("outcome").value, from = field("from").value, to = field("to").value;
      var day = row.s.slice(0, 10);
      return (!checklist || row.c === checklist) && (!release || fold(row.r).indexOf(release) >= 0) &&
        (!outcome || row.o === outcome) && (!from || day >= from) && (!to || day <= to);
    }
    function cell(tr, label, text) {
      var td = document.createElement("td");
      td.setAttribute("data-label", label);
      td.textContent = text;
      tr.appendChild(td);
      return td;
    }
    /* A disabled pager button is out of the tab order and unclickable (disabled), says so to
       assistive technology (aria-disabled) and looks it (the stylesheet); a button that held the
       focus hands it to the other one instead of dropping it on the page. */
    function enable(button, on) {
      var hadFocus = document.activeElement === button;
      button.disabled = !on;
      button.setAttribute("aria-disabled", String(!on));
      if (hadFocus && !on) {
        var other = pager.querySelector(button.getAttribute("data-page") === "next" ? "[data-page=prev]" : "[data-page=next]");
        if (other && !other.disabled) other.focus();
      }
    }
    function render() {
      var hits = rows.filter(matches);
      var pages = Math.max(1, Math.ceil(hits.length / PAGE));
      page = Math.min(page, pages - 1);
      body.textContent = "";
      hits.slice(page * PAGE, page * PAGE + PAGE).forEach(function (row) {
        /* The same cells as run_row in _macros.html. */
        var tr = document.createElement("tr");
        var run = cell(tr, "Run", "");
        var link = document.createElement("a");
        link.className = "run-when";
        link.href = siteHref(row.u);
        link.textContent = row.s.replace("T", " ").replace("Z", "");
        run.appendChild(link);
        run.appendChild(document.createTextNode(" "));
        var id = document.createElement("span");
        id.className = "run-id";
        id.textContent = row.id;
        run.appendChild(id);
        cell(tr, "Checklist", row.t);
        var release = cell(tr, "Release", row.r);
        if (row.e) {
          var env = document.createElement("span");
          env.className = "run-env";
          env.textContent = row.e;
          release.appendChild(env);
        }
        var badge = document.createElement("span");
        badge.className = "outcome outcome-" + row.o;
        badge.textContent = OUTCOME[row.o] || row.o;
        cell(tr, "Outcome", "").appendChild(badge);
        cell(tr, "Done", row.p.toFixed(1) + "%");
        body.appendChild(tr);
      });
      count.textContent = hits.length + (hits.length === 1 ? " run matches" : " runs match") +
        (pages > 1 ? "; page " + (page + 1) + " of " + pages : "") + ".";
      pager.hidden = pages <= 1;
      pageLabel.textContent = "Page " + (page + 1) + " of " + pages;
      enable(pager.querySelector("[data-page=prev]"), page > 0);
      enable(pager.querySelector("[data-page=next]"), page < pages - 1);
      var state = new URLSearchParams();
      ["checklist", "release", "outcome", "from", "to"].forEach(function (name) {
        if (field(name).value) state.set(name, field(name).value);
      });
      if (page) state.set("page", String(page + 1));
      try { history.replaceState(null, "", state.toString() ? "#" + state.toString() : location.pathname + location.search); } catch (e) { /* ignore */ }
    }
    form.addEventListener("input", function () { page = 0; render(); });
    form.addEventListener("change", function () { page = 0; render(); });
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    form.addEventListener("reset", function () { page = 0; setTimeout(render, 0); });
    pager.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest("button[data-page]") : null;
      if (!button || button.disabled || button.getAttribute("aria-disabled") === "true") return;
      var direction = button.getAttribute("data-page");
      page += direction === "next" ? 1 : -1;
      render();
      table.scrollIntoView({ block: "start" });
    });
    render();
  }
  if (document.getElementById("run-archive")) {
    if (document.readyState === "complete") { setupArchive(); } else { window.addEventListener("load", setupArchive); }
  }

  /* Search: a sharded index of small <script> files under assets/search/, so it works from
     file:// too (see generator/site/search/). The meta file first, then the word shards the
     query's words need, then the fragments of the best candidate pages; each file hands its
     data to LAUNCHBOOK_SEARCH_PART. Query words match the start of indexed words. */
  var input = document.getElementById("search-input");
  var panel = document.getElementById("search-panel");
  var list = document.getElementById("search-results");
  var status = document.getElementById("search-status");
  if (!input || !panel || !list) return;
  var selected = -1;
  var LIMIT = 30;
  var CANDIDATES = 40;
  var MAX_WORD = 32;
  var FORMAT = 1;
  var KIND = { checklist: "Checklist", section: "Section", item: "Item", page: "Page", run: "Run" };
  var KINDS = { s: "section", i: "item" };
  var own = Object.prototype.hasOwnProperty;

  var parts = {};
  var waiting = {};
  window.LAUNCHBOOK_SEARCH_PART = function (name, data) {
    if (typeof name === "string") parts[name] = data;
  };
  var PART_NAME = /^(index|words\/(all|[0-9a-f]+)|doc\/[0-9a-f]{16})$/;
  /* Load one file of the index by its name; then(data), or then(null) when it cannot be. */
  function loadPart(name, then) {
    if (own.call(parts, name)) { then(parts[name]); return; }
    if (!PART_NAME.test(name)) { then(null); return; }
    if (waiting[name]) { waiting[name].push(then); return; }
    waiting[name] = [then];
    var script = document.createElement("script");
    script.src = root + "assets/search/" + name + ".js";
    script.onload = script.onerror = function () {
      var callbacks = waiting[name];
      delete waiting[name];
      script.parentNode.removeChild(script);
      var data = own.call(parts, name) ? parts[name] : null;
      callbacks.forEach(function (callback) { callback(data); });
    };
    document.head.appendChild(script);
  }
  function loadParts(names, then) {
    var results = [], left = names.length, failed = false;
    if (!left) { then(results); return; }
    names.forEach(function (name, i) {
      loadPart(name, function (data) {
        if (data === null) failed = true;
        results[i] = data;
        if (--left === 0) then(failed ? null : results);
      });
    });
  }

  var DIGIT = {};
  "0123456789abcdefghijklmnopqrstuv".split("").forEach(function (c, i) { DIGIT[c] = i; });
  "wxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_".split("").forEach(function (c, i) { DIGIT[c] = 32 + i; });
  /* The numbers of the index's base 32 (see generator/site/search/codec.py); "~" starts a block. */
  function readNumbers(code, each) {
    var value = 0;
    for (var i = 0; i < code.length; i++) {
      var c = code.charAt(i);
      if (c === "~") { each(-1); continue; }
      var digit = DIGIT[c];
      if (digit === undefined) return;
      if (digit >= 32) { value = value * 32 + digit - 32; continue; }
      each(value * 32 + digit);
      value = 0;
    }
  }
  /* A word's postings: each(page number, level), level 2 in the title, 1 in a heading or item, 0 in the text. */
  function postings(code, bits, each) {
    var previous = -1, header = false;
    readNumbers(code, function (value) {
      if (value < 0) { header = true; return; }
      if (header) { previous = value * Math.pow(2, bits) - 1; header = false; return; }
      previous += Math.floor(value / 3) + 1;
      each(previous, value % 3);
    });
  }
  function hex(text) {
    var out = "";
    new TextEncoder().encode(text).forEach(function (b) { out += (b < 16 ? "0" : "") + b.toString(16); });
    return out;
  }
  var meta = null;
  function readMeta(data) {
    if (!data || data.v !== FORMAT || typeof data.numbers !== "string" || typeof data.names !== "string" ||
        !Array.isArray(data.shards)) return null;
    var names = {}, previous = -1, i = 0;
    readNumbers(data.numbers, function (gap) {
      previous += gap + 1;
      names[previous] = data.names.substr(16 * i++, 16);
    });
    return { bits: data.bits, count: data.count, names: names, shards: data.shards };
  }
  function loadMeta(then) {
    if (meta) { then(meta); return; }
    loadPart("index", function (data) { meta = meta || readMeta(data); then(meta); });
  }
  function queryWords(terms) {
    var words = [];
    terms.forEach(function (term) {
      (term.match(/[\p{L}\p{N}]+/gu) || []).forEach(function (word) {
        word = Array.from(word).slice(0, MAX_WORD).join("");  /* code points, as the index cuts them */
        if (words.indexOf(word) < 0) words.push(word);
      });
    });
    return words;
  }
  /* Pages holding every query word (as the start of one of theirs), best first: [number, score]. */
  function candidates(words, shards) {
    var scores = null;
    words.forEach(function (word) {
      var best = {};
      shards.forEach(function (shard) {
        if (shard.prefix.lastIndexOf(word, 0) !== 0 && word.lastIndexOf(shard.prefix, 0) !== 0) return;
        Object.keys(shard.data).forEach(function (key) {
          if (key.lastIndexOf(word, 0) !== 0) return;
          postings(shard.data[key], meta.bits, function (number, level) {
            if (!(own.call(best, number)) || best[number] < level) best[number] = level;
          });
        });
      });
      var next = {};
      Object.keys(scores || best).forEach(function (number) {
        if (own.call(best, number)) next[number] = (scores ? scores[number] : 0) + best[number] + 1;
      });
      scores = next;
    });
    return Object.keys(scores || {}).map(function (number) { return [Number(number), scores[number]]; })
      .sort(function (a, b) { return b[1] - a[1] || a[0] - b[0]; });
  }
  /* A fragment's entries: the page (or run) itself, every query word being in it (its words
     said so), shown with its detail line if it has one (a run's outcome, ID, ticket …);
     then its headings and items. */
  function expand(d) {
    var out = [];
    if (!Array.isArray(d) || d.length < 5) return out;
    var e = { k: d[0], t: d[1], u: d[2], p: typeof d[5] === "string" ? d[5] : "" };
    out.push({ e: e, t: fold(e.t), o: "", all: true });
    var folded = d[3].map(fold);
    d[4].forEach(function (r) {
      var x = { k: KINDS[r[0]], t: r[1], u: d[2] + "#" + r[3], p: d[3][r[2]] };
      out.push({ e: x, t: fold(x.t), o: folded[r[2]] });
    });
    return out;
  }
  /* Everything a query needs, loaded: then({entries, pages}) or then(null) when a file is missing. */
  function gather(terms, then) {
    loadMeta(function (found) {
      if (!found) { then(null); return; }
      var words = queryWords(terms);
      if (!words.length) { then({ entries: [], pages: 0 }); return; }
      var prefixes = found.shards.filter(function (prefix) {
        return words.some(function (word) { return prefix.lastIndexOf(word, 0) === 0 || word.lastIndexOf(prefix, 0) === 0; });
      });
      loadParts(prefixes.map(function (prefix) { return "words/" + (prefix ? hex(prefix) : "all"); }), function (datas) {
        if (!datas) { then(null); return; }
        var ranked = candidates(words, prefixes.map(function (prefix, i) { return { prefix: prefix, data: datas[i] }; }));
        var best = ranked.slice(0, CANDIDATES).map(function (c) { return "doc/" + found.names[c[0]]; });
        loadParts(best, function (fragments) {
          if (!fragments) { then(null); return; }
          var entries = [];
          fragments.forEach(function (d) { entries = entries.concat(expand(d)); });
          then({ entries: entries, pages: ranked.length, indexed: terms.map(function (t) { return queryWords([t]).length > 0; }) });
        });
      });
    });
  }
  function wordStart(text, term) {
    var at = text.indexOf(term);
    while (at >= 0) {
      if (at === 0 || /[^a-z0-9]/.test(text.charAt(at - 1))) return true;
      at = text.indexOf(term, at + 1);
    }
    return false;
  }
  function search(terms, found) {
    var hits = [];
    var entries = found.entries;
    for (var i = 0; i < entries.length; i++) {
      var entry = entries[i];
      var score = 0;
      for (var j = 0; j < terms.length; j++) {
        var term = terms[j];
        if (entry.t.indexOf(term) >= 0) {
          score += wordStart(entry.t, term) ? 10 : 6;
        } else if ((entry.all && found.indexed[j]) || entry.o.indexOf(term) >= 0) {
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
  var asked = 0;
  function clear() {
    list.textContent = "";
    selected = -1;
    input.removeAttribute("aria-activedescendant");
  }
  /* Each query gets a ticket: an answer arriving after a newer query was asked is dropped,
     so files loading out of order never show stale or mixed results. */
  function show() {
    var query = input.value.trim();
    var ticket = ++asked;
    if (!query) { clear(); panel.hidden = true; input.setAttribute("aria-expanded", "false"); return; }
    panel.hidden = false;
    input.setAttribute("aria-expanded", "true");
    if (!meta) status.textContent = "Loading search index…";
    var terms = fold(query).split(/\s+/).filter(Boolean);
    gather(terms, function (found) {
      if (ticket !== asked) return;
      clear();
      if (!found) { status.textContent = "The search index could not be loaded."; return; }
      render(query, terms, found);
    });
  }
  function render(query, terms, found) {
    var hits = search(terms, found);
    var shown = Math.min(hits.length, LIMIT);
    if (!hits.length) {
      status.textContent = "No results for “" + query + "”";
    } else if (found.pages > CANDIDATES) {
      status.textContent = found.pages + " pages match; showing the best " + shown + (shown === 1 ? " result" : " results");
    } else {
      status.textContent = hits.length + (hits.length === 1 ? " result" : " results") +
        (hits.length > LIMIT ? ", showing the best " + LIMIT : "");
    }
    hits.slice(0, LIMIT).forEach(function (hit, i) {
      var e = hit.entry.e;
      var li = document.createElement("li");
      li.id = "search-result-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      var a = document.createElement("a");
      a.href = siteHref(e.u);
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
  input.addEventListener("focus", function () {
    if (input.value.trim()) { show(); } else { loadMeta(function () { /* ready for the first key */ }); }
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown") { event.preventDefault(); select(selected + 1); }
    else if (event.key === "ArrowUp") { event.preventDefault(); select(selected - 1); }
    else if (event.key === "Enter") {
      var options = list.querySelectorAll("[role=option] a");
      var target = options[selected >= 0 ? selected : 0];
      if (target && /^(https?|file):/.test(target.href)) {
        event.preventDefault(); panel.hidden = true; location.href = target.href;
      }
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
