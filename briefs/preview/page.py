"""The preview's one page (index, brief, side by side): HTML, CSS and the script that keeps it live."""

from __future__ import annotations

# {{title}} and {{state}} are filled in by briefs.preview.server (escaped there); the rest is static.
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}}</title>
<link rel="icon" href="data:,">
<style>
:root { --bar: #1f2933; --line: #d5d9de; --ok: #1b7f3b; --busy: #a86b00; --bad: #b3261e; --muted: #5f6b76; }
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", sans-serif; color: #1f2933;
       background: #eef0f2; display: flex; flex-direction: column; }
a { color: #0b5cad; }
#bar { flex: none; display: flex; align-items: center; gap: 14px; padding: 8px 16px; background: var(--bar);
       color: #fff; min-height: 44px; }
#bar a { color: #fff; text-decoration: none; }
#bar .home { font-weight: 600; }
#crumb { font-weight: 600; }
#tools { margin-left: auto; display: flex; align-items: center; gap: 8px; }
#tools select, #tools button { font: inherit; }
#live { font-size: 12px; padding: 2px 8px; border-radius: 10px; background: #2f3d4a; white-space: nowrap; }
#live.on::before { content: "● "; color: #5fd37f; }
#live.off::before { content: "● "; color: #f0a04b; }
#main { flex: 1; min-height: 0; }
.index { max-width: 980px; margin: 0 auto; padding: 20px 16px 40px; overflow: auto; height: 100%; }
.index h2 { font-size: 16px; margin: 22px 0 8px; }
.index .summary { color: var(--muted); margin: 0; }
table.briefs { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); }
table.briefs th, table.briefs td { text-align: left; padding: 8px 10px; border-bottom: 1px solid var(--line);
                                   vertical-align: top; }
table.briefs th { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted);
                  background: #f7f8f9; }
table.briefs td.audience a { font-weight: 600; }
table.briefs .why { color: var(--bad); font-size: 12px; margin-top: 3px; max-width: 420px; }
table.briefs .files a { margin-right: 8px; }
.status { display: inline-block; font-size: 12px; font-weight: 600; padding: 1px 8px; border-radius: 10px;
          white-space: nowrap; }
.status.current { background: #e3f4e8; color: var(--ok); }
.status.rebuilding { background: #fff1d6; color: var(--busy); }
.status.failed { background: #fde7e5; color: var(--bad); }
.status.bad-input { background: #fde7e5; color: var(--bad); }
.id { color: var(--muted); font-size: 12px; margin-left: 6px; }
.status.missing { background: #eceff1; color: var(--muted); }
form.compare { margin-top: 22px; display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
form.compare select, form.compare button { font: inherit; padding: 3px 6px; }
.panes { display: flex; height: 100%; gap: 2px; background: #c9ced4; }
.pane { flex: 1 1 0; min-width: 0; display: flex; flex-direction: column; background: #eef0f2; }
.pane-head { flex: none; display: flex; align-items: center; gap: 10px; padding: 6px 12px; background: #fff;
             border-bottom: 1px solid var(--line); flex-wrap: wrap; }
.pane-head .name { font-weight: 600; }
.pane-head .when { color: var(--muted); font-size: 12px; }
.pane-head .views { margin-left: auto; display: flex; gap: 0; }
.pane-head .views button { font: inherit; font-size: 12px; padding: 2px 10px; border: 1px solid var(--line);
                           background: #f7f8f9; cursor: pointer; margin-left: -1px; }
.pane-head .views button[aria-pressed="true"] { background: var(--bar); color: #fff; border-color: var(--bar); }
.pane-head .views button:disabled { color: #aab; cursor: default; }
.pane-head .files a { font-size: 12px; margin-left: 6px; }
.holder { position: relative; flex: 1; min-height: 0; }
.holder iframe { position: absolute; inset: 0; width: 100%; height: 100%; border: 0; background: #fff; }
.holder.sheet iframe { left: 50%; width: min(100%, 8.5in); transform: translateX(-50%);
                       box-shadow: 0 0 6px rgba(0, 0, 0, .25); }
.holder iframe.next { visibility: hidden; }
.pages { position: absolute; inset: 0; overflow: auto; padding: 16px; text-align: center; }
.pages.next { visibility: hidden; }
.pages img { display: block; margin: 0 auto 14px; max-width: 100%; height: auto; background: #fff;
             box-shadow: 0 1px 4px rgba(0, 0, 0, .25); }
.empty { color: var(--muted); padding: 24px; text-align: center; }
body.broken .holder { outline: 3px solid var(--bad); outline-offset: -3px; }
#overlay { position: fixed; left: 50%; top: 92px; transform: translateX(-50%); width: min(760px, 92vw); z-index: 10;
           background: rgba(43, 12, 12, .93); color: #fff; border-radius: 8px; padding: 14px 18px 12px;
           box-shadow: 0 8px 30px rgba(0, 0, 0, .35); }
#overlay[hidden] { display: none; }
body.index-page #overlay { position: static; transform: none; margin: 16px auto 0; width: min(948px, 92vw); }
#overlay h2 { margin: 0 0 6px; font-size: 15px; color: #ffb4ab; }
#overlay ul { margin: 0; padding: 0; list-style: none; max-height: 40vh; overflow: auto; }
#overlay li { font: 13px/1.45 ui-monospace, "DejaVu Sans Mono", "Liberation Mono", monospace; padding: 4px 0;
              border-top: 1px solid rgba(255, 255, 255, .12); white-space: pre-wrap; word-break: break-word; }
#overlay .hint { margin: 8px 0 0; font-size: 12px; color: #f3d3cf; }
</style>
</head>
<body>
<header id="bar">
  <a class="home" href="/">Briefs preview</a>
  <span id="crumb"></span>
  <span id="tools"></span>
  <span id="live" class="off">connecting</span>
</header>
<div id="overlay" role="alert" hidden>
  <h2 id="overlay-title">Bad input</h2>
  <ul id="problems"></ul>
  <p class="hint" id="overlay-hint">The last good brief stays below. Fix the file and save: this goes by itself.</p>
</div>
<main id="main"></main>
<script id="state" type="application/json">{{state}}</script>
<script>
(() => {
  "use strict";
  let state = JSON.parse(document.getElementById("state").textContent);
  const page = state.page;
  const main = document.getElementById("main");
  const LABEL = { current: "up to date", rebuilding: "rebuilding\\u2026", failed: "failed",
                  "bad-input": "bad input: not rebuilt", missing: "not built yet" };
  const FILES = { pdf: "PDF", md: "Markdown", html: "HTML", docx: "Word" };

  function el(tag, attrs, ...kids) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") node.textContent = v;
      else if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    node.append(...kids.filter((k) => k !== null && k !== undefined));
    return node;
  }
  const briefs = () => Object.fromEntries(state.briefs.map((b) => [b.key, b]));
  const badge = (b) => el("span", { class: "status " + (b ? b.status : "missing"),
                                     text: b ? LABEL[b.status] : "unknown" });
  const fileUrl = (b, fmt) => `/output/${b.dataset}/${b.audience}.${fmt}?v=${b.version}`;
  const fileLinks = (b) => el("span", { class: "files" },
    ...b.files.map((f) => el("a", { href: `/output/${b.dataset}/${b.audience}.${f}`, target: "_blank",
                                    text: FILES[f] })));
  // A brief as a reader names it: its audience's title (the id is what --audience takes).
  const titled = (b) => b.title || b.audience;
  const named = (b) => `${b.dataset_title || b.dataset} \\u2014 ${titled(b)}`;
  function briefSelect(current, onchange) {
    const select = el("select", { onchange: () => onchange(select.value), "aria-label": "brief" });
    for (const b of state.briefs) {
      select.append(el("option", { value: b.key, text: named(b), selected: b.key === current }));
    }
    return select;
  }

  // --- the index ---------------------------------------------------------------------------------
  let list = null;
  function renderIndex() {
    if (!list) {
      list = el("div");
      const left = briefSelect(state.briefs[0] && state.briefs[0].key, () => {});
      const right = briefSelect(state.briefs[1] && state.briefs[1].key, () => {});
      left.name = "left"; right.name = "right";
      const form = el("form", { class: "compare", action: "/compare", method: "get" },
        el("strong", { text: "Side by side:" }), left, right, el("button", { type: "submit", text: "Compare" }));
      main.replaceChildren(el("div", { class: "index" }, list, state.briefs.length > 1 ? form : null));
    }
    const datasets = [...new Set(state.briefs.map((b) => b.dataset))];
    const said = state.building ? "Building\\u2026" : state.last_build || "Waiting for the first build\\u2026";
    const parts = [el("p", { class: "summary", id: "summary", text: said })];
    if (!datasets.length) parts.push(el("p", { class: "empty", text: "No briefs yet." }));
    for (const dataset of datasets) {
      const rows = state.briefs.filter((b) => b.dataset === dataset).map((b) => el("tr", { "data-key": b.key },
        el("td", { class: "audience" }, el("a", { href: `/brief/${b.dataset}/${b.audience}`, text: titled(b) }),
           el("span", { class: "id", text: b.audience })),
        el("td", {}, badge(b), b.error ? el("div", { class: "why", text: b.error }) : null),
        el("td", { class: "when", text: b.built_at || "" }),
        el("td", {}, fileLinks(b))));
      const first = state.briefs.find((b) => b.dataset === dataset);
      parts.push(el("h2", {}, first.dataset_title || dataset, el("span", { class: "id", text: dataset })),
        el("table", { class: "briefs" },
        el("thead", {}, el("tr", {}, ...["Brief", "Status", "Built", "Files"].map((t) => el("th", { text: t })))),
        el("tbody", {}, ...rows)));
    }
    list.replaceChildren(...parts);
  }

  // --- a brief, or two side by side --------------------------------------------------------------
  class Pane {
    constructor(key, index) {
      this.key = key;
      this.index = index;
      // Pages are the brief as it prints (PDF pages as pictures); HTML is the PDF's source, quicker to reload.
      this.view = localStorage.getItem("briefs-view") || "pages";
      this.shown = null;
      this.head = el("div", { class: "pane-head" });
      this.holder = el("div", { class: "holder" });
      this.node = el("section", { class: "pane", "data-key": key }, this.head, this.holder);
    }
    brief() { return briefs()[this.key]; }
    views(b) {
      const has = (f) => b && b.files.includes(f);
      return { html: has("html"), pages: has("pdf") && state.page_images, pdf: has("pdf"), md: has("md") };
    }
    effectiveView(b) {
      const ok = this.views(b);
      if (ok[this.view]) return this.view;
      return ["html", "pages", "pdf", "md"].find((v) => ok[v]) || "none";
    }
    renderHead(b) {
      const view = this.effectiveView(b);
      const ok = this.views(b);
      const names = { html: "HTML", pages: "Pages", pdf: "PDF", md: "Markdown" };
      const buttons = Object.keys(names).map((v) => el("button", {
        type: "button", "aria-pressed": String(v === view), disabled: !ok[v], text: names[v],
        onclick: () => { this.view = v; localStorage.setItem("briefs-view", v); this.update(true); } }));
      const name = page === "compare"
        ? briefSelect(this.key, (key) => {
            const keys = panes.map((p) => p.key); keys[this.index] = key;
            location.href = `/compare?left=${encodeURIComponent(keys[0])}&right=${encodeURIComponent(keys[1])}`;
          })
        : el("span", { class: "name", text: b ? named(b) : this.key });
      const when = el("span", { class: "when", text: b && b.built_at ? "built " + b.built_at : "" });
      const switcher = el("span", { class: "views" }, ...buttons);
      const links = b && page !== "compare" ? fileLinks(b) : null;
      this.head.replaceChildren(...[name, badge(b), when, switcher, links].filter((n) => n));
    }
    update(force) {
      const b = this.brief();
      this.renderHead(b);
      if (!b) return;
      const view = this.effectiveView(b);
      const sig = `${view}:${b.version}:${b.files.join(",")}`;
      if (sig === this.shown && !force) return;
      this.shown = sig;
      if (view === "pages") this.showPages(b, sig);
      else if (view === "none") this.holder.replaceChildren(el("p", { class: "empty", text: "Not built yet." }));
      else this.showFrame(fileUrl(b, view), view === "html");
    }
    showFrame(url, sheet) {
      // The new version loads out of sight and replaces the old one once it is laid out, at the same
      // scroll position: the reader keeps their place and never sees a blank page.
      const old = this.holder.querySelector("iframe.current");
      let x = 0, y = 0;
      try { if (old) { x = old.contentWindow.scrollX; y = old.contentWindow.scrollY; } } catch (e) { /* not ours */ }
      for (const child of [...this.holder.children]) if (child !== old) child.remove();
      this.holder.classList.toggle("sheet", sheet);
      // A sandbox: no script, no popups, no forms, no navigation of this page (PDF: Chromium shows none
      // in a sandbox; it draws a PDF in a process of its own).
      const sandbox = url.includes(".pdf?") ? null : "allow-same-origin";
      const frame = el("iframe", { class: "next", sandbox, referrerpolicy: "no-referrer", title: this.key, src: url });
      frame.addEventListener("load", () => {
        try { frame.contentWindow.scrollTo(x, y); } catch (e) { /* a PDF viewer */ }
        frame.className = "current";
        if (old) old.remove();
      }, { once: true });
      this.holder.append(frame);
    }
    async showPages(b, sig) {
      const res = await fetch(`/pages/${b.dataset}/${b.audience}.json?v=${b.version}`);
      const info = res.ok ? await res.json() : null;
      if (this.shown !== sig) return;
      if (!info || !info.pages) {
        this.holder.replaceChildren(el("p", { class: "empty", text: "No pages to show." }));
        return;
      }
      // Every page has its size before it loads, so the scroll position means the same page after a
      // rebuild; pages come in as they scroll into view, and a rebuild replaces the view only once the
      // pages on screen are ready.
      const old = this.holder.querySelector(".pages:not(.next)");
      for (const child of [...this.holder.children]) if (child !== old) child.remove();
      this.holder.classList.remove("sheet");
      const y = old ? old.scrollTop : 0;
      const step = info.height + 14;
      const first = Math.floor(y / step) + 1;
      const last = first + Math.ceil(this.holder.clientHeight / step);
      const images = [];
      for (let n = 1; n <= info.pages; n++) {
        const loading = n >= first && n <= last ? "eager" : "lazy";
        images.push(el("img", { src: `/pages/${b.dataset}/${b.audience}/${n}.png?v=${b.version}`, loading,
                                width: info.width, height: info.height,
                                alt: `${this.key}, page ${n} of ${info.pages}` }));
      }
      const box = el("div", { class: old ? "pages next" : "pages" }, ...images);
      this.holder.append(box);
      box.scrollTop = y;
      if (!old) return;
      await Promise.all(images.slice(first - 1, last).map((img) => img.decode().catch(() => null)));
      if (this.shown !== sig) { box.remove(); return; }  // a newer version is on its way
      box.scrollTop = old.scrollTop;
      box.classList.remove("next");
      old.remove();
    }
  }

  const panes = (state.panes || []).map((key, i) => new Pane(key, i));
  document.body.classList.add(page + "-page");
  if (panes.length) {
    main.replaceChildren(el("div", { class: "panes" }, ...panes.map((p) => p.node)));
    const first = panes[0].brief();
    document.getElementById("crumb").textContent =
      page === "compare" ? "side by side" : first ? named(first) : panes[0].key;
    if (page === "brief" && state.briefs.length > 1) {
      const others = briefSelect(null, (key) => {
        location.href = `/compare?left=${encodeURIComponent(panes[0].key)}&right=${encodeURIComponent(key)}`;
      });
      others.prepend(el("option", { value: "", text: "side by side with\\u2026", selected: true, disabled: true }));
      document.getElementById("tools").append(others);
    }
  }

  function renderOverlay() {
    // The index shows every problem; a brief's page only those in the files that brief reads.
    const shown = panes.map((p) => p.brief()).filter((b) => b);
    const bad = page === "index" ? state.problems.map((p) => p.text)
      : [...new Set(shown.flatMap((b) => b.problems || []))];
    const items = [...bad];
    for (const b of shown.filter((b) => b.status === "failed")) items.push(`${b.key}: ${b.error}`);
    const overlay = document.getElementById("overlay");
    document.getElementById("overlay-title").textContent = bad.length
      ? `Bad input: ${bad.length} problem${bad.length === 1 ? "" : "s"}, nothing rebuilt`
      : "This brief failed to build";
    document.getElementById("problems").replaceChildren(...items.map((t) => el("li", { text: t })));
    if (page === "index") {
      document.getElementById("overlay-hint").textContent =
        "The last good briefs are kept. Fix the file and save: this goes away by itself.";
    }
    overlay.hidden = !items.length;
    document.body.classList.toggle("broken", items.length > 0);
  }

  let pending = null;
  function update() {
    if (page === "index") renderIndex();
    renderOverlay();
    // A build writes a brief's formats one after another: reload once they are all there.
    clearTimeout(pending);
    pending = setTimeout(() => panes.forEach((p) => p.update(false)), 120);
  }

  function connect() {
    const live = document.getElementById("live");
    const source = new EventSource("/events");
    source.addEventListener("state", (event) => { state = Object.assign(state, JSON.parse(event.data)); update(); });
    source.onopen = () => { live.className = "on"; live.textContent = "live"; };
    source.onerror = () => { live.className = "off"; live.textContent = "reconnecting"; };
  }

  update();
  panes.forEach((p) => p.update(false));
  connect();
})();
</script>
</body>
</html>
"""
