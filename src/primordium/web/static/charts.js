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

  // One chart: xs ascending, ys numbers or null (a gap). Returns a <figure>.
  function line({ title, xs, ys, xLabel = "step", color = "#2f6fdf", width = 380, height = 210, marker = null }) {
    const fig = document.createElement("figure");
    fig.className = "chart";
    const cap = document.createElement("figcaption");
    const name = document.createElement("span");
    name.textContent = title;
    const readout = document.createElement("span");
    readout.className = "readout";
    cap.append(name, readout);
    fig.appendChild(cap);

    const finite = ys.filter((v) => v !== null && Number.isFinite(v));
    const svg = node("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": title });
    fig.appendChild(svg);
    if (!finite.length || !xs.length) {
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
    const x0 = xs[0], x1 = xs[xs.length - 1] === x0 ? x0 + 1 : xs[xs.length - 1];
    const W = width - PAD.left - PAD.right, H = height - PAD.top - PAD.bottom;
    const sx = (x) => PAD.left + ((x - x0) / (x1 - x0)) * W;
    const sy = (y) => PAD.top + (1 - (f(y) - lo) / (hi - lo)) * H;

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
    if (marker !== null && marker >= x0 && marker <= x1) {
      node("line", { x1: sx(marker), x2: sx(marker), y1: PAD.top, y2: PAD.top + H, class: "marker" }, svg);
    }

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
      if (y === null || !Number.isFinite(y) || (log && y <= 0)) { flush(); pen = false; continue; }
      const x = perPixel ? Math.round(sx(xs[i])) : sx(xs[i]);
      if (bucket && bucket.x === x) {
        bucket.min = Math.min(bucket.min, y); bucket.max = Math.max(bucket.max, y); bucket.last = y;
      } else {
        flush();
        bucket = { x, first: y, min: y, max: y, last: y };
      }
    }
    flush();
    node("path", { d, class: "series", stroke: color }, svg);
    if (finite.length <= 40) {
      // Few points: show each one, so a sparse series (one row per round) reads as data, not a guess.
      ys.forEach((v, i) => {
        if (v !== null && Number.isFinite(v) && !(log && v <= 0)) node("circle", { cx: sx(xs[i]), cy: sy(v), r: 2.5, fill: color }, svg);
      });
    }

    // Hover: the nearest row's value.
    const dot = node("circle", { r: 3.5, class: "hover", fill: color, visibility: "hidden" }, svg);
    const hit = node("rect", { x: PAD.left, y: PAD.top, width: W, height: H, class: "hit" }, svg);
    const last = ys.length - 1;
    const show = (i) => {
      readout.textContent = `${xLabel} ${fmt(xs[i])}: ${fmt(ys[i])}`;
      if (ys[i] !== null && Number.isFinite(ys[i]) && !(log && ys[i] <= 0)) {
        dot.setAttribute("cx", sx(xs[i])); dot.setAttribute("cy", sy(ys[i])); dot.setAttribute("visibility", "visible");
      } else dot.setAttribute("visibility", "hidden");
    };
    hit.addEventListener("mousemove", (ev) => {
      const r = svg.getBoundingClientRect();
      const x = x0 + ((ev.clientX - r.left) * (width / r.width) - PAD.left) / W * (x1 - x0);
      show(nearest(xs, x));
    });
    hit.addEventListener("mouseleave", () => { dot.setAttribute("visibility", "hidden"); readout.textContent = `last ${fmt(ys[last])}`; });
    readout.textContent = `last ${fmt(ys[last])}`;
    return fig;
  }

  return { line, fmt };
})();
