// The gallery page: the list of runs and one run's page, drawn from the JSON API.
// Text from runs is always set with textContent, never parsed as HTML.
"use strict";

const main = document.getElementById("main");
let timers = [];

// -- small helpers ----------------------------------------------------------------------------
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

async function api(url) {
  let res;
  try {
    res = await fetch(url, { cache: "no-store" });
  } catch (e) {
    throw new Error("the gallery server is not answering (was `primordium serve` stopped?)");
  }
  let body = null;
  try { body = await res.json(); } catch (e) { /* not JSON */ }
  if (!res.ok) throw new Error((body && body.error) || `${res.status} ${res.statusText}`);
  return body;
}

async function text(url) {
  const res = await fetch(url, { cache: "no-store" });
  if (!res.ok) throw new Error(`${res.status} ${res.statusText}`);
  return res.text();
}

const enc = (s) => s.split("/").map(encodeURIComponent).join("/");
const fileUrl = (id, path, mtime) => `/files/${encodeURIComponent(id)}/${enc(path)}` + (mtime ? `?v=${Math.round(mtime * 1000)}` : "");

function when(t) {
  const d = new Date(t * 1000);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function clock(t) {
  return new Date(t * 1000).toTimeString().slice(0, 8);
}

function ago(t) {
  const s = Math.max(0, Date.now() / 1000 - t);
  if (s < 60) return `${Math.round(s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

function duration(s) {
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

function value(v) {
  if (typeof v === "number") return Charts.fmt(v);
  if (v === null || v === undefined) return "–";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

const badge = (status) => el("span", { class: `badge status-${status}`, text: status });
const engineBadge = (engine) => el("span", { class: `badge engine engine-${engine}`, text: engine });

function message(title, detail) {
  return el("div", { class: "message" }, el("h2", { text: title }), detail ? el("p", { text: detail }) : null,
    el("p", {}, el("a", { href: "/", "data-nav": true, text: "← all runs" })));
}

function every(ms, fn) {
  timers.push(setInterval(() => { if (!document.hidden) fn(); }, ms));
}

function setLive(on) {
  document.getElementById("live").hidden = !on;
}

// -- navigation -------------------------------------------------------------------------------
document.addEventListener("click", (ev) => {
  const a = ev.target.closest("a[data-nav]");
  if (!a || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.button !== 0) return;
  ev.preventDefault();
  history.pushState(null, "", a.getAttribute("href"));
  route();
});
window.addEventListener("popstate", route);

function route() {
  timers.forEach(clearInterval);
  timers = [];
  setLive(false);
  window.scrollTo(0, 0);
  const m = location.pathname.match(/^\/run\/([^/]+)\/?$/);
  if (m) showRun(decodeURIComponent(m[1]));
  else if (/^\/compare\/?$/.test(location.pathname)) showCompare();
  else showList();
}

// -- the list of runs -------------------------------------------------------------------------
let listFilter = { engine: null, query: "" };
const picked = new Set(); // runs ticked for comparing; kept across the list's refreshes

async function showList() {
  document.title = "primordium gallery";
  let data;
  try {
    data = await api("/api/runs");
  } catch (e) {
    main.replaceChildren(message("Cannot list the runs", e.message));
    return;
  }
  document.getElementById("home").textContent = data.home;
  drawList(data.runs);
  if (data.runs.some((r) => r.status === "running")) {
    setLive(true);
    every(3000, async () => {
      try {
        const fresh = await api("/api/runs");
        drawList(fresh.runs);
        setLive(fresh.runs.some((r) => r.status === "running"));
      } catch (e) { /* keep what is shown; the next poll may succeed */ }
    });
  }
}

function drawList(runs) {
  const engines = [...new Set(runs.map((r) => r.engine))].sort();
  if (listFilter.engine && !engines.includes(listFilter.engine)) listFilter.engine = null;
  const q = listFilter.query.toLowerCase();
  const shown = runs.filter((r) => (!listFilter.engine || r.engine === listFilter.engine)
    && (!q || `${r.name} ${r.id} ${r.engine} ${r.status}`.toLowerCase().includes(q)));

  const chips = el("div", { class: "chips" },
    el("button", { class: listFilter.engine ? "chip" : "chip on", text: `all (${runs.length})`,
      onclick: () => { listFilter.engine = null; drawList(runs); } }),
    engines.map((e) => el("button", { class: listFilter.engine === e ? "chip on" : "chip",
      text: `${e} (${runs.filter((r) => r.engine === e).length})`,
      onclick: () => { listFilter.engine = e; drawList(runs); } })));
  const search = el("input", { type: "search", placeholder: "filter by name or id", value: listFilter.query,
    "aria-label": "filter runs" });
  search.addEventListener("input", () => {
    listFilter.query = search.value;
    drawList(runs);
    const again = document.querySelector("input[type=search]");
    again.focus();
    again.setSelectionRange(again.value.length, again.value.length);
  });

  const counts = ["running", "finished", "interrupted", "failed"]
    .map((s) => [s, runs.filter((r) => r.status === s).length]).filter(([, n]) => n);
  for (const id of picked) if (!runs.some((r) => r.id === id)) picked.delete(id);
  const head = el("div", { class: "listhead" },
    el("div", { class: "titlebar" }, el("h1", { text: "Runs" }), compareBar(runs)),
    el("p", { class: "muted" }, counts.map(([s, n]) => `${n} ${s}`).join(" · ") || "no runs yet"),
    el("div", { class: "tools" }, chips, search));

  if (!runs.length) {
    main.replaceChildren(head, el("div", { class: "message" },
      el("p", { text: "This store has no runs yet. Make some with:" }),
      el("pre", { text: "primordium quickstart" })));
    return;
  }
  const grid = el("div", { class: "cards" }, shown.map((r) => el("div", { class: "slot" }, card(r),
    el("label", { class: "pick", title: "compare this run with others" },
      el("input", { type: "checkbox", "data-pick": r.id, checked: picked.has(r.id),
        onchange: (ev) => {
          if (ev.target.checked) picked.add(r.id); else picked.delete(r.id);
          document.querySelector(".comparebar").replaceWith(compareBar(runs));
        } }),
      "compare"))));
  main.replaceChildren(head, shown.length ? grid : el("p", { class: "muted", text: "No run matches." }));
}

function compareBar(runs) {
  const href = `/compare?runs=${[...picked].map(encodeURIComponent).join(",")}`;
  return el("div", { class: "comparebar" },
    picked.size >= 2
      ? el("a", { class: "button", id: "compare", href, "data-nav": true, text: `Compare ${picked.size} runs` })
      : el("span", { class: "muted small", id: "compare-hint",
        text: picked.size ? "tick one more run to compare" : "tick runs to compare their metrics" }),
    picked.size ? el("button", { class: "chip", text: "clear", onclick: () => { picked.clear(); drawList(runs); } }) : null);
}

function card(r) {
  const thumb = r.thumbnail
    ? el("img", { src: fileUrl(r.id, r.thumbnail, r.thumbnail_mtime || r.updated), alt: `${r.name}: ${r.thumbnail}`, loading: "lazy",
      onload: (ev) => { if (ev.target.naturalWidth < ev.target.clientWidth / 2) ev.target.classList.add("pixels"); } })
    : el("div", { class: "nothumb", text: r.engine });
  const facts = r.key_summary || []; // the engine's declared keys (primordium.store.keys)
  return el("a", { class: "card", href: `/run/${encodeURIComponent(r.id)}`, "data-nav": true, "data-run": r.id },
    el("div", { class: "thumb" }, thumb),
    el("div", { class: "body" },
      el("div", { class: "title", text: r.name, title: r.name }),
      el("div", { class: "badges" }, engineBadge(r.engine), badge(r.status),
        r.problems && r.problems.length ? el("span", { class: "badge damaged", text: "damaged" }) : null),
      el("div", { class: "meta muted", text: `${when(r.created)} · ${ago(r.updated)}` }),
      facts.length ? el("dl", { class: "facts" }, facts.map(([k, v]) => [el("dt", { text: k }), el("dd", { text: value(v) })])) : null));
}

// -- several runs compared ---------------------------------------------------------------------
const COLORS = ["#2f6fdf", "#d9534f", "#2a9d6f", "#c98a12", "#8a5cd6", "#1f9bb3", "#e0609a", "#5d6b7a",
  "#7fae2e", "#a0522d", "#3949ab", "#00897b"];

// The choice lives in the URL (?runs=a,b&metric=m&x=epoch&bookkeeping=1), so a comparison can be shared.
async function showCompare() {
  document.title = "compare · primordium";
  const q = new URLSearchParams(location.search);
  const ids = (q.get("runs") || "").split(",").filter(Boolean);
  if (!main.querySelector(".compare")) main.replaceChildren(el("p", { class: "muted", text: "Loading…" }));
  const ask = new URLSearchParams({ runs: ids.join(",") });
  if (q.get("metric")) ask.set("metric", q.get("metric"));
  if (q.get("x")) ask.set("x", q.get("x"));
  let data;
  try {
    data = await api(`/api/compare?${ask}`);
  } catch (e) {
    main.replaceChildren(message("Cannot compare these runs", e.message));
    return;
  }
  drawCompare(data, q.get("bookkeeping") === "1" || data.columns.some((c) => c.name === data.metric && c.bookkeeping));
  if (data.runs.some((r) => r.status === "running") && !timers.length) {
    setLive(true);
    every(3000, async () => {
      try {
        const fresh = await api(`/api/compare?${new URLSearchParams({ runs: ids.join(","), metric: current.compare.metric, x: current.compare.x })}`);
        drawCompare(fresh, current.compare.bookkeeping);
        if (!fresh.runs.some((r) => r.status === "running")) stopLive();
      } catch (e) { /* keep what is shown */ }
    });
  }
}

function drawCompare(data, bookkeeping) {
  current = { compare: { metric: data.metric, x: data.x, bookkeeping } };
  const choose = (changes) => {
    const q = new URLSearchParams(location.search);
    for (const [k, v] of Object.entries(changes)) { if (v === null) q.delete(k); else q.set(k, v); }
    history.replaceState(null, "", `/compare?${q.toString().replace(/%2C/g, ",")}`);
    timers.forEach(clearInterval);
    timers = [];
    showCompare();
  };
  const science = data.columns.filter((c) => !c.bookkeeping);
  const metrics = data.columns.filter((c) => c.name !== "step" && (bookkeeping || !c.bookkeeping));
  const n = data.runs.length;
  const label = (c) => `${c.name}${c.bookkeeping ? " (bookkeeping)" : ""}${c.runs < n ? ` (${c.runs} of ${n} runs)` : ""}`;
  const metricSel = el("select", { id: "metric", "aria-label": "metric",
    onchange: (ev) => choose({ metric: ev.target.value }) },
    metrics.map((c) => el("option", { value: c.name, selected: c.name === data.metric, text: label(c) })));
  const xs = [...data.columns].sort((a, b) => (b.name === "step") - (a.name === "step") || a.name.localeCompare(b.name));
  const xSel = el("select", { id: "xaxis", "aria-label": "x-axis", onchange: (ev) => choose({ x: ev.target.value }) },
    xs.map((c) => el("option", { value: c.name, selected: c.name === data.x, text: label(c) })));
  const bk = el("input", { type: "checkbox", id: "bookkeeping", checked: bookkeeping,
    onchange: (ev) => {
      const on = ev.target.checked;
      const isBk = data.columns.some((c) => c.name === data.metric && c.bookkeeping);
      // Hiding bookkeeping while one is charted goes back to the science column the API picks.
      choose({ bookkeeping: on ? "1" : null, metric: !on && isBk ? null : data.metric });
    } });
  const hidden = data.columns.filter((c) => c.bookkeeping && c.name !== "step").length;
  const controls = el("div", { class: "controls" },
    el("label", {}, "metric ", metricSel),
    el("label", {}, "x-axis ", xSel),
    el("label", { title: "counters, clocks and tallies of work: see docs/gallery.md" }, bk,
      ` show bookkeeping series${hidden ? ` (${hidden})` : ""}`));
  const series = data.runs.map((r, i) => ({ id: r.id, label: r.name, href: `/run/${encodeURIComponent(r.id)}`,
    xs: r.xs, ys: r.ys, color: COLORS[i % COLORS.length] }));
  const missing = data.runs.filter((r) => !r.xs.length);
  const chart = data.metric
    ? Charts.plot({ title: `${data.metric} against ${data.x}`, series, xLabel: data.x, width: 860, height: 380 })
    : el("p", { class: "muted", text: science.length ? "" : "These runs have no metrics to compare." });
  main.replaceChildren(el("article", { class: "compare" },
    el("p", {}, el("a", { href: "/", "data-nav": true, text: "← all runs" })),
    el("h1", { text: `Compare ${n} runs` }),
    controls,
    el("div", { class: "bigchart" }, chart),
    missing.length && data.metric ? el("p", { class: "muted small", id: "missing",
      text: `No ${data.metric} against ${data.x} in: ${missing.map((r) => r.name).join(", ")}` }) : null));
}

// -- one run ----------------------------------------------------------------------------------
const CAPTIONS = {
  "results.png": "Tournament: every pair, row against column",
  "replay.gif": "Battle replay: the first round of the top two (their colours where they ran, grey where written, white: processes now)",
  "soup.png": "The soup now: one row per program, one pixel per byte",
  "soup.gif": "The soup over time",
  "soup_grid.png": "The 2D soup: each program a tile at its place",
  "curves.png": "Entropy and work per tape over the run",
  "best.mp4": "The best simulation found",
  "best.gif": "The best simulation found",
  "scores.png": "Search scores by generation",
  "best_so_far.png": "The best found so far, rewritten while the search runs",
  "fitness.png": "Fitness over the rounds",
  "archives.png": "Each round's MAP-Elites archive",
  "rollout.gif": "LifeGPT fed its own output: the model | the true automaton | its wrong cells in red",
};
const IMAGE = /\.(png|gif|jpe?g|webp)$/i;
const VIDEO = /\.(mp4|webm)$/i;
const MAX_MEDIA = 24;
// Metrics people look for first; the rest follow alphabetically.
const FIRST_METRICS = ["high_order_entropy", "h0", "brotli_bits_per_byte", "ops_per_tape", "score", "fitness",
  "best", "loss", "objective", "coverage", "qd_score"];

let current = null; // {id, info, rows}

async function showRun(id) {
  document.title = `${id} · primordium`;
  main.replaceChildren(el("p", { class: "muted", text: "Loading…" }));
  let info;
  try {
    info = await api(`/api/runs/${encodeURIComponent(id)}`);
  } catch (e) {
    main.replaceChildren(message(`Cannot show run ${id}`, e.message));
    return;
  }
  current = { id, info, rows: [], cursor: null, bookkeeping: new Set(), showBookkeeping: false, files: new Map(info.files.map((f) => [f.path, f.mtime])) };
  document.getElementById("home").textContent = info.home;
  document.title = `${info.name} · primordium`;
  const page = el("article", { class: "run" });
  main.replaceChildren(page);
  drawRunHead(page, info);
  if (info.problems.length) {
    page.append(el("div", { class: "problem", role: "alert" },
      el("strong", { text: "This run is damaged: " }), info.problems.join("; "),
      ". What could be read is shown below."));
  }
  const summary = el("section", { id: "summary" });
  const special = el("div", { id: "special" });
  const media = el("section", { id: "media" });
  const plots = el("section", { id: "plots" });
  const census = el("div", { id: "census" });
  const warriors = el("section", { id: "warriors" });
  const rest = el("div", { id: "rest" });
  page.append(summary, special, media, plots, census, warriors, rest);
  drawSummary(summary, info);
  drawMedia(media, info);
  drawSpecial(special, census, info).catch((e) => special.append(el("p", { class: "problem", text: e.message })));
  drawWarriors(warriors, info).catch((e) => warriors.append(el("p", { class: "problem", text: e.message })));
  drawRest(rest, info);
  await refreshMetrics(plots);
  if (info.status === "running") {
    setLive(true);
    every(2000, () => refreshMetrics(plots));
    every(5000, () => refreshInfo(page));
  }
}

function drawRunHead(page, info) {
  const took = info.updated - info.created;
  const head = el("header", { class: "runhead", id: "runhead" },
    el("p", {}, el("a", { href: "/", "data-nav": true, text: "← all runs" })),
    el("h1", { text: info.name }),
    el("div", { class: "badges" }, engineBadge(info.engine), badge(info.status)),
    el("p", { class: "meta muted" },
      `${info.id} · started ${when(info.created)} · `,
      info.status === "running" ? `running for ${duration(Date.now() / 1000 - info.created)}` : `took ${duration(took)}`,
      " · ", el("code", { text: info.dir })));
  const old = page.querySelector("#runhead");
  if (old) old.replaceWith(head); else page.prepend(head);
}

function drawSummary(section, info) {
  const entries = Object.entries(info.summary || {});
  section.replaceChildren();
  if (!entries.length) return;
  section.append(el("h2", { text: "Summary" }),
    tiles(entries));
}

function tiles(entries) {
  return el("div", { class: "tiles" }, entries.map(([k, v]) =>
    el("div", { class: "tile" }, el("div", { class: "k", text: k }), el("div", { class: "v", text: value(v), title: value(v) }))));
}

function caption(path) {
  const base = path.split("/").pop();
  if (CAPTIONS[base]) return CAPTIONS[base];
  if (/poster/i.test(base)) return "Illumination poster";
  return path;
}

function drawMedia(section, info) {
  const items = info.files.filter((f) => IMAGE.test(f.path) || VIDEO.test(f.path));
  // Posters and named results first, then the rest in folder order.
  const known = Object.keys(CAPTIONS);
  const rank = (f) => {
    const base = f.path.split("/").pop();
    if (/poster/i.test(base)) return -1;
    const k = known.indexOf(base);
    return k >= 0 ? k : known.length + (f.path.includes("/") ? 1 : 0);
  };
  items.sort((a, b) => rank(a) - rank(b) || a.path.localeCompare(b.path));
  section.replaceChildren();
  if (!items.length) return;
  section.append(el("h2", { text: "Pictures and videos" }));
  const grid = el("div", { class: "media" });
  const latest = info.latest_picture;
  if (info.status === "running" && latest) {
    // While the run goes, its newest picture leads; its time in the URL fetches each rewrite anew.
    const url = fileUrl(info.id, latest.path, latest.mtime);
    grid.append(el("figure", { class: "latest", id: "latest", "data-path": latest.path },
      el("img", { src: url, alt: `latest picture: ${latest.path}`, onload: fitImage }),
      el("figcaption", {}, "Latest picture ", el("span", { class: "muted", text: `(${latest.path}, written ${clock(latest.mtime)})` }))));
  }
  for (const f of items.slice(0, MAX_MEDIA)) {
    const url = fileUrl(info.id, f.path, f.mtime);
    const shown = VIDEO.test(f.path)
      ? el("video", { src: url, controls: true, loop: true, muted: true, autoplay: true, playsinline: true, preload: "metadata" })
      : el("a", { href: url, target: "_blank", rel: "noopener" }, el("img", { src: url, alt: caption(f.path), loading: "lazy", onload: fitImage }));
    grid.append(el("figure", { class: /poster/i.test(f.path) ? "wide" : null, "data-path": f.path }, shown,
      el("figcaption", {}, caption(f.path), caption(f.path) !== f.path ? el("span", { class: "muted", text: ` (${f.path})` }) : null)));
  }
  section.append(grid);
  if (items.length > MAX_MEDIA) section.append(el("p", { class: "muted", text: `and ${items.length - MAX_MEDIA} more in the file list below` }));
}

// Small pictures (a soup, a core) are pixels: enlarge them crisp. Wide ones take two columns.
function fitImage(ev) {
  const img = ev.target, fig = img.closest("figure");
  if (img.naturalWidth < img.clientWidth) img.classList.add("pixels");
  if (fig && img.naturalWidth / img.naturalHeight > 1.6) fig.classList.add("wide2");
}

// Engine-specific views of known JSON files.
async function drawSpecial(section, censusSection, info) {
  const has = (p) => info.files.some((f) => f.path === p);
  const read = async (p) => {
    try { return JSON.parse(await text(fileUrl(info.id, p))); } catch (e) { throw new Error(`${p} cannot be read: ${e.message}`); }
  };
  section.replaceChildren();
  censusSection.replaceChildren();
  if (has("results.json")) {
    const r = await read("results.json");
    if (r && Array.isArray(r.warriors) && Array.isArray(r.wins)) section.append(tournamentTable(info, r));
  }
  if (has("census.json")) {
    const c = await read("census.json");
    if (c && Array.isArray(c.programs)) censusSection.append(censusView(c));
  }
}

function tournamentTable(info, r) {
  const order = Array.isArray(r.ranking) ? r.ranking : r.warriors.map((_, i) => i);
  const rows = order.map((i, rank) => {
    const w = r.warriors[i];
    return el("tr", {},
      el("td", { class: "num", text: rank + 1 }),
      el("td", {}, w.file ? el("a", { href: `#warrior-${w.file}`, text: w.name }) : w.name),
      el("td", { class: "muted", text: w.author || "" }),
      el("td", { class: "num strong", text: w.score }),
      el("td", { class: "num", text: w.wins }), el("td", { class: "num", text: w.losses }), el("td", { class: "num", text: w.ties }));
  });
  return el("section", { class: "tournament" }, el("h2", { text: `Tournament (${r.rounds} rounds per pair)` }),
    el("div", { class: "scroll" }, el("table", { class: "table" },
      el("thead", {}, el("tr", {}, ["#", "warrior", "author", "score", "wins", "losses", "ties"].map((h) => el("th", { text: h })))),
      el("tbody", {}, rows))),
    el("p", { class: "muted", text: "Score: 3 points per round won, 1 per tie." }));
}

