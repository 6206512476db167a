// The script of the photofinish HTML report.
//
// It decodes the page data (the encoding is described in crates/report/src/data.rs), draws the
// timeline on a canvas — only the lanes and operations in view, so that 10^5 operations stay
// responsive — fills the counterexample and details panels, and charts the run statistics.
// Everything that comes from the history reaches the page through textContent or canvas text,
// never as markup.
'use strict';
(function () {
  const DATA = JSON.parse(document.getElementById('photofinish-data').textContent);
  const S = DATA.strings;
  const REPORT = DATA.report;
  const FAILURES = REPORT ? REPORT.failures : [];

  const LANE_H = 20;
  const AXIS_H = 24;
  const GUTTER = 64;
  const MIN_VIEW_H = 140;
  const MAX_VIEW_H = 520;
  // How many of the last linearization steps the initial view makes room for, besides the
  // stuck and open operations: the whole prefix may reach far back.
  const FOCUS_STEPS = 8;
  const FILL = { o: '#9bd4a5', f: '#f1a9a9', i: '#f7d98b', p: '#f7d98b' };
  const EDGE = { o: '#3f8f4f', f: '#b84a4a', i: '#b8902a', p: '#b8902a' };
  const MARK = { stuck: '#d0021b', concurrent: '#e67e00', step: '#1f5fd1' };
  const NEMESIS_FILL = 'rgba(140, 90, 200, 0.16)';
  const STALL_FILL = 'rgba(208, 2, 27, 0.13)';
  // The nemesis functions a run records stalls with: shaded as stalls, not as faults.
  const STALL_EVENTS = new Set(['start-stall', 'stop-stall']);
  const OUTCOME = {
    o: 'ok',
    f: 'fail (did not take effect)',
    i: 'info (indeterminate: may take effect until the end)',
    p: 'never completed (indeterminate: may take effect until the end)',
  };
  // Nemesis functions that end a fault; any other function starts one.
  const HEALING = /^(stop|heal|recover|resume|repair|fix|end)/i;

  const $ = (id) => document.getElementById(id);
  const el = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  };

  // ---- Decoding ----------------------------------------------------------------------------

  function decode(o) {
    const n = o.p.length;
    const ops = {
      n,
      lane: Int32Array.from(o.p),
      outcome: o.o,
      start: new Float64Array(n),
      end: new Float64Array(n),
      tStart: new Float64Array(n).fill(NaN),
      tEnd: new Float64Array(n).fill(NaN),
      part: o.k ? Int32Array.from(o.k) : null,
      error: new Map(),
      timed: false,
    };
    let at = 0;
    for (let i = 0; i < n; i++) {
      at += o.s[i];
      ops.start[i] = at;
      ops.end[i] = o.d[i] === null ? NaN : at + o.d[i];
    }
    if (o.t) {
      let t = 0;
      for (let i = 0; i < n; i++) {
        if (o.t[i] === null) continue;
        t += o.t[i];
        ops.tStart[i] = t;
        ops.timed = true;
        if (o.l[i] !== null) ops.tEnd[i] = t + o.l[i];
      }
    }
    if (o.e) for (let j = 0; j < o.e.length; j += 2) ops.error.set(o.e[j], o.e[j + 1]);
    return ops;
  }

  const ops = decode(DATA.ops);
  const f = (id) => S[DATA.ops.f[id]];
  const value = (id) => S[DATA.ops.v[id]];
  const result = (id) => S[DATA.ops.r[id]];
  const proc = (id) => DATA.procs[ops.lane[id]];
  const indeterminate = (id) => ops.outcome[id] === 'i' || ops.outcome[id] === 'p';
  const keyText = (part) => S[DATA.keys[part]];

  function lineOf(event) {
    const runs = DATA.lines;
    if (!runs.length) return event + 1;
    let lo = 0;
    let hi = runs.length / 2 - 1;
    let best = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (runs[2 * mid] <= event) {
        best = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return event + runs[2 * best + 1];
  }

  let tMin = Infinity;
  let tMax = -Infinity;
  for (let i = 0; i < ops.n; i++) {
    for (const t of [ops.tStart[i], ops.tEnd[i]]) {
      if (!isNaN(t)) {
        tMin = Math.min(tMin, t);
        tMax = Math.max(tMax, t);
      }
    }
  }
  for (const n of DATA.nemesis) {
    if (n[4] !== null) {
      tMin = Math.min(tMin, n[4]);
      tMax = Math.max(tMax, n[4]);
    }
  }
  if (!(tMax > tMin)) tMax = tMin + 1;

  // ---- Formatting --------------------------------------------------------------------------

  function duration(ns) {
    const a = Math.abs(ns);
    if (a < 1e3) return ns.toFixed(0) + ' ns';
    if (a < 1e6) return (ns / 1e3).toFixed(a < 1e4 ? 2 : 1) + ' µs';
    if (a < 1e9) return (ns / 1e6).toFixed(a < 1e7 ? 2 : 1) + ' ms';
    return (ns / 1e9).toFixed(a < 1e10 ? 3 : 2) + ' s';
  }
  const at = (ns) => 't0 + ' + duration(ns);

  function resultText(id) {
    switch (ops.outcome[id]) {
      case 'o': {
        const r = result(id);
        return r === 'null' || r === value(id) ? 'ok' : r;
      }
      case 'f':
        return 'fail';
      case 'i':
        return 'info';
      default:
        return 'never completed';
    }
  }

  function opText(id) {
    const v = value(id);
    return 'p' + proc(id) + ' ' + f(id) + (v === 'null' ? '' : ' ' + v) + ' → ' + resultText(id);
  }

  function truncate(text, max) {
    return text.length <= max ? text : text.slice(0, Math.max(0, max - 1)) + '…';
  }

  // ---- State -------------------------------------------------------------------------------

  const failureOf = new Map();
  for (const failure of FAILURES) {
    const part = failure.partition === null ? -1 : failure.partition;
    if (!failureOf.has(part)) failureOf.set(part, failure);
  }

  const state = {
    part: FAILURES.length && FAILURES[0].partition !== null ? FAILURES[0].partition : -1,
    mode: 'event',
    failure: null,
    // Operation id -> its role in the counterexample: { role, index }.
    highlight: new Map(),
    selected: -1,
    dim: true,
  };
  const view = { x0: 0, x1: 1 };
  let lanes = [];
  const laneIndex = new Map();
  let readyMs = null;

  const startOf = (id) => (state.mode === 'time' ? ops.tStart[id] : ops.start[id]);
  function solidEnd(id) {
    const e = state.mode === 'time' ? ops.tEnd[id] : ops.end[id];
    return isNaN(e) ? startOf(id) : e;
  }
  const domain = () => (state.mode === 'time' ? [tMin, tMax] : [0, Math.max(1, DATA.events)]);
  const minSpan = () => (state.mode === 'time' ? Math.max(1000, (tMax - tMin) / 1e7) : 4);

  // ---- Lanes -------------------------------------------------------------------------------

  function inPartition(id) {
    return state.part < 0 || !ops.part || ops.part[id] === state.part;
  }

  // Groups the operations in view by process. A process has one operation open at a time, so
  // a lane's bars are in order and a running maximum of their ends lets a binary search find
  // the first bar in view.
  function buildLanes() {
    const byLane = new Map();
    for (let id = 0; id < ops.n; id++) {
      if (!inPartition(id)) continue;
      if (state.mode === 'time' && isNaN(ops.tStart[id])) continue;
      let list = byLane.get(ops.lane[id]);
      if (!list) byLane.set(ops.lane[id], (list = []));
      list.push(id);
    }
    lanes = Array.from(byLane.keys())
      .sort((a, b) => a - b)
      .map((lane) => {
        const ids = Int32Array.from(byLane.get(lane));
        const maxEnd = new Float64Array(ids.length);
        let m = -Infinity;
        for (let k = 0; k < ids.length; k++) {
          m = Math.max(m, solidEnd(ids[k]));
          maxEnd[k] = m;
        }
        return { lane, ids, maxEnd, tails: Array.from(ids).filter(indeterminate) };
      });
    laneIndex.clear();
    lanes.forEach((l, i) => laneIndex.set(l.lane, i));
  }

  function lowerBound(sorted, x) {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  // ---- Nemesis windows ---------------------------------------------------------------------

  // A fault window runs from a nemesis event that starts a fault to the last of the events
  // that end it (a Jepsen nemesis logs an invocation and a completion for each).
  function nemesisWindows() {
    const windows = [];
    let open = null;
    let healing = false;
    for (const [, fn, , eventAt, time] of DATA.nemesis) {
      const name = S[fn];
      if (STALL_EVENTS.has(name)) continue;
      if (HEALING.test(name)) {
        if (open) {
          open.e1 = eventAt;
          open.t1 = time;
          windows.push(open);
          open = null;
        } else if (healing && windows.length) {
          const last = windows[windows.length - 1];
          last.e1 = eventAt;
          if (time !== null) last.t1 = time;
        }
        healing = true;
      } else {
        healing = false;
        if (!open) open = { e0: eventAt, t0: time, e1: null, t1: null, label: name };
        else if (!open.label.split('/').includes(name)) open.label += '/' + name;
      }
    }
    if (open) {
      open.e1 = DATA.events;
      windows.push(open);
    }
    for (const w of windows) w.fill = NEMESIS_FILL;
    return windows;
  }
  // A stall: from the last answer (or the first invocation after it) to the next answer, or to
  // the end of the history when it ended stalled.
  function stallWindows() {
    return (DATA.stalls || []).map(([t0, t1, e0, e1, text]) => ({
      e0, t0: DATA.t0 === undefined ? null : t0,
      e1: e1 === null ? DATA.events : e1,
      t1: DATA.t0 === undefined ? null : t1,
      label: 'stall', text: S[text], fill: STALL_FILL,
    }));
  }
  const STALLS = stallWindows();
  const WINDOWS = nemesisWindows().concat(STALLS);

  function windowSpan(w) {
    if (state.mode === 'time') {
      if (w.t0 === null) return null;
      return [w.t0, w.t1 === null ? tMax : w.t1];
    }
    return [w.e0, w.e1];
  }

  // ---- Timeline ----------------------------------------------------------------------------

  const scroller = $('lanes-scroll');
  const spacer = $('lanes-spacer');
  const canvas = $('timeline');
  const ctx = canvas.getContext('2d');
  const tooltip = $('tooltip');
  let scheduled = false;

  function viewHeight() {
    const content = AXIS_H + lanes.length * LANE_H + 4;
    return Math.max(MIN_VIEW_H, Math.min(MAX_VIEW_H, content));
  }

  function resize() {
    const h = viewHeight();
    const content = AXIS_H + lanes.length * LANE_H + 4;
    scroller.style.height = h + 'px';
    canvas.style.height = h + 'px';
    spacer.style.height = Math.max(0, content - h) + 'px';
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.max(1, Math.round(canvas.clientWidth * dpr));
    canvas.height = Math.max(1, Math.round(h * dpr));
    draw();
  }

  function schedule() {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      draw();
    });
  }

  const plotWidth = () => Math.max(10, canvas.clientWidth - GUTTER);
  const scale = () => plotWidth() / (view.x1 - view.x0);
  const toX = (v) => GUTTER + (v - view.x0) * scale();

  function clampView() {
    const [d0, d1] = domain();
    const full = (d1 - d0) * 1.1 || 1;
    const span = Math.min(Math.max(view.x1 - view.x0, minSpan()), full);
    let x0 = view.x0;
    const margin = (d1 - d0) * 0.05;
    x0 = Math.min(Math.max(x0, d0 - margin), d1 + margin - span);
    if (span >= full) x0 = d0 - margin;
    view.x0 = x0;
    view.x1 = x0 + span;
  }

  function fit() {
    const [d0, d1] = domain();
    const margin = (d1 - d0) * 0.02;
    view.x0 = d0 - margin;
    view.x1 = d1 + margin;
    clampView();
    schedule();
  }

  function zoomAt(center, factor) {
    view.x0 = center - (center - view.x0) * factor;
    view.x1 = center + (view.x1 - center) * factor;
    clampView();
    schedule();
  }

  function pan(fraction) {
    const d = (view.x1 - view.x0) * fraction;
    view.x0 += d;
    view.x1 += d;
    clampView();
    schedule();
  }

  function niceStep(raw) {
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    const m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }

  function ticks(a, b, pixels, integer) {
    let step = niceStep(Math.max((b - a) / Math.max(1, pixels / 90), 1e-9));
    if (integer) step = Math.max(1, Math.round(step));
    const out = [];
    for (let v = Math.ceil(a / step) * step; v <= b && out.length < 200; v += step) out.push(v);
    return out;
  }

  const tickLabel = (v) => (state.mode === 'time' ? duration(v - tMin) : String(Math.round(v)));

  function draw() {
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth;
    const h = canvas.clientHeight;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    const top = scroller.scrollTop;
    const plotW = plotWidth();
    const k = scale();
    const X = (v) => GUTTER + (v - view.x0) * k;
    const first = Math.max(0, Math.floor(top / LANE_H));
    const last = Math.min(lanes.length - 1, Math.floor((top + h - AXIS_H) / LANE_H));
    const [, domainEnd] = domain();

    ctx.save();
    ctx.beginPath();
    ctx.rect(GUTTER, AXIS_H, plotW, h - AXIS_H);
    ctx.clip();
    for (let li = first; li <= last; li++) {
      if (li % 2) {
        ctx.fillStyle = '#f5f6f8';
        ctx.fillRect(GUTTER, AXIS_H + li * LANE_H - top, plotW, LANE_H);
      }
    }
    const grid = ticks(view.x0, view.x1, plotW, state.mode === 'event');
    ctx.fillStyle = '#e6e9ed';
    for (const v of grid) ctx.fillRect(Math.round(X(v)), AXIS_H, 1, h - AXIS_H);
    for (const win of WINDOWS) {
      const span = windowSpan(win);
      if (!span) continue;
      const a = X(span[0]);
      ctx.fillStyle = win.fill;
      ctx.fillRect(a, AXIS_H, Math.max(2, X(span[1]) - a), h - AXIS_H);
    }

    const dimOthers = state.failure !== null && state.dim;
    const marked = [];
    const barH = LANE_H - 6;
    for (let li = first; li <= last; li++) {
      const lane = lanes[li];
      const y = AXIS_H + li * LANE_H - top + 3;
      for (const id of lane.tails) {
        if (startOf(id) > view.x1) continue;
        const a = X(Math.max(solidEnd(id), view.x0 - 1 / k));
        ctx.globalAlpha = dimOthers && !state.highlight.has(id) ? 0.25 : 0.6;
        ctx.fillStyle = FILL.i;
        ctx.fillRect(a, y + barH / 2 - 2, X(domainEnd) - a, 4);
      }
      let lastPx = -Infinity;
      for (let j = lowerBound(lane.maxEnd, view.x0); j < lane.ids.length; j++) {
        const id = lane.ids[j];
        const s = startOf(id);
        if (s > view.x1) break;
        const special = state.highlight.has(id) || id === state.selected;
        if (special) marked.push(id);
        const xs = X(s);
        const xe = Math.max(X(solidEnd(id)), xs + 2);
        // A bar that ends within the pixel already painted in this lane adds nothing.
        if (!special && Math.floor(xe) <= lastPx) continue;
        lastPx = Math.max(lastPx, Math.floor(xe));
        const o = ops.outcome[id];
        ctx.globalAlpha = dimOthers && !state.highlight.has(id) ? 0.3 : 1;
        ctx.fillStyle = FILL[o];
        ctx.fillRect(xs, y, xe - xs, barH);
        if (xe - xs > 5) {
          ctx.strokeStyle = EDGE[o];
          ctx.lineWidth = 1;
          ctx.strokeRect(xs + 0.5, y + 0.5, xe - xs - 1, barH - 1);
        }
        if (xe - xs > 44) {
          ctx.fillStyle = '#1d2228';
          const label = f(id) + ' ' + value(id) + ' → ' + resultText(id);
          ctx.fillText(truncate(label, Math.floor((xe - xs - 8) / 6)), Math.max(xs, GUTTER) + 4, y + barH / 2);
        }
      }
    }
    ctx.globalAlpha = 1;
    for (const id of marked) drawMark(id, X, top, barH);
    ctx.restore();

    // Axis band and lane labels, over the bars.
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, w, AXIS_H);
    ctx.fillRect(0, AXIS_H, GUTTER, h - AXIS_H);
    ctx.fillStyle = '#d8dde3';
    ctx.fillRect(0, AXIS_H - 1, w, 1);
    ctx.fillRect(GUTTER - 1, 0, 1, h);
    ctx.fillStyle = '#636b74';
    ctx.textAlign = 'center';
    for (const v of grid) {
      const x = X(v);
      if (x > GUTTER + 20 && x < w - 20) ctx.fillText(tickLabel(v), x, AXIS_H / 2);
    }
    ctx.textAlign = 'left';
    ctx.fillText(state.mode === 'time' ? 'time' : 'event', 6, AXIS_H / 2);
    ctx.fillStyle = 'rgba(110, 60, 170, 0.9)';
    for (const win of WINDOWS) {
      const span = windowSpan(win);
      if (!span) continue;
      const x = X(span[0]);
      if (x >= GUTTER && x < w - 30) ctx.fillText(truncate(win.label, 16), x + 2, AXIS_H - 6);
    }
    ctx.fillStyle = '#1d2228';
    ctx.textAlign = 'right';
    for (let li = first; li <= last; li++) {
      ctx.fillText('p' + DATA.procs[lanes[li].lane], GUTTER - 8, AXIS_H + li * LANE_H - top + LANE_H / 2);
    }
    ctx.textAlign = 'left';
  }

  function drawMark(id, X, top, barH) {
    const li = laneIndex.get(ops.lane[id]);
    if (li === undefined) return;
    const y = AXIS_H + li * LANE_H - top + 3;
    const xs = X(startOf(id));
    const xe = Math.max(X(solidEnd(id)), xs + 2);
    const mark = state.highlight.get(id);
    if (mark) {
      ctx.strokeStyle = MARK[mark.role];
      ctx.lineWidth = mark.role === 'stuck' ? 3 : 2;
      ctx.strokeRect(xs - 1, y - 1, xe - xs + 2, barH + 2);
      // Steps are numbered at the bar's start; the stuck operation is labelled beside its bar,
      // which is often too short to hold a label without hiding it.
      const label = mark.role === 'stuck' ? '✖ stuck' : mark.role === 'step' ? String(mark.index) : '';
      if (label) {
        const tw = ctx.measureText(label).width + 6;
        let lx = xs - 1;
        if (mark.role === 'stuck') lx = xe + 3 + tw < canvas.clientWidth ? xe + 3 : xs - 3 - tw;
        ctx.fillStyle = MARK[mark.role];
        ctx.fillRect(lx, y - 1, tw, barH + 2);
        ctx.fillStyle = '#ffffff';
        ctx.fillText(label, lx + 3, y + barH / 2);
      }
    }
    if (id === state.selected) {
      ctx.strokeStyle = '#000000';
      ctx.lineWidth = 1.5;
      ctx.setLineDash([4, 2]);
      ctx.strokeRect(xs - 3, y - 3, xe - xs + 6, barH + 6);
      ctx.setLineDash([]);
    }
  }

  function hit(mx, my) {
    if (mx < GUTTER || my < AXIS_H) return -1;
    const li = Math.floor((my - AXIS_H + scroller.scrollTop) / LANE_H);
    if (li < 0 || li >= lanes.length) return -1;
    const lane = lanes[li];
    const k = scale();
    const v = view.x0 + (mx - GUTTER) / k;
    const tolerance = 3 / k;
    let found = -1;
    for (let j = lowerBound(lane.maxEnd, v - tolerance); j < lane.ids.length; j++) {
      const id = lane.ids[j];
      const s = startOf(id);
      if (s > v + tolerance) break;
      if (v <= Math.max(solidEnd(id), s + 2 / k) + tolerance) found = id;
    }
    if (found >= 0) return found;
    for (const id of lane.tails) if (v >= startOf(id)) found = id;
    return found;
  }

  function centerOn(id) {
    if (!inPartition(id)) setPartition(ops.part ? ops.part[id] : -1, false);
    if (state.mode === 'time' && isNaN(ops.tStart[id])) setMode('event');
    const s = startOf(id);
    const e = solidEnd(id);
    const span = view.x1 - view.x0;
    if (s < view.x0 || e > view.x1 || e - s > span) {
      const width = Math.max(span, (e - s) * 1.4);
      view.x0 = (s + e) / 2 - width / 2;
      view.x1 = view.x0 + width;
      clampView();
    }
    const li = laneIndex.get(ops.lane[id]);
    const visible = scroller.clientHeight - AXIS_H;
    const y = li * LANE_H;
    if (y < scroller.scrollTop || y + LANE_H > scroller.scrollTop + visible) {
      scroller.scrollTop = Math.max(0, y - visible / 2);
    }
    schedule();
  }

  // Where a bar is on the screen (client coordinates of its middle), or null when it is not in
  // view: for tests that hover and click it as a person would.
  function locate(id) {
    const li = laneIndex.get(ops.lane[id]);
    if (li === undefined || !inPartition(id)) return null;
    const xs = toX(startOf(id));
    const xe = Math.max(toX(solidEnd(id)), xs + 2);
    const x = (Math.max(xs, GUTTER) + Math.min(xe, canvas.clientWidth)) / 2;
    const y = AXIS_H + li * LANE_H - scroller.scrollTop + LANE_H / 2;
    if (x < GUTTER || x > canvas.clientWidth || y < AXIS_H || y > canvas.clientHeight) return null;
    const r = canvas.getBoundingClientRect();
    return { x: r.left + x, y: r.top + y };
  }

  // ---- Details -----------------------------------------------------------------------------

  function roleText(id) {
    const mark = state.highlight.get(id);
    if (!mark) return null;
    if (mark.role === 'stuck') return 'could not be placed: no order of the open operations lets it take effect';
    if (mark.role === 'concurrent') return 'open when the stuck operation returned';
    return 'step ' + mark.index + ' of ' + state.failure.prefix_len + '; state after it: ' + S[mark.state];
  }

  function detailRows(id) {
    const rows = [
      ['operation', '#' + id],
      ['process', String(proc(id))],
      ['f', f(id)],
    ];
    if (ops.part) rows.push(['key', keyText(ops.part[id])]);
    rows.push(['value', value(id)]);
    rows.push(['result', ops.outcome[id] === 'p' ? '(none)' : result(id)]);
    rows.push(['outcome', OUTCOME[ops.outcome[id]]]);
    const invoked = ops.start[id];
    const completed = ops.end[id];
    if (isNaN(completed)) {
      rows.push(['line', lineOf(invoked) + ' (invocation; no completion)']);
      rows.push(['events', invoked + ' – end']);
    } else {
      rows.push(['lines', lineOf(invoked) + ' – ' + lineOf(completed)]);
      rows.push(['events', invoked + ' – ' + completed]);
    }
    if (!isNaN(ops.tStart[id])) rows.push(['invoked', at(ops.tStart[id])]);
    if (!isNaN(ops.tEnd[id])) {
      rows.push(['completed', at(ops.tEnd[id])]);
      rows.push(['latency', duration(ops.tEnd[id] - ops.tStart[id])]);
    }
    if (ops.error.has(id)) rows.push(['error', S[ops.error.get(id)]]);
    const role = roleText(id);
    if (role) rows.push(['counterexample', role]);
    return rows;
  }

  function fillDetails(dl, id) {
    dl.replaceChildren();
    for (const [name, text] of detailRows(id)) dl.append(el('dt', '', name), el('dd', '', text));
  }

  function select(id) {
    state.selected = id;
    $('details-empty').hidden = id >= 0;
    const list = $('details-list');
    if (id >= 0) fillDetails(list, id);
    else list.replaceChildren();
    for (const li of document.querySelectorAll('.ops li')) {
      li.classList.toggle('selected', Number(li.dataset.op) === id);
    }
    schedule();
  }

  function showTooltip(id, clientX, clientY) {
    if (id < 0) {
      tooltip.hidden = true;
      return;
    }
    const dl = el('dl');
    fillDetails(dl, id);
    tooltip.replaceChildren(dl);
    tooltip.hidden = false;
    const r = tooltip.getBoundingClientRect();
    const x = clientX + 14 + r.width > window.innerWidth ? clientX - 14 - r.width : clientX + 14;
    const y = clientY + 14 + r.height > window.innerHeight ? clientY - 14 - r.height : clientY + 14;
    tooltip.style.left = Math.max(0, x) + 'px';
    tooltip.style.top = Math.max(0, y) + 'px';
  }

  // ---- Counterexample ----------------------------------------------------------------------

  function opItem(id, className) {
    const li = el('li', className);
    li.dataset.op = String(id);
    li.append(document.createTextNode(opText(id)));
    return li;
  }

  function setFailure(failure) {
    state.failure = failure;
    state.highlight = new Map();
    document.body.classList.toggle('has-cx', failure !== null);
    $('counterexample').hidden = failure === null;
    $('show-cx').disabled = failure === null;
    $('dim-label').hidden = failure === null;
    if (!failure) return;
    for (const id of failure.concurrent) state.highlight.set(id, { role: 'concurrent' });
    for (const [index, id, after] of failure.prefix) {
      state.highlight.set(id, { role: 'step', index, state: after });
    }
    if (failure.stuck !== null) state.highlight.set(failure.stuck, { role: 'stuck' });

    $('cx-key').textContent = failure.partition === null ? '' : '· key ' + keyText(failure.partition);
    $('cx-diagnosis').replaceChildren(
      ...failure.diagnosis.map(([message, lines]) =>
        el('li', '', message + (lines.length ? '  (lines ' + lines.join(', ') + ')' : ''))),
    );
    $('cx-witness-title').hidden = failure.witness.length === 0;
    $('cx-witness-title').textContent =
      (failure.witness.length === 1 ? 'This operation' : 'These ' + failure.witness.length + ' operations') +
      ' alone cannot be explained' +
      (failure.witness_minimal
        ? ' (without any one of them, the rest can)'
        : failure.witness_shrunk
          ? ' (shrinking stopped at its budget)'
          : ' (as the procedure that decided the history found them, not shrunk)');
    $('cx-witness').replaceChildren(...failure.witness.map((id) => opItem(id, 'witness')));
    $('cx-reason').textContent = failure.reason;
    const stuck = $('cx-stuck');
    stuck.replaceChildren();
    if (failure.stuck !== null) stuck.append(opItem(failure.stuck, 'stuck'));
    const states = $('cx-states');
    states.replaceChildren(...failure.possible.map((s) => el('li', '', S[s])));
    const concurrent = $('cx-concurrent');
    const open = failure.concurrent.slice().sort((a, b) => ops.start[a] - ops.start[b]);
    concurrent.replaceChildren(...open.map((id) => opItem(id, 'concurrent')));
    $('cx-concurrent-title').textContent = 'Open at that moment (' + open.length + ')';
    const prefix = $('cx-prefix');
    prefix.replaceChildren();
    for (const [index, id, after] of failure.prefix) {
      const li = opItem(id, 'step');
      li.dataset.index = String(index);
      li.prepend(el('span', 'num', index + '.'));
      li.append(el('span', 'state', 'state after: ' + S[after]));
      prefix.append(li);
    }
    const shown = failure.prefix.length;
    $('cx-prefix-title').textContent =
      'Longest linearization: ' + failure.prefix_len + ' operations' +
      (shown < failure.prefix_len ? ', the last ' + shown + ' shown' : '');
  }

  function focusFailure() {
    const failure = state.failure;
    if (!failure) return fit();
    const ids = failure.concurrent.concat(failure.prefix.slice(-FOCUS_STEPS).map((s) => s[1]));
    if (failure.stuck !== null) ids.push(failure.stuck);
    let a = Infinity;
    let b = -Infinity;
    for (const id of ids) {
      if (!inPartition(id) || (state.mode === 'time' && isNaN(ops.tStart[id]))) continue;
      a = Math.min(a, startOf(id));
      b = Math.max(b, solidEnd(id));
    }
    if (!isFinite(a)) return fit();
    const pad = Math.max((b - a) * 0.08, minSpan());
    view.x0 = a - pad;
    view.x1 = b + pad;
    clampView();
    const target = failure.stuck !== null ? laneIndex.get(ops.lane[failure.stuck]) : undefined;
    if (target !== undefined) {
      scroller.scrollTop = Math.max(0, target * LANE_H - (scroller.clientHeight - AXIS_H) / 2);
    }
    schedule();
  }

  // ---- Partition and axis ------------------------------------------------------------------

  function setPartition(part, focus) {
    state.part = part;
    $('partition').value = String(part);
    const failure = failureOf.get(part) || (part < 0 && FAILURES.length ? FAILURES[0] : null);
    setFailure(failure || null);
    buildLanes();
    resize();
    if (focus) focusFailure();
  }

  function setMode(mode) {
    state.mode = mode;
    $('axis').value = mode;
    buildLanes();
    resize();
    focusFailure();
  }

  function fillPartitions() {
    const select = $('partition');
    const counts = new Map();
    if (ops.part) for (let i = 0; i < ops.n; i++) counts.set(ops.part[i], (counts.get(ops.part[i]) || 0) + 1);
    const undecided = new Set(REPORT ? REPORT.undecided.map((u) => u[0]) : []);
    const all = el('option', '', 'all operations (' + ops.n + ')');
    all.value = '-1';
    select.append(all);
    DATA.keys.forEach((_, part) => {
      let label = 'key ' + truncate(keyText(part), 60) + ' (' + (counts.get(part) || 0) + ')';
      if (failureOf.has(part)) label += ' · not linearizable';
      else if (undecided.has(part)) label += ' · undecided';
      const option = el('option', '', label);
      option.value = String(part);
      select.append(option);
    });
    $('partition-label').hidden = DATA.keys.length === 0;
  }

  // ---- Header ------------------------------------------------------------------------------

  function fillHeader() {
    $('title').textContent = DATA.title;
    const verdict = $('verdict');
    if (!REPORT) {
      verdict.textContent = 'No model checked: the timeline and statistics only';
      verdict.classList.add('none');
    } else if (REPORT.verdict === 'valid') {
      verdict.textContent = 'VALID: linearizable against ' + REPORT.model;
      verdict.classList.add('valid');
    } else if (REPORT.verdict === 'invalid') {
      verdict.textContent =
        'INVALID: not linearizable against ' + REPORT.model + ' · ' + FAILURES.length + ' of ' +
        REPORT.partitions + ' partition' + (REPORT.partitions === 1 ? '' : 's') + ' with no linearization';
      verdict.classList.add('invalid');
    } else if (REPORT.reason) {
      verdict.textContent = 'UNKNOWN: ' + REPORT.reason + ' (against ' + REPORT.model + ')';
      verdict.classList.add('unknown');
    } else {
      verdict.textContent =
        'UNKNOWN: not decided within the budget against ' + REPORT.model + ' · ' + REPORT.decided +
        ' of ' + REPORT.partitions + ' partitions decided';
      verdict.classList.add('unknown');
    }
    const parts = [
      ops.n + ' operations',
      DATA.procs.length + ' processes',
      DATA.events + ' events',
    ];
    if (DATA.keys.length) parts.push(DATA.keys.length + ' keys');
    if (DATA.nemesis.length) parts.push(DATA.nemesis.length + ' nemesis events');
    if (REPORT) {
      const [ok, failed, info] = REPORT.coverage;
      parts.push(ok + ' ok, ' + failed + ' failed, ' + info + ' indeterminate');
      parts.push('checked in ' + REPORT.elapsed_ms.toFixed(1) + ' ms (' + REPORT.configurations + ' configurations)');
    }
    if (DATA.t0 !== undefined) parts.push('t0 = ' + DATA.t0 + ' ns');
    $('summary').textContent = parts.join(' · ');
    const warnings = $('warnings');
    for (const w of DATA.warnings) warnings.append(el('li', '', w));
    if (REPORT) {
      for (const w of REPORT.warnings) warnings.append(el('li', '', w));
      for (const [part, reason] of REPORT.undecided) {
        warnings.append(el('li', '', 'undecided' + (part === null ? '' : ' (key ' + keyText(part) + ')') + ': ' + reason));
      }
    }
    document.body.classList.toggle('has-nemesis', WINDOWS.length > STALLS.length);
    document.body.classList.toggle('has-stall', STALLS.length > 0);
  }

  // ---- Statistics --------------------------------------------------------------------------

  function table(head, rows) {
    const t = el('table');
    const tr = el('tr');
    for (const h of head) tr.append(el('th', '', h));
    t.append(tr);
    for (const row of rows) {
      const r = el('tr');
      row.forEach((cell, i) => r.append(el('td', i > 0 && typeof cell === 'number' ? 'n' : '', String(cell))));
      t.append(r);
    }
    return t;
  }

  function fillCounts() {
    const total = { o: 0, f: 0, i: 0, p: 0 };
    const byF = new Map();
    const errors = new Map();
    for (let id = 0; id < ops.n; id++) {
      const o = ops.outcome[id];
      total[o]++;
      const name = f(id);
      if (!byF.has(name)) byF.set(name, { o: 0, f: 0, i: 0, p: 0 });
      byF.get(name)[o]++;
      if (ops.error.has(id)) {
        const e = S[ops.error.get(id)];
        errors.set(e, (errors.get(e) || 0) + 1);
      }
    }
    const counts = $('counts');
    counts.append(
      table(['outcome', 'operations'], [
        ['ok', total.o],
        ['fail', total.f],
        ['info (timeouts, indeterminate)', total.i],
        ['never completed', total.p],
      ]),
    );
    const fRows = Array.from(byF.entries())
      .sort((a, b) => b[1].o + b[1].f + b[1].i + b[1].p - (a[1].o + a[1].f + a[1].i + a[1].p))
      .slice(0, 12)
      .map(([name, c]) => [name, c.o, c.f, c.i, c.p]);
    counts.append(table(['f', 'ok', 'fail', 'info', 'never'], fRows));
    if (errors.size) {
      const eRows = Array.from(errors.entries())
        .sort((a, b) => b[1] - a[1])
        .slice(0, 12)
        .map(([e, c]) => [truncate(e, 80), c]);
      counts.append(table(['error', 'operations'], eRows));
    }
  }

  function fillNemesis() {
    const box = $('nemesis');
    if (STALLS.length) {
      box.append(el('h3', '', 'Stalls'));
      for (const win of STALLS) box.append(el('p', 'stall', win.text));
    }
    if (!DATA.nemesis.length) return;
    box.append(el('h3', '', 'Nemesis'));
    const shown = 200;
    const rows = DATA.nemesis.slice(0, shown).map(([kind, fn, val, eventAt, time]) => [
      time === null ? '' : at(time),
      'line ' + lineOf(eventAt),
      S[kind],
      S[fn],
      truncate(S[val], 120),
    ]);
    box.append(table(['time', 'where', 'type', 'f', 'value'], rows));
    if (DATA.nemesis.length > shown) box.append(el('p', 'empty', '… and ' + (DATA.nemesis.length - shown) + ' more'));
  }

  function percentile(sorted, p) {
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
  }

  // Buckets the timed completions: per bucket, counts by outcome and ok latencies' percentiles.
  function bucketStats(buckets) {
    const width = (tMax - tMin) / buckets;
    const count = { o: new Float64Array(buckets), f: new Float64Array(buckets), i: new Float64Array(buckets) };
    const latencies = Array.from({ length: buckets }, () => []);
    for (let id = 0; id < ops.n; id++) {
      const t = ops.tEnd[id];
      if (isNaN(t)) continue;
      const b = Math.min(buckets - 1, Math.floor((t - tMin) / width));
      const o = ops.outcome[id];
      if (o in count) count[o][b]++;
      if (o === 'o' && !isNaN(ops.tStart[id])) latencies[b].push(t - ops.tStart[id]);
    }
    const perSecond = 1e9 / width;
    for (const o of Object.keys(count)) for (let b = 0; b < buckets; b++) count[o][b] *= perSecond;
    const p = { p50: [], p95: [], p99: [] };
    for (const l of latencies) {
      l.sort((a, b) => a - b);
      p.p50.push(l.length ? percentile(l, 0.5) / 1e6 : null);
      p.p95.push(l.length ? percentile(l, 0.95) / 1e6 : null);
      p.p99.push(l.length ? percentile(l, 0.99) / 1e6 : null);
    }
    return { width, count, p };
  }

  // Draws the frame of a chart over the run's time and returns its coordinate mappings.
  function chartFrame(c, yMax, yFormat) {
    const dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth;
    const h = c.clientHeight;
    c.width = Math.max(1, Math.round(w * dpr));
    c.height = Math.max(1, Math.round(h * dpr));
    const g = c.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.font = '10px system-ui, sans-serif';
    const left = 52;
    const right = 8;
    const topPad = 8;
    const bottom = 20;
    const X = (t) => left + ((t - tMin) / (tMax - tMin)) * (w - left - right);
    const Y = (v) => h - bottom - (v / yMax) * (h - bottom - topPad);
    for (const win of WINDOWS) {
      if (win.t0 === null) continue;
      const a = X(win.t0);
      g.fillStyle = win.fill;
      g.fillRect(a, topPad, Math.max(2, X(win.t1 === null ? tMax : win.t1) - a), h - bottom - topPad);
    }
    g.textBaseline = 'middle';
    g.textAlign = 'right';
    for (const v of ticks(0, yMax, (h - bottom - topPad) * 2.2, false)) {
      g.fillStyle = '#e6e9ed';
      g.fillRect(left, Math.round(Y(v)), w - left - right, 1);
      g.fillStyle = '#636b74';
      g.fillText(yFormat(v), left - 4, Y(v));
    }
    g.fillStyle = '#636b74';
    g.textAlign = 'center';
    g.textBaseline = 'top';
    for (const t of ticks(tMin, tMax, w - left - right, false)) g.fillText(duration(t - tMin), X(t), h - bottom + 4);
    g.fillStyle = '#c5ccd3';
    g.fillRect(left, h - bottom, w - left - right, 1);
    return { g, X, Y };
  }

  const number = (v) => (v >= 1000 ? (v / 1000).toFixed(v >= 1e4 ? 0 : 1) + 'k' : String(+v.toFixed(2)));

  function drawCharts() {
    if (!ops.timed) return;
    const thr = $('throughput');
    const lat = $('latency');
    const buckets = Math.max(10, Math.min(120, Math.floor(thr.clientWidth / 6)));
    const stats = bucketStats(buckets);
    let yMax = 0;
    for (let b = 0; b < buckets; b++) yMax = Math.max(yMax, stats.count.o[b] + stats.count.f[b] + stats.count.i[b]);
    const t = chartFrame(thr, yMax * 1.1 || 1, number);
    for (let b = 0; b < buckets; b++) {
      const x0 = t.X(tMin + b * stats.width);
      const bw = Math.max(1, t.X(tMin + (b + 1) * stats.width) - x0 - 1);
      let base = 0;
      for (const o of ['o', 'f', 'i']) {
        const v = stats.count[o][b];
        if (!v) continue;
        t.g.fillStyle = EDGE[o];
        t.g.fillRect(x0, t.Y(base + v), bw, t.Y(base) - t.Y(base + v));
        base += v;
      }
    }
    let lMax = 0;
    for (const v of stats.p.p99) if (v !== null) lMax = Math.max(lMax, v);
    const l = chartFrame(lat, lMax * 1.1 || 1, number);
    const colours = { p50: '#1f5fd1', p95: '#e67e00', p99: '#d0021b' };
    for (const name of ['p50', 'p95', 'p99']) {
      l.g.strokeStyle = colours[name];
      l.g.lineWidth = 1.5;
      l.g.beginPath();
      let drawing = false;
      stats.p[name].forEach((v, b) => {
        if (v === null) {
          drawing = false;
          return;
        }
        const x = l.X(tMin + (b + 0.5) * stats.width);
        if (drawing) l.g.lineTo(x, l.Y(v));
        else l.g.moveTo(x, l.Y(v));
        drawing = true;
      });
      l.g.stroke();
    }
    l.g.textAlign = 'left';
    l.g.textBaseline = 'top';
    let x = 60;
    for (const name of ['p50', 'p95', 'p99']) {
      l.g.fillStyle = colours[name];
      l.g.fillText(name, x, 10);
      x += 30;
    }
  }

  // ---- Wiring ------------------------------------------------------------------------------

  function wire() {
    let drag = null;
    canvas.addEventListener('pointerdown', (e) => {
      drag = { x: e.clientX, y: e.clientY, moved: false, scrollTop: scroller.scrollTop, x0: view.x0 };
      canvas.setPointerCapture(e.pointerId);
    });
    canvas.addEventListener('pointermove', (e) => {
      const r = canvas.getBoundingClientRect();
      if (drag) {
        const dx = e.clientX - drag.x;
        const dy = e.clientY - drag.y;
        if (Math.abs(dx) + Math.abs(dy) > 3) {
          drag.moved = true;
          canvas.classList.add('dragging');
          tooltip.hidden = true;
        }
        if (drag.moved) {
          const span = view.x1 - view.x0;
          view.x0 = drag.x0 - dx / scale();
          view.x1 = view.x0 + span;
          clampView();
          scroller.scrollTop = drag.scrollTop - dy;
          schedule();
        }
        return;
      }
      showTooltip(hit(e.clientX - r.left, e.clientY - r.top), e.clientX, e.clientY);
    });
    canvas.addEventListener('pointerup', (e) => {
      const r = canvas.getBoundingClientRect();
      if (drag && !drag.moved) select(hit(e.clientX - r.left, e.clientY - r.top));
      drag = null;
      canvas.classList.remove('dragging');
    });
    canvas.addEventListener('pointerleave', () => {
      tooltip.hidden = true;
    });
    canvas.addEventListener(
      'wheel',
      (e) => {
        const r = canvas.getBoundingClientRect();
        if (e.ctrlKey || e.metaKey) {
          e.preventDefault();
          const center = view.x0 + (e.clientX - r.left - GUTTER) / scale();
          zoomAt(center, Math.exp(e.deltaY * 0.002));
        } else if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
          e.preventDefault();
          pan((e.deltaX || e.deltaY) / plotWidth());
        }
      },
      { passive: false },
    );
    scroller.addEventListener('scroll', schedule);
    $('counterexample').addEventListener('click', (e) => {
      const li = e.target.closest('li[data-op]');
      if (!li) return;
      const id = Number(li.dataset.op);
      select(id);
      centerOn(id);
    });
    $('zoom-in').addEventListener('click', () => zoomAt((view.x0 + view.x1) / 2, 0.5));
    $('zoom-out').addEventListener('click', () => zoomAt((view.x0 + view.x1) / 2, 2));
    $('pan-left').addEventListener('click', () => pan(-0.5));
    $('pan-right').addEventListener('click', () => pan(0.5));
    $('fit').addEventListener('click', fit);
    $('show-cx').addEventListener('click', focusFailure);
    $('dim').addEventListener('change', (e) => {
      state.dim = e.target.checked;
      schedule();
    });
    $('partition').addEventListener('change', (e) => {
      setPartition(Number(e.target.value), true);
      select(-1);
    });
    $('axis').addEventListener('change', (e) => setMode(e.target.value));
    document.addEventListener('keydown', (e) => {
      if (e.target !== document.body && e.target !== canvas) return;
      const keys = { '+': () => zoomAt((view.x0 + view.x1) / 2, 0.5), '=': () => zoomAt((view.x0 + view.x1) / 2, 0.5),
        '-': () => zoomAt((view.x0 + view.x1) / 2, 2), '0': fit, ArrowLeft: () => pan(-0.25), ArrowRight: () => pan(0.25) };
      if (keys[e.key]) {
        e.preventDefault();
        keys[e.key]();
      }
    });
    let resizing = false;
    window.addEventListener('resize', () => {
      if (resizing) return;
      resizing = true;
      requestAnimationFrame(() => {
        resizing = false;
        resize();
        drawCharts();
      });
    });
  }

  fillHeader();
  fillPartitions();
  const axisTime = $('axis').querySelector('option[value="time"]');
  axisTime.disabled = !ops.timed;
  $('stats-note').hidden = ops.timed;
  $('charts').hidden = !ops.timed;
  wire();
  setPartition(state.part, true);
  draw();
  fillCounts();
  fillNemesis();
  drawCharts();
  readyMs = performance.now();

  // A read-only view of what the page shows, for tests and tools that drive it.
  window.photofinish = Object.freeze({
    highlighted: () => Array.from(state.highlight.keys()).sort((a, b) => a - b),
    stuck: () => (state.failure && state.failure.stuck !== null ? state.failure.stuck : null),
    steps: () => (state.failure ? state.failure.prefix.map((s) => s[1]) : []),
    partition: () => (state.part < 0 ? null : keyText(state.part)),
    selected: () => (state.selected < 0 ? null : state.selected),
    locate,
    ready: () => readyMs,
  });
})();
