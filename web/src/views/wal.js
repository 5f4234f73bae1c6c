// WAL: entries by op_type, the timeline of operations, torn or corrupt lines (line, byte
// offset, reason), the WAL files, the replay-time estimate, and a paged entries table.
import { timelineChart } from '../charts.js';
import { bytes, clear, duration, h, kv, num, range, time } from '../dom.js';
import { relPath, walOpCounts } from '../analysis.js';

const PAGE = 100;

/** Records per op_type: the engine's report, or its decoded entries counted. */
export function opCounts(w) {
  if (!w) return {};
  return walOpCounts(w.report, w.opCounts);
}
let pageState = { skip: 0, op: '' };

export function render(el, { model, client }) {
  const w = model.wal || {};
  const r = w.report;
  el.append(h('h1', null, 'Write-ahead log'));
  if (!r) {
    el.append(h('p', { class: 'error' }, `The WAL could not be read: ${w.error ? w.error.message : 'unknown error'}`));
    return;
  }
  const v = model.engine.views || {};

  // Problems first: they are why one opens this view.
  const probs = r.problems || [];
  const pbox = h('section', { id: 'wal-problems', class: `panel ${!probs.length ? 'ok-panel' : r.verdict === 'torn_tail' ? 'note-panel' : 'bad-panel'}` });
  if (probs.length === 0) {
    pbox.append(h('p', { class: 'ok' }, `✓ Every line of every WAL file passes its checksum (${num(r.records)} records).`));
  } else {
    pbox.append(h('h2', null, r.verdict === 'torn_tail' ? 'Torn tail (a crash in the middle of a write)' : 'Corrupt WAL'));
    pbox.append(h('ul', null, probs.map((p) => h('li', {
      class: p.torn_tail ? 'warn' : 'bad', 'data-kind': p.kind, 'data-file': relPath(p.file, model.root), 'data-line': p.line, 'data-offset': p.offset,
    }, h('strong', null, p.torn_tail ? 'torn tail' : 'corruption'), ': ', h('code', null, relPath(p.file, model.root)),
    ` line ${p.line}, byte offset ${p.offset} (${num(p.length)} bytes to the end of the file) — ${p.reason}`))));
    pbox.append(h('p', { class: 'muted' }, r.verdict === 'torn_tail'
      ? 'Normal after a crash: the next read-write open saves these bytes under quarantine/ and cuts them (or run `t4dx --data DIR wal repair`). No acknowledged write is lost.'
      : 'Lines after a corrupt line are not replayed. Strict recovery refuses to open; the default opens at the last good entry and quarantines the rest.'));
  }
  el.append(pbox);

  const rep = v.replay_estimate;
  el.append(h('div', { class: 'two' },
    kv([
      ['Verdict', r.verdict],
      ['Files', `${num(r.files)} (${num(r.sealed_files)} sealed)`],
      ['Bytes (good prefix)', `${bytes(r.bytes)} (${bytes(r.good_bytes)})`],
      ['Records / entries', `${num(r.records)} / ${num(r.entries)}`],
      ['LSN range', range(r.first_lsn, r.last_lsn)],
      ['Time range', r.first_time ? `${time(r.first_time)} … ${time(r.last_time)}` : '—'],
      v.wal_status ? ['Durable LSN (flushed)', `${num(v.wal_status.durable_lsn)} · ${num(v.wal_status.unflushed_entries)} entries not yet in segments`] : null,
      ['Replay estimate', rep ? `${duration(rep.estimated_seconds)} for ${bytes(rep.wal_bytes)} (${rep.basis})` : '—'],
    ], { id: 'wal-summary' }),
    opTable(opCounts(w), r.records)));

  el.append(h('h2', null, 'Operations over time'));
  const chartBox = h('div', { class: 'chart', id: 'wal-chart' });
  el.append(chartBox);
  const tl = w.timeline;
  if (tl && tl.times.length) {
    const step = tl.step >= 1000 ? `${(tl.step / 1000).toFixed(1)} s` : `${tl.step} ms`;
    el.append(h('p', { class: 'muted' }, `Records per ${step} bucket, by op_type (drag to zoom).`));
    requestAnimationFrame(() => timelineChart(chartBox, { times: tl.times, series: tl.series, yLabel: 'records' }));
  } else {
    chartBox.append(h('p', { class: 'muted' }, 'No WAL record.'));
  }

  el.append(h('h2', null, 'WAL files'), h('table', { class: 'grid', id: 'wal-files' },
    h('thead', null, h('tr', null, ['file', 'sealed', 'bytes', 'records', 'LSN range', 'time range', 'problem'].map((c) => h('th', null, c)))),
    h('tbody', null, (r.wal_files || []).map((f) => h('tr', { class: f.problem ? 'row-bad' : '' },
      h('td', null, f.name), h('td', null, f.sealed ? 'yes' : 'no'), h('td', { class: 'num' }, bytes(f.bytes)),
      h('td', { class: 'num' }, num(f.records)), h('td', null, range(f.first_lsn, f.last_lsn)),
      h('td', null, f.first_time ? `${time(f.first_time)} … ${time(f.last_time)}` : '—'),
      h('td', null, f.problem ? `${f.problem.kind} at line ${f.problem.line}, byte ${f.problem.offset}` : '—'))))));

  // The paged entries table.
  el.append(h('h2', null, 'Entries'));
  const opSel = h('select', { id: 'wal-op', 'aria-label': 'filter by op_type' },
    h('option', { value: '' }, 'all op_types'), (w.opNames || []).map((o) => h('option', { value: o, selected: o === pageState.op }, o)));
  const info = h('span', { id: 'wal-page-info', class: 'muted' });
  const prev = h('button', { type: 'button', id: 'wal-prev', title: 'previous page ([)' }, '← Prev');
  const next = h('button', { type: 'button', id: 'wal-next', title: 'next page (])' }, 'Next →');
  const last = h('button', { type: 'button', id: 'wal-last', title: 'last page (the tail)' }, 'Last ⇥');
  const tbody = h('tbody');
  const detail = h('section', { id: 'wal-entry', class: 'detail', hidden: true });
  el.append(h('div', { class: 'pager' }, opSel, prev, next, last, info),
    h('div', { class: 'scroll' }, h('table', { class: 'grid', id: 'wal-table' },
      h('thead', null, h('tr', null, ['file', 'line', 'offset', 'LSN', 'time', 'op', 'ids', 'size'].map((c) => h('th', null, c)))), tbody)), detail);
  if (w.kept < w.entriesSeen) el.append(h('p', { class: 'muted' }, `The table holds the first ${num(w.kept)} of ${num(w.entriesSeen)} records.`));

  let total = 0;
  async function show() {
    const res = await client.call('walPage', { skip: pageState.skip, limit: PAGE, op: pageState.op });
    total = res.total;
    clear(tbody);
    for (const e of res.rows) {
      tbody.append(h('tr', { tabindex: 0, 'data-index': e.index, onclick: () => openEntry(e.index), onkeydown: (ev) => { if (ev.key === 'Enter') openEntry(e.index); } },
        h('td', null, e.file), h('td', { class: 'num' }, num(e.line)), h('td', { class: 'num' }, num(e.offset)),
        h('td', { class: 'num' }, e.lsn === e.last_lsn ? num(e.lsn) : `${num(e.lsn)}…${num(e.last_lsn)}`),
        h('td', null, time(e.timestamp)), h('td', null, e.op_type), h('td', { class: 'ids' }, e.ids.join(', ')),
        h('td', { class: 'num' }, bytes(e.length))));
    }
    // The bad lines belong after the last good record of their file: show them on the last page.
    if (pageState.skip + PAGE >= total && !pageState.op) {
      for (const p of probs) {
        tbody.append(h('tr', { class: p.torn_tail ? 'row-warn' : 'row-bad', 'data-problem': p.kind },
          h('td', null, relPath(p.file, model.root)), h('td', { class: 'num' }, num(p.line)), h('td', { class: 'num' }, num(p.offset)),
          h('td', { colspan: 4 }, `${p.torn_tail ? 'TORN TAIL' : 'CORRUPT'}: ${p.reason}`), h('td', { class: 'num' }, bytes(p.length))));
      }
    }
    const from = total ? pageState.skip + 1 : 0;
    info.textContent = `records ${num(from)}–${num(Math.min(total, pageState.skip + PAGE))} of ${num(total)}`;
    prev.disabled = pageState.skip === 0;
    next.disabled = pageState.skip + PAGE >= total;
  }
  async function openEntry(index) {
    detail.hidden = false;
    clear(detail).append(h('h3', null, `Record ${num(index + 1)}`), h('p', { class: 'muted' }, 'reading…'));
    try {
      const e = await client.call('walEntry', { index });
      clear(detail).append(h('h3', null, `${e.file} line ${e.line} (byte ${e.offset}) · LSN ${e.lsn} · ${e.op_type}`),
        h('pre', null, JSON.stringify(e.summary ?? e, null, 2)));
    } catch (err) {
      clear(detail).append(h('p', { class: 'error' }, err.message));
    }
  }
  const go = (skip) => {
    pageState.skip = Math.max(0, Math.min(skip, Math.max(0, total - 1)));
    pageState.skip -= pageState.skip % PAGE;
    show();
  };
  prev.addEventListener('click', () => go(pageState.skip - PAGE));
  next.addEventListener('click', () => go(pageState.skip + PAGE));
  last.addEventListener('click', () => go(total - 1));
  opSel.addEventListener('change', () => {
    pageState = { skip: 0, op: opSel.value };
    show();
  });
  const onKey = (ev) => {
    if (!el.isConnected) {
      document.removeEventListener('keydown', onKey);
      return;
    }
    const t = ev.target;
    if (t && (t.tagName === 'INPUT' || t.tagName === 'SELECT')) return;
    if (ev.key === '[' && !prev.disabled) go(pageState.skip - PAGE);
    if (ev.key === ']' && !next.disabled) go(pageState.skip + PAGE);
  };
  document.addEventListener('keydown', onKey);
  show();
}