function censusView(c) {
  const table = (title, rows, withFraction) => {
    // The soup marks each top program by a self-replication check when it ran one.
    const flagged = (rows || []).some((p) => typeof p.replicates === "boolean");
    return el("div", { class: "scroll" },
      el("h3", { text: title }),
      el("table", { class: "table census" },
        el("thead", {}, el("tr", {}, el("th", { text: "count" }), withFraction ? el("th", { text: "share" }) : null,
          flagged ? el("th", { text: "replicates" }) : null, el("th", { text: "program" }))),
        el("tbody", {}, (rows || []).map((p) => el("tr", {},
          el("td", { class: "num", text: p.count }),
          withFraction ? el("td", { class: "num", text: `${(100 * p.fraction).toFixed(2)} %` }) : null,
          flagged ? el("td", { class: p.replicates ? "yes" : "muted", text: p.replicates ? "yes" : "no" }) : null,
          el("td", {}, el("code", { class: "prog", text: p.text || p.hex, title: p.hex })))))));
  };
  return el("section", { class: "census" },
    el("h2", { text: "Census" }),
    c.distinct_programs !== undefined ? el("p", { class: "muted", text: `${c.distinct_programs.toLocaleString("en-US")} distinct programs in the sample` }) : null,
    el("div", { class: "two" }, table("Most common programs", c.programs, true), table(`Most common ${c.k}-byte substrings`, c.substrings, false)));
}

