// HNSW: indexed vs stored live vectors, LSN lag, deleted marks, parameters, and the
// container's checksum (from the file checks).
import { bytes, h, kv, num, time } from '../dom.js';
import { relPath } from '../analysis.js';

export function render(el, { model }) {
  el.append(h('h1', null, 'HNSW index'));
  const c = model.check;
  const probs = c ? c.problems.filter((p) => p.area === 'hnsw') : [];
  const container = !c ? 'not checked'
    : probs.length ? null
      : c.hnsw_present ? 'present, checksum verified' : 'absent (no vectors stored)';
  const panel = !probs.length ? 'ok-panel' : probs.every((p) => p.severity === 'info' || /missing/.test(p.reason)) ? 'note-panel' : 'bad-panel';
  el.append(h('section', { id: 'hnsw-container', class: `panel ${panel}` },
    container ? h('p', { class: 'ok' }, `Container: ${container}`)
      : h('ul', null, probs.map((p) => h('li', { class: p.severity === 'info' ? 'warn' : 'bad', 'data-file': relPath(p.file, model.root) },
        h('code', null, relPath(p.file, model.root)), p.offset !== null && p.offset >= 0 ? ` @ byte ${p.offset}` : '', ` — ${p.reason}`)))));

  const s = (model.engine.views || {}).hnsw_stats;
  if (!s) {
    el.append(h('p', { class: 'muted' }, 'The store did not open read-only, so the index state is not available.'));
    return;
  }
  el.append(kv([
    ['In sync', s.in_sync ? h('span', { class: 'ok' }, 'yes') : h('span', { class: 'bad' }, 'no')],
    ['Indexed vectors / stored live vectors', `${num(s.indexed_vectors)} / ${num(s.stored_live_vectors)}`],
    ['Stored live vectors already indexed', num(s.stored_live_vectors_indexed)],
    ['Vectors not indexed (lag)', num(s.lag_vectors)],
    ['MemTable vectors (searched exactly)', num(s.memtable_vectors)],
    ['Segments not in the index (searched exactly)', num(s.unindexed_segments)],
    ['Deleted marks / elements', `${num(s.deleted_marked)} / ${num(s.elements)}`],
    ['Saved container: vectors / covered LSN', `${num(s.saved_vectors)} / ${num(s.saved_covered_lsn)}`],
    ['LSN lag of the saved container', num(s.lsn_lag)],
    ['Parameters', `M ${s.M} · ef_construction ${s.ef_construction} · ef_search ${s.ef_search} · ${s.metric} · ${s.dim}-d`],
    ['Memory', bytes(s.memory_bytes)],
    ['Rebuild when deleted share exceeds', s.rebuild_deleted_fraction],
    ['Saves / rebuilds', `${num(s.saves)} / ${num(s.rebuilds)}`],
    ['Last save / rebuild', `${time(s.last_save_ms)} / ${time(s.last_rebuild_ms)}`],
    ['On load', s.load_note || '—'],
    ['File', relPath(s.file, model.root)],
  ], { id: 'hnsw-stats' }));
}