/** The "Records by op_type" table: one row per op_type, its records and share, and a total. */
function opTable(counts, records) {
  const ops = Object.entries(counts);
  const total = ops.reduce((s, [, n]) => s + n, 0);
  const body = ops.length
    ? ops.map(([op, n]) => h('tr', { 'data-op': op, 'data-count': n },
      h('td', null, op), h('td', { class: 'num' }, num(n)), h('td', { class: 'num' }, total ? `${((100 * n) / total).toFixed(1)} %` : '—')))
    : [h('tr', { class: 'empty' }, h('td', { colspan: 3, class: 'muted' }, 'No valid record in any WAL file.'))];
  return h('table', { class: 'grid', id: 'wal-ops', 'data-total': total },
    h('caption', null, 'Records by op_type'),
    h('thead', null, h('tr', null, h('th', null, 'op_type'), h('th', { class: 'num' }, 'records'), h('th', { class: 'num' }, 'share'))),
    h('tbody', null, body),
    ops.length ? h('tfoot', null, h('tr', null, h('th', null, 'total'), h('th', { class: 'num' }, num(total)),
      h('th', { class: 'num muted' }, records !== undefined && records !== total ? `report: ${num(records)}` : ''))) : null);
}

/** Resets the table position (a new store was loaded). */
export function reset() {
  pageState = { skip: 0, op: '' };
}