async function drawWarriors(section, info) {
  const reds = info.files.filter((f) => /\.red$/i.test(f.path));
  section.replaceChildren();
  if (!reds.length) return;
  section.append(el("h2", { text: reds.length === 1 ? "Warrior" : `Warriors (${reds.length})` }));
  const shown = reds.slice(0, 40);
  for (const [k, f] of shown.entries()) {
    const det = el("details", { class: "warrior", id: `warrior-${f.path}`, open: k < 4 });
    const sum = el("summary", {}, el("code", { text: f.path }));
    const pre = el("pre", { class: "source", text: "…" });
    det.append(sum, pre);
    section.append(det);
    text(fileUrl(info.id, f.path, f.mtime)).then((src) => {
      pre.textContent = src;
      const name = src.match(/^\s*;\s*name\s+(.+)$/im), author = src.match(/^\s*;\s*author\s+(.+)$/im);
      if (name) sum.append(" ", el("strong", { text: name[1].trim() }));
      if (author) sum.append(el("span", { class: "muted", text: ` by ${author[1].trim()}` }));
    }).catch((e) => { pre.textContent = `cannot read: ${e.message}`; });
  }
  if (reds.length > shown.length) section.append(el("p", { class: "muted", text: `and ${reds.length - shown.length} more in the file list below` }));
}

