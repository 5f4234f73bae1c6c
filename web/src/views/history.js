// Compaction history: every flush, merge and rebuild as a timeline and a table.
import { eventChart } from '../charts.js';
import { bytes, h, num, sortableTable, time } from '../dom.js';

export function render(el, { model }) {
  el.append(h('h1', null, 'Compaction history'));
  const hv = (model.engine.views || {}).compaction_history;
  if (!hv) {
    el.append(h('p', { class: 'muted' }, 'The store did not open read-only, so the history is not available.'));
    return;
  }
  const recs = hv.records || [];
  el.append(h('p', null, `${num(recs.length)} run(s)${hv.bad_lines ? ` · ${num(hv.bad_lines)} bad line(s) skipped` : ''}.`));
  const box = h('div', { class: 'chart', id: 'history-chart' });
  el.append(box);
  if (recs.length) {
    const kinds = [...new Set(recs.map((r) => r.kind))].sort();
    requestAnimationFrame(() => eventChart(box, { events: recs.map((r) => ({ time_ms: r.time_ms, kind: r.kind, value: r.items_out })), kinds }));
    el.append(h('div', { class: 'scroll' }, sortableTable([
      { key: 'time', label: 'finished', value: (r) => r.time_ms, render: (r) => time(r.time_ms) },
      { key: 'kind', label: 'kind', value: (r) => r.kind },
      { key: 'in', label: 'inputs', value: (r) => (r.inputs || []).join(','), render: (r) => (r.inputs || []).map((i) => String(i).padStart(6, '0')).join(', ') || '—' },
      { key: 'out', label: 'outputs', value: (r) => (r.outputs || []).join(','), render: (r) => (r.outputs || []).map((i) => String(i).padStart(6, '0')).join(', ') },
      { key: 'items_in', label: 'items in', value: (r) => r.items_in, render: (r) => num(r.items_in), class: 'num' },
      { key: 'items_out', label: 'items out', value: (r) => r.items_out, render: (r) => num(r.items_out), class: 'num' },
      { key: 'dropped', label: 'dropped versions', value: (r) => r.dropped_versions, render: (r) => num(r.dropped_versions), class: 'num' },
      { key: 'bytes', label: 'bytes out', value: (r) => r.bytes_out, render: (r) => bytes(r.bytes_out), class: 'num' },
      { key: 'dur', label: 'duration', value: (r) => r.duration_us, render: (r) => `${num(Math.round(r.duration_us / 1000))} ms`, class: 'num' },
    ], recs, { initial: { key: 'time', dir: 'desc' }, testid: 'history-table' })));
  } else {
    box.append(h('p', { class: 'muted' }, 'No flush or merge recorded yet.'));
  }
}
