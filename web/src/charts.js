// Charts, drawn by uPlot (npm `uplot`, loaded as vendor/uPlot.iife.min.js: the global
// `uPlot`). Three kinds: bars per category (items per segment), counts over time (WAL
// operations), and events over time (compaction history).
const PALETTE = ['#1f6feb', '#d9480f', '#2f9e44', '#9c36b5', '#e8590c', '#0c8599', '#5c940d', '#c2255c'];

function lib() {
  const U = globalThis.uPlot;
  if (!U) throw new Error('uPlot did not load');
  return U;
}

function width(el) {
  return Math.max(320, Math.min(1100, (el.clientWidth || 900) - 8));
}

function mount(el, opts, data) {
  el.replaceChildren();
  const U = lib();
  const chart = new U(opts, data, el);
  el.dataset.chart = 'ready';
  return chart;
}

/**
 * Bars, one per category. labels: strings (x axis), values: numbers.
 * The runbook's "Items per segment" ASCII bar chart, drawn properly.
 */
export function barChart(el, { labels, values, label = 'items', color = PALETTE[0], height = 240 }) {
  const U = lib();
  const xs = labels.map((_, i) => i);
  const opts = {
    width: width(el),
    height,
    legend: { show: true },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: false, range: [-0.5, Math.max(0.5, labels.length - 0.5)] }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.08)] } },
    axes: [
      {
        values: (u, splits) => splits.map((s) => (Number.isInteger(s) && labels[s] !== undefined ? labels[s] : '')),
        splits: () => (labels.length <= 40 ? xs : xs.filter((i) => i % Math.ceil(labels.length / 40) === 0)),
        rotate: labels.length > 12 ? -45 : 0,
        size: labels.length > 12 ? 70 : 40,
      },
      { label, size: 60 },
    ],
    series: [
      { label: 'segment', value: (u, v) => (v === null || v === undefined ? '—' : labels[v]) },
      { label, stroke: color, fill: `${color}cc`, width: 1, paths: U.paths.bars({ size: [0.7, 80] }), points: { show: false } },
    ],
  };
  return mount(el, opts, [xs, values]);
}

/** Counts per time bucket, one stepped line per series. times: ms; series: {name -> counts}. */
export function timelineChart(el, { times, series, height = 240, yLabel = 'operations' }) {
  const U = lib();
  const names = Object.keys(series).sort();
  const opts = {
    width: width(el),
    height,
    cursor: { drag: { x: true, y: false } },
    scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
    axes: [{}, { label: yLabel, size: 60 }],
    series: [
      { label: 'time' },
      ...names.map((n, i) => ({
        label: n,
        stroke: PALETTE[i % PALETTE.length],
        fill: `${PALETTE[i % PALETTE.length]}22`,
        width: 2,
        paths: U.paths.stepped({ align: 1 }),
        points: { show: false },
      })),
    ],
  };
  const data = [times.map((t) => t / 1000), ...names.map((n) => series[n])];
  return mount(el, opts, data);
}

/** Events over time: one point series per kind. events: [{time_ms, kind, value}] */
export function eventChart(el, { events, kinds, height = 220, yLabel = 'items written' }) {
  const xsSet = [...new Set(events.map((e) => e.time_ms))].sort((a, b) => a - b);
  const pos = new Map(xsSet.map((x, i) => [x, i]));
  const data = [xsSet.map((x) => x / 1000)];
  for (const k of kinds) {
    const ys = new Array(xsSet.length).fill(null);
    for (const e of events) if (e.kind === k) ys[pos.get(e.time_ms)] = e.value;
    data.push(ys);
  }
  const opts = {
    width: width(el),
    height,
    scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, (max || 1) * 1.15)] } },
    axes: [{}, { label: yLabel, size: 60 }],
    series: [
      { label: 'time' },
      ...kinds.map((k, i) => ({
        label: k,
        stroke: PALETTE[i % PALETTE.length],
        width: 0,
        paths: () => null,
        points: { show: true, size: 9, fill: PALETTE[i % PALETTE.length] },
      })),
    ],
  };
  return mount(el, opts, data);
}