function drawRest(section, info) {
  section.replaceChildren(
    el("section", {}, el("h2", { text: "Config" }),
      el("details", {}, el("summary", { text: "config.json" }), el("pre", { class: "json", text: JSON.stringify(info.config, null, 2) }))),
    el("section", {}, el("h2", { text: `Files (${info.files.length})` }),
      info.files.length
        ? el("table", { class: "table files" },
          el("thead", {}, el("tr", {}, el("th", { text: "file" }), el("th", { text: "size" }), el("th", { text: "written" }))),
          el("tbody", {}, info.files.map((f) => el("tr", {},
            el("td", {}, el("a", { href: fileUrl(info.id, f.path), text: f.path, target: "_blank", rel: "noopener" })),
            el("td", { class: "num", text: bytes(f.size) }),
            el("td", { class: "muted", text: when(f.mtime) })))))
        : el("p", { class: "muted", text: "No files." })));
}

// -- metrics ----------------------------------------------------------------------------------
// Polls ask only for rows logged since the last answer; if the count does not add up
// (a resumed run dropped rows after its checkpoint), start over from all rows.
async function refreshMetrics(section) {
  const base = `/api/runs/${encodeURIComponent(current.id)}/metrics`;
  let data, rows;
  try {
    data = await api(current.cursor ? `${base}?since=${encodeURIComponent(current.cursor)}` : base);
    rows = current.cursor ? current.rows.concat(data.rows) : data.rows;
    if (rows.length !== data.count) {
      data = await api(base);
      rows = data.rows;
    }
  } catch (e) {
    section.replaceChildren(el("h2", { text: "Metrics" }), el("p", { class: "problem", text: e.message }));
    return;
  }
  if (current.cursor && data.rows.length) rows.sort((a, b) => a.step - b.step); // stable: ties keep their order
  const changed = rows.length !== current.rows.length || data.cursor !== current.cursor;
  current.rows = rows;
  current.cursor = data.cursor;
  for (const k of data.bookkeeping || []) current.bookkeeping.add(k);
  if (changed || !section.childElementCount) drawPlots(section, rows);
  if (data.status !== "running" && timers.length) await refreshInfo(document.querySelector("article.run"));
}

