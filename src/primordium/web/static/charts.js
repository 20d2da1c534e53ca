// Small SVG line charts drawn from metric rows: no library, works offline.
"use strict";

window.Charts = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const PAD = { left: 52, right: 12, top: 10, bottom: 26 };

  function node(tag, attrs, parent) {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (parent) parent.appendChild(e);
    return e;
  }

  // Round steps (1, 2, 5 x 10^k) so axis labels read well.
  function ticks(lo, hi, count) {
    if (!(hi > lo)) return [lo];
    const raw = (hi - lo) / Math.max(1, count);
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    return out;
  }

  // Tick labels: as many decimals as the tick step needs, no more.
  function tickFmt(v, step) {
    const a = Math.abs(v);
    if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(1);
    const dec = step > 0 ? Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9))) : 0;
    return v.toLocaleString("en-US", { minimumFractionDigits: dec, maximumFractionDigits: dec });
  }

  function fmt(v) {
    if (v === null || v === undefined || Number.isNaN(v)) return "–";
    const a = Math.abs(v);
    if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(2);
    if (Number.isInteger(v)) return v.toLocaleString("en-US");
    return v.toFixed(a >= 100 ? 1 : a >= 1 ? 3 : 4);
  }

  // Nearest index in sorted xs (binary search).
  function nearest(xs, x) {
    let lo = 0, hi = xs.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (xs[mid] < x) lo = mid; else hi = mid;
    }
    return Math.abs(xs[lo] - x) <= Math.abs(xs[hi] - x) ? lo : hi;
  }

  // One chart of one series: xs ascending, ys numbers or null (a gap). Returns a <figure>.
  function line({ title, xs, ys, xLabel = "step", color = "#2f6fdf", width = 380, height = 210, marker = null }) {
    return plot({ title, xLabel, width, height, marker, series: [{ label: title, xs, ys, color }] });
  }

  // Several series over one x-axis (runs compared); with more than one, a legend names them
  // and hover reads every series at the nearest x of each.
  function plot({ title, series, xLabel = "step", width = 380, height = 210, marker = null }) {
    const fig = document.createElement("figure");
    fig.className = "chart";
    const cap = document.createElement("figcaption");
    const name = document.createElement("span");
    name.textContent = title;
    const readout = document.createElement("span");
    readout.className = "readout";
    cap.append(name, readout);
    fig.appendChild(cap);

    const usable = (v) => v !== null && Number.isFinite(v);
    const finite = series.flatMap((s) => s.ys.filter(usable));
    const allX = series.flatMap((s) => s.xs.filter(Number.isFinite));
    const svg = node("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": title });
    fig.appendChild(svg);
    const many = series.length > 1;
    const legend = many ? document.createElement("ul") : null;
    if (!finite.length || !allX.length) {
      node("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "empty" }, svg).textContent = "no values";
      return fig;
    }
    let ymin = Math.min(...finite), ymax = Math.max(...finite);
    const log = ymin > 0 && ymax / ymin > 1e3;
    const f = log ? Math.log10 : (v) => v;
    let lo = f(ymin), hi = f(ymax);
    if (hi === lo) { lo -= Math.abs(lo) * 0.1 || 1; hi += Math.abs(hi) * 0.1 || 1; }
    const pad = (hi - lo) * 0.06;
    lo -= pad; hi += pad;
    const x0 = Math.min(...allX), xmax = Math.max(...allX), x1 = xmax === x0 ? x0 + 1 : xmax;
    const W = width - PAD.left - PAD.right, H = height - PAD.top - PAD.bottom;
    const sx = (x) => PAD.left + ((x - x0) / (x1 - x0)) * W;
    const sy = (y) => PAD.top + (1 - (f(y) - lo) / (hi - lo)) * H;
    const drawable = (y) => usable(y) && !(log && y <= 0);

    // Grid and labels.
    const yt = log ? ticks(Math.ceil(lo), Math.floor(hi), 4).map((e) => Math.pow(10, e)) : ticks(lo, hi, 4);
    const ystep = yt.length > 1 ? yt[1] - yt[0] : 0;
    for (const v of yt) {
      const y = sy(v);
      if (y < PAD.top - 0.5 || y > PAD.top + H + 0.5) continue;
      node("line", { x1: PAD.left, x2: PAD.left + W, y1: y, y2: y, class: "grid" }, svg);
      node("text", { x: PAD.left - 6, y: y + 4, "text-anchor": "end", class: "tick" }, svg).textContent = log ? fmt(v) : tickFmt(v, ystep);
    }
    const xt = ticks(x0, x1, 4);
    for (const v of xt) {
      const x = sx(v);
      node("text", { x, y: height - 8, "text-anchor": "middle", class: "tick" }, svg).textContent = tickFmt(v, xt.length > 1 ? xt[1] - xt[0] : 0);
    }
    node("rect", { x: PAD.left, y: PAD.top, width: W, height: H, class: "frame" }, svg);
    if (log) node("text", { x: PAD.left + 4, y: PAD.top + 12, class: "axis" }, svg).textContent = "log scale";
    if (many) node("text", { x: PAD.left + W, y: height - 8 - 12, "text-anchor": "end", class: "axis" }, svg).textContent = xLabel;
    if (marker !== null && marker >= x0 && marker <= x1) {
      node("line", { x1: sx(marker), x2: sx(marker), y1: PAD.top, y2: PAD.top + H, class: "marker" }, svg);
    }

    const dots = [], values = [];
    for (const s of series) {
      const { xs, ys, color } = s;
      // The line: many points are thinned to a min and a max per pixel column.
      const perPixel = xs.length > 2 * W;
      let d = "", pen = false, bucket = null;
      const flush = () => {
        if (!bucket) return;
        d += `${pen ? "L" : "M"}${bucket.x.toFixed(1)},${sy(bucket.first).toFixed(1)}`;
        pen = true;
        if (bucket.min !== bucket.first) d += `L${bucket.x.toFixed(1)},${sy(bucket.min).toFixed(1)}`;
        if (bucket.max !== bucket.min) d += `L${bucket.x.toFixed(1)},${sy(bucket.max).toFixed(1)}`;
        if (bucket.last !== bucket.max) d += `L${bucket.x.toFixed(1)},${sy(bucket.last).toFixed(1)}`;
        bucket = null;
      };
      for (let i = 0; i < xs.length; i++) {
        const y = ys[i];
        if (!drawable(y)) { flush(); pen = false; continue; }
        const x = perPixel ? Math.round(sx(xs[i])) : sx(xs[i]);
        if (bucket && bucket.x === x) {
          bucket.min = Math.min(bucket.min, y); bucket.max = Math.max(bucket.max, y); bucket.last = y;
        } else {
          flush();
          bucket = { x, first: y, min: y, max: y, last: y };
        }
      }
      flush();
      const path = node("path", { d, class: "series", stroke: color }, svg);
      if (s.id) path.setAttribute("data-run", s.id);
      if (ys.filter(usable).length <= 40) {
        // Few points: show each one, so a sparse series (one row per round) reads as data, not a guess.
        ys.forEach((v, i) => { if (drawable(v)) node("circle", { cx: sx(xs[i]), cy: sy(v), r: 2.5, fill: color }, svg); });
      }
      dots.push(node("circle", { r: 3.5, class: "hover", fill: color, visibility: "hidden" }, svg));
      if (many) {
        const value = document.createElement("span");
        value.className = "value";
        const item = document.createElement("li");
        if (s.id) item.setAttribute("data-run", s.id);
        const swatch = document.createElement("i");
        swatch.style.background = color;
        const label = s.href ? document.createElement("a") : document.createElement("span");
        if (s.href) label.href = s.href;
        label.textContent = s.label;
        item.append(swatch, label, value);
        legend.appendChild(item);
        values.push(value);
      }
    }

    // Hover: each series' value at the row nearest the pointer.
    const hit = node("rect", { x: PAD.left, y: PAD.top, width: W, height: H, class: "hit" }, svg);
    const lastText = (s) => (s.ys.length ? fmt(s.ys[s.ys.length - 1]) : "–");
    const rest = () => {
      dots.forEach((d) => d.setAttribute("visibility", "hidden"));
      if (many) { readout.textContent = ""; series.forEach((s, k) => { values[k].textContent = `last ${lastText(s)}`; }); }
      else readout.textContent = `last ${lastText(series[0])}`;
    };
    hit.addEventListener("mousemove", (ev) => {
      const r = svg.getBoundingClientRect();
      const x = x0 + ((ev.clientX - r.left) * (width / r.width) - PAD.left) / W * (x1 - x0);
      series.forEach((s, k) => {
        if (!s.xs.length) return;
        const i = nearest(s.xs, x);
        if (drawable(s.ys[i])) {
          dots[k].setAttribute("cx", sx(s.xs[i])); dots[k].setAttribute("cy", sy(s.ys[i])); dots[k].setAttribute("visibility", "visible");
        } else dots[k].setAttribute("visibility", "hidden");
        const text = `${xLabel} ${fmt(s.xs[i])}: ${fmt(s.ys[i])}`;
        if (many) values[k].textContent = text; else readout.textContent = text;
      });
    });
    hit.addEventListener("mouseleave", rest);
    rest();
    if (legend) { legend.className = "legend"; fig.appendChild(legend); }
    return fig;
  }

  return { line, plot, fmt };
})();
