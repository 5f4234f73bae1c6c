// Global index: the runbook's "Check Global Index" checks (ids pointing to missing
// segments, duplicates, counts) with their results, the manifest's fields, and the
// items-per-segment chart the runbook prints as ASCII bars.
import { barChart } from '../charts.js';
import { h, kv, num, time } from '../dom.js';
import { relPath, relText } from '../analysis.js';

function check(name, ok, detail) {
  return { name, ok, detail };
}

export function checks(model) {
  const out = [];
  const c = model.check;
  const gi = (model.engine.views || {}).global_index;
  const fileProblems = c ? c.problems.filter((p) => p.area === 'global_index') : [];
  out.push(check('global_index.json reads and its checksum holds', c ? c.manifest_ok && fileProblems.length === 0 : null,
    fileProblems.length ? fileProblems.map((p) => `${relPath(p.file, model.root)}${p.offset !== null && p.offset >= 0 ? ` @ byte ${p.offset}` : ''}: ${relText(p.reason, model.root)}`).join('; ')
      : c ? (c.manifest_ok ? `generation ${c.manifest_generation}, durable LSN ${c.durable_lsn}` : 'no global_index.json (a store that never flushed)') : 'files not checked'));
  if (c) {
    const missing = c.problems.filter((p) => p.area === 'segment' && /directory is missing/.test(p.reason));
    out.push(check('every listed segment exists on disk', missing.length === 0,
      missing.length ? missing.map((p) => relText(p.reason, model.root)).join('; ') : `${num(c.segments_listed)} listed, ${num(c.segments_on_disk)} on disk`));
    const mismatch = c.problems.filter((p) => p.area === 'segment' && /recorded in global_index|global_index\.json says/.test(p.reason));
    out.push(check('segment meta checksums and counts match the listing', mismatch.length === 0,
      mismatch.length ? mismatch.map((p) => `${relPath(p.file, model.root)}: ${relText(p.reason, model.root)}`).join('; ') : 'all match'));
  }
  if (gi) {
    const errs = gi.consistency.errors || [];
    const refs = errs.filter((e) => /references missing segment/.test(e));
    out.push(check('no id points to a missing segment', refs.length === 0, refs.length ? `${refs.length}: ${refs.slice(0, 10).join('; ')}` : `${num(gi.total_id_mappings)} id mappings checked`));
    const other = errs.filter((e) => !/references missing segment/.test(e));
    out.push(check('every listed segment is open and ends at or below the durable LSN', other.length === 0, other.length ? other.join('; ') : 'yes'));
    out.push(check('duplicate ids across segments (resolved by LSN: the newest wins)', true, `${num(gi.duplicates_resolved_by_lsn)} older version(s) shadowed`));
    const live = (gi.segments || []).reduce((s, x) => s + (x.live || 0), 0);
    out.push(check('id mappings = live entries of the segments', gi.total_id_mappings === live,
      `${num(gi.total_id_mappings)} mappings, ${num(live)} live segment entries`));
    const orphans = gi.unlisted_segment_dirs || [];
    out.push(check('no segment directory outside the listing', orphans.length === 0, orphans.length ? orphans.join(', ') : 'none'));
  }
  return out;
}

export function render(el, { model }) {
  el.append(h('h1', null, 'Global index'));
  const gi = (model.engine.views || {}).global_index;
  const list = checks(model);
  el.append(h('table', { class: 'grid', id: 'gi-checks' },
    h('caption', null, 'Consistency checks'),
    h('thead', null, h('tr', null, h('th', null, 'check'), h('th', null, 'result'), h('th', null, 'detail'))),
    h('tbody', null, list.map((c) => h('tr', { 'data-ok': c.ok === null ? 'unknown' : String(c.ok), class: c.ok === false ? 'row-bad' : '' },
      h('td', null, c.name), h('td', null, c.ok === null ? '—' : c.ok ? h('span', { class: 'ok' }, '✓ pass') : h('span', { class: 'bad' }, '✗ FAIL')),
      h('td', null, c.detail))))));

  if (!gi) {
    el.append(h('p', { class: 'muted' }, 'The store did not open read-only, so only the file checks above are available.'));
    return;
  }
  el.append(h('h2', null, 'Manifest'), kv([
    ['File', relPath(gi.file, model.root)],
    ['Format version', gi.format_version],
    ['Generation', num(gi.generation)],
    ['Durable LSN', num(gi.durable_lsn)],
    ['HNSW LSN', num(gi.hnsw_lsn)],
    ['Next segment id', num(gi.next_segment_id)],
    ['Dimension / metric', `${gi.dim} / ${gi.metric}`],
    ['Segments / id mappings', `${num(gi.total_segments)} / ${num(gi.total_id_mappings)}`],
  ]));

  const per = gi.items_per_segment || {};
  const labels = Object.keys(per).sort();
  const box = h('div', { class: 'chart', id: 'gi-chart' });
  el.append(h('h2', null, 'Items per segment (id mappings)'), box);
  if (labels.length) requestAnimationFrame(() => barChart(box, { labels, values: labels.map((l) => per[l]), label: 'ids mapped' }));
  else box.append(h('p', { class: 'muted' }, 'No segment.'));

  if ((gi.quarantined || []).length) {
    el.append(h('h2', null, 'Quarantined by earlier recoveries'), h('table', { class: 'grid' },
      h('thead', null, h('tr', null, ['what', 'moved to', 'LSN range', 'reason', 'when'].map((c) => h('th', null, c)))),
      h('tbody', null, gi.quarantined.map((q) => h('tr', null, h('td', null, q.what), h('td', null, q.moved_to),
        h('td', null, `${q.lsn_min}..${q.lsn_max}`), h('td', null, q.reason), h('td', null, time(q.time_ms)))))));
  }
}
