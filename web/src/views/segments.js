// Segments: a sortable table (id, items, bytes, vector dim, LSN range, time range, checksum
// verified or failed with the failing file and offset), the items-per-segment chart, and
// the details of one segment.
import { barChart } from '../charts.js';
import { bytes, h, kv, num, range, sortableTable, time } from '../dom.js';
import { relPath, segmentChecks } from '../analysis.js';

export function rows(model) {
  const v = model.engine.views || {};
  const open = (v.segments && v.segments.segments) || [];
  const checks = segmentChecks(model.check, model.root);
  const blocksChecked = !!model.check;
  const out = open.map((s) => ({ ...s, state: 'open' }));
  const known = new Set(out.map((s) => s.id));
  // Segments the engine did not open (unreadable, or listed but missing): from the file checks.
  for (const [id, problems] of checks) {
    if (known.has(id)) continue;
    const missing = problems.some((p) => /directory is missing/.test(p.reason));
    out.push({ id, dir: `seg_${id}`, state: missing ? 'missing' : 'unreadable' });
    known.add(id);
  }
  for (const r of out) {
    const problems = checks.get(r.id) || [];
    r.problems = problems;
    r.checksum = problems.length ? 'failed' : (blocksChecked && r.state === 'open' ? 'verified' : 'unknown');
  }
  return out;
}

function checksumCell(r) {
  if (r.checksum === 'verified') return h('span', { class: 'ok' }, '✓ verified');
  if (r.checksum === 'unknown') return h('span', { class: 'muted' }, 'not checked');
  const p = r.problems[0];
  return h('span', { class: 'bad' }, `✗ FAILED: ${p.file}${p.offset !== null && p.offset >= 0 ? ` @ byte ${p.offset}` : ''}`,
    r.problems.length > 1 ? ` (+${r.problems.length - 1} more)` : '');
}

export function render(el, { model, client, arg, navigate }) {
  const list = rows(model);
  const failed = list.filter((r) => r.checksum === 'failed').length;
  el.append(h('h1', null, 'Segments'),
    h('p', null, `${num(list.length)} segment(s) · ${failed ? `${failed} failing a checksum` : 'every block checksum holds'}`
      + (model.check ? ` · ${num(model.check.segments_listed)} listed in global_index.json, ${num(model.check.segments_on_disk)} on disk` : '')));

  const table = sortableTable([
    { key: 'id', label: 'id', value: (r) => r.id, render: (r) => h('a', { href: `#/segments/${r.id}`, onclick: (ev) => { ev.preventDefault(); navigate('segments', r.id); } }, r.id) },
    { key: 'state', label: 'state', value: (r) => r.state },
    { key: 'items', label: 'items', value: (r) => r.items, render: (r) => num(r.items), class: 'num' },
    { key: 'live', label: 'live', value: (r) => r.live, render: (r) => num(r.live), class: 'num' },
    { key: 'bytes', label: 'bytes', value: (r) => r.bytes, render: (r) => bytes(r.bytes), class: 'num' },
    { key: 'dim', label: 'vector dim', value: (r) => r.vector_dim, class: 'num' },
    { key: 'lsn', label: 'LSN range', value: (r) => r.lsn_min, render: (r) => range(r.lsn_min, r.lsn_max) },
    { key: 'time', label: 'time range', value: (r) => r.time_min, render: (r) => (r.time_min ? `${time(r.time_min)} … ${time(r.time_max)}` : '—') },
    { key: 'indexed', label: 'in HNSW', value: (r) => (r.indexed === undefined ? null : r.indexed ? 1 : 0), render: (r) => (r.indexed === undefined ? '—' : r.indexed ? 'yes' : 'no') },
    { key: 'checksum', label: 'checksum', value: (r) => r.checksum, render: checksumCell },
  ], list, {
    testid: 'segments-table',
    rowAttrs: (r) => ({ 'data-segment': r.id, 'data-checksum': r.checksum, class: `${r.checksum === 'failed' || r.state !== 'open' ? 'row-bad' : ''}${r.id === arg ? ' row-selected' : ''}` }),
  });
  el.append(h('div', { class: 'scroll' }, table));

  const chartBox = h('div', { class: 'chart', id: 'segments-chart' });
  el.append(h('h2', null, 'Items per segment'), chartBox);
  const open = list.filter((r) => r.state === 'open');
  if (open.length) {
    requestAnimationFrame(() => barChart(chartBox, { labels: open.map((r) => r.id), values: open.map((r) => r.items), label: 'items' }));
  } else {
    chartBox.append(h('p', { class: 'muted' }, 'No open segment.'));
  }

  if (arg) {
    const box = h('section', { id: 'segment-detail', class: 'detail', 'data-segment': arg }, h('h2', null, `Segment ${arg}`));
    el.append(box);
    const r = list.find((x) => x.id === arg);
    if (r && r.problems.length) {
      box.append(h('h3', null, 'Checksum failures'), h('ul', null, r.problems.map((p) =>
        h('li', { class: 'bad' }, h('code', null, p.file), p.offset !== null && p.offset >= 0 ? ` at byte ${p.offset}` : '', ` — ${p.reason}`))));
    }
    if (r && r.state === 'open') {
      client.call('segment', { id: arg }).then((d) => {
        const s = d.summary;
        box.append(kv([
          ['Directory', relPath(s.path || s.dir, model.root)],
          ['Items / live / tombstones', `${num(s.items)} / ${num(s.live)} / ${num(s.tombstones)}`],
          ['Vectors', `${num(s.vectors)} × ${s.vector_dim}`],
          ['LSN range', range(s.lsn_min, s.lsn_max)],
          ['Time range', `${time(s.time_min)} … ${time(s.time_max)}`],
          ['Created', time(s.created_ms)],
          ['Inputs (merged from)', s.inputs && s.inputs.length ? s.inputs.join(', ') : '—'],
          ['meta.json checksum', s.meta_checksum],
          ['Format version', s.format_version],
          ['Kinds', s.kinds ? Object.entries(s.kinds).map(([k, n]) => `${k}: ${n}`).join(', ') : '—'],
        ]), h('h3', null, 'Files'), kv((s.files || []).map((f) => [f.name, bytes(f.bytes)])));
        if (d.metadata) box.append(h('details', null, h('summary', null, 'meta.json'), h('pre', null, JSON.stringify(d.metadata, null, 2))));
      }).catch((e) => box.append(h('p', { class: 'error' }, e.message)));
    }
    box.scrollIntoView({ block: 'nearest' });
  }
}