// The run ended (or was found dead): stop polling.
function stopLive() {
  timers.forEach(clearInterval);
  timers = [];
  setLive(false);
}

// Numbers of a row, nested objects flattened one level ("descriptors.coverage").
function numbers(row) {
  const out = {};
  for (const [k, v] of Object.entries(row)) {
    if (typeof v === "number") out[k] = v;
    else if (v && typeof v === "object" && !Array.isArray(v)) {
      for (const [k2, v2] of Object.entries(v)) if (typeof v2 === "number") out[`${k}.${k2}`] = v2;
    }
  }
  return out;
}

function drawPlots(section, rows) {
  section.replaceChildren();
  if (!rows.length) return;
  // Each metric is drawn over the rows that have it: engines log different kinds of rows.
  const bykey = new Map();
  for (const r of rows) {
    for (const [k, v] of Object.entries(numbers(r))) {
      if (k === "step" || !Number.isFinite(v)) continue;
      if (!bykey.has(k)) bykey.set(k, { xs: [], ys: [] });
      bykey.get(k).xs.push(r.step);
      bykey.get(k).ys.push(v);
    }
  }
  const series = [], constant = [];
  let hidden = 0;
  for (const [k, { xs, ys }] of bykey) {
    if (current.bookkeeping.has(k) && !current.showBookkeeping) { hidden++; continue; }
    if (ys.every((y, i) => y === xs[i])) continue; // a copy of the step (e.g. epoch)
    if (ys.length > 1 && ys.every((y) => y === ys[0])) constant.push([k, ys[0]]);
    else series.push([k, xs, ys]);
  }
  const order = (k) => { const i = FIRST_METRICS.indexOf(k); return i < 0 ? FIRST_METRICS.length : i; };
  series.sort((a, b) => order(a[0]) - order(b[0]) || a[0].localeCompare(b[0]));
  if (!series.length && !constant.length && !hidden) return; // only step counters: nothing to draw
  const steps = rows.map((r) => r.step);
  section.append(el("h2", {}, "Metrics ", el("span", { class: "muted small",
    text: `${rows.length} rows, step ${Charts.fmt(Math.min(...steps))} to ${Charts.fmt(Math.max(...steps))}` })));
  if (hidden || current.showBookkeeping) {
    section.append(el("label", { class: "muted small toggle", title: "counters, clocks and tallies of work: see docs/gallery.md" },
      el("input", { type: "checkbox", id: "bookkeeping", checked: current.showBookkeeping,
        onchange: (ev) => { current.showBookkeeping = ev.target.checked; drawPlots(section, current.rows); } }),
      ` show bookkeeping series${hidden ? ` (${hidden} hidden)` : ""}`));
  }
  if (rows.length === 1) {
    section.append(tiles(series.map(([k, , ys]) => [k, ys[0]])));
  } else {
    const s = current.info.summary || {};
    const marker = typeof s.transition_epoch === "number" ? s.transition_epoch : null;
    const colors = ["#2f6fdf", "#d9534f", "#2a9d6f", "#c98a12", "#8a5cd6", "#1f9bb3"];
    section.append(el("div", { class: "charts" }, series.map(([k, xs, ys], i) =>
      Charts.line({ title: k, xs, ys, color: colors[i % colors.length], marker }))));
  }
  if (constant.length) section.append(el("p", { class: "muted small" }, "Constant: ", constant.map(([k, v]) => `${k} = ${value(v)}`).join(", ")));
}

async function refreshInfo(page) {
  let info;
  try {
    info = await api(`/api/runs/${encodeURIComponent(current.id)}`);
  } catch (e) { return; }
  const changed = info.files.length !== current.files.size || info.files.some((f) => current.files.get(f.path) !== f.mtime);
  current.info = info;
  drawRunHead(page, info);
  drawSummary(document.getElementById("summary"), info);
  if (changed) {
    current.files = new Map(info.files.map((f) => [f.path, f.mtime]));
    drawMedia(document.getElementById("media"), info);
    drawSpecial(document.getElementById("special"), document.getElementById("census"), info).catch(() => {});
    drawWarriors(document.getElementById("warriors"), info).catch(() => {});
    drawRest(document.getElementById("rest"), info);
  }
  // One last look at the files has just been taken: a run that is no longer running stops the polls.
  if (info.status !== "running") stopLive();
}

route();
