// Items and search: look an item up by id (content, metadata, time, embedding norm and
// dimension); "similar items" from a chosen item with filters, with the query planner's
// explanation drawn as a diagram of its stages.
import { clear, h, kv, num, time } from '../dom.js';

/** Filter object (item_json.h field names) from the form's values. */
export function filterFrom({ kind, from, to, metaKey, metaValue }) {
  const f = {};
  if (kind) f.kind = kind.split(',').map((s) => s.trim()).filter(Boolean);
  if (from) f.time_from = Date.parse(from);
  if (to) f.time_to = Date.parse(to);
  if (metaKey) {
    const vals = String(metaValue ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
    const typed = vals.map((v) => (/^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v === 'true' ? true : v === 'false' ? false : v));
    f.metadata = { [metaKey]: typed.length === 1 ? typed[0] : { any_of: typed } };
  }
  for (const k of ['time_from', 'time_to']) if (Number.isNaN(f[k])) delete f[k];
  return f;
}

function us(n) {
  if (n === undefined || n === null) return '—';
  return n >= 1000 ? `${(n / 1000).toFixed(2)} ms` : `${n} µs`;
}

function box(title, lines, cls = '') {
  return h('div', { class: `stage ${cls}` }, h('div', { class: 'stitle' }, title), h('ul', null, lines.filter(Boolean).map((l) => h('li', null, l))));
}

const STAGE_TITLE = { memtable: 'MemTable', unindexed_segments: 'Segments not in the HNSW', hnsw: 'HNSW index' };
const METHOD = {
  exact: 'exact scan',
  graph: 'graph search',
  filtered_graph: 'graph search, filter checked in-graph',
  exact_candidates: 'exact scoring of the few filtered candidates',
};

/** The planner's explanation as a left-to-right diagram. */
export function planDiagram(plan) {
  const sel = plan.selectivity || {};
  const filterText = plan.filter && Object.keys(plan.filter).length ? JSON.stringify(plan.filter) : 'no filter';
  const flow = h('div', { class: 'flow', id: 'plan-diagram' });
  flow.append(box('Query', [`k = ${plan.k}`, `ef = ${plan.ef}`, `metric ${plan.metric}`, filterText], 'q'));
  const arrow = () => h('div', { class: 'arrow', 'aria-hidden': 'true' }, '→');
  const stages = h('div', { class: 'stages' });
  for (const st of plan.stages || []) {
    stages.append(box(`${STAGE_TITLE[st.stage] || st.stage}`, [
      `method: ${METHOD[st.method] || st.method}`,
      st.segments ? `segments: ${st.segments.join(', ') || '—'}` : null,
      st.candidates !== undefined ? `candidates: ${num(st.candidates)}` : null,
      st.matched !== undefined ? `matched filter: ${num(st.matched)}` : null,
      st.estimated_matches !== undefined ? `estimated matches: ${num(st.estimated_matches)}` : null,
      st.ef !== undefined ? `ef used: ${num(st.ef)}` : null,
      st.visited_checked !== undefined ? `visited: ${num(st.visited_checked)}, allowed: ${num(st.allowed)}` : null,
      st.returned !== undefined ? `returned: ${num(st.returned)}` : null,
      `time: ${us(st.time_us)}`,
    ], `s-${st.stage}`));
  }
  const skipped = plan.segments_skipped || [];
  if (skipped.length) {
    stages.append(box(`Pruned: ${skipped.length} of ${plan.segments_total} segment(s)`,
      skipped.slice(0, 8).map((s) => `${s.segment}: ${s.reason}`).concat(skipped.length > 8 ? [`… ${skipped.length - 8} more`] : []), 'pruned'));
  }
  flow.append(arrow(), stages, arrow(), box('Merge top-k', [
    `results: ${num(plan.results)}`,
    `selectivity estimated ${sel.estimated === undefined ? '—' : sel.estimated.toFixed(3)} (≈${num(sel.estimated_matches)} items)`,
    `selectivity actual ${sel.actual === null || sel.actual === undefined ? '—' : sel.actual.toFixed(3)}`,
    `fetch: ${us(plan.fetch_time_us)}`,
    `total: ${us(plan.total_time_us)}`,
  ], 'm'));
  return flow;
}

export function render(el, { model, client, arg, navigate }) {
  el.append(h('h1', null, 'Items and search'));
  if (!model.engine.opened) {
    el.append(h('p', { class: 'error' }, `The store did not open read-only: ${model.engine.error ? model.engine.error.message : ''}`));
    return;
  }
  const idInput = h('input', { id: 'item-id', name: 'id', placeholder: 'item id', size: 32, value: arg || '', autocomplete: 'off', list: 'item-samples' });
  const samples = h('datalist', { id: 'item-samples' });
  const itemBox = h('section', { id: 'item-detail', class: 'detail' });
  el.append(h('form', { id: 'item-form', class: 'inline', onsubmit: (ev) => { ev.preventDefault(); navigate('items', idInput.value.trim()); } },
    h('label', { for: 'item-id' }, 'Look up an item by id '), idInput, samples, h('button', { type: 'submit' }, 'Look up')), itemBox);
  client.call('sample', { limit: 25 }).then((list) => {
    for (const s of list) samples.append(h('option', { value: s.id }, `${s.kind || ''} ${time(s.timestamp)}`));
  }).catch(() => {});

  if (!arg) {
    itemBox.append(h('p', { class: 'muted' }, 'Type an id (suggestions list the oldest items), or press / from any view.'));
    return;
  }
  itemBox.append(h('p', { class: 'muted' }, 'reading…'));
  client.call('item', { id: arg }).then((r) => {
    clear(itemBox);
    if (!r) {
      itemBox.append(h('p', { class: 'bad', 'data-found': 'false' }, `No live item with id “${arg}”.`));
      return;
    }
    const it = r.item;
    itemBox.dataset.found = 'true';
    itemBox.append(h('h2', null, it.id), kv([
      ['Kind', it.kind || '—'],
      ['Time', `${time(it.timestamp)} (${it.timestamp})`],
      ['Embedding', r.dim ? `${r.dim}-d, norm ${r.norm.toFixed(6)}, first values [${r.head.map((x) => x.toFixed(4)).join(', ')}${r.dim > r.head.length ? ', …' : ''}]` : 'none'],
      ['Metadata', it.metadata && Object.keys(it.metadata).length ? h('pre', null, JSON.stringify(it.metadata, null, 2)) : '—'],
      ['Content', h('div', { class: 'content' }, it.content || '')],
    ], { id: 'item-kv' }));
    if (r.dim) itemBox.append(similarForm(arg, client, navigate));
  }).catch((e) => {
    clear(itemBox).append(h('p', { class: 'error' }, e.message));
  });
}

function similarForm(id, client, navigate) {
  const f = {
    k: h('input', { id: 'sim-k', type: 'number', min: 1, max: 1000, value: 10, size: 4 }),
    ef: h('input', { id: 'sim-ef', type: 'number', min: 0, value: 0, size: 5, title: '0: the store\'s default' }),
    kind: h('input', { id: 'sim-kind', placeholder: 'e.g. note,episode', size: 14 }),
    from: h('input', { id: 'sim-from', type: 'datetime-local', step: 1 }),
    to: h('input', { id: 'sim-to', type: 'datetime-local', step: 1 }),
    metaKey: h('input', { id: 'sim-meta-key', placeholder: 'metadata key', size: 12 }),
    metaValue: h('input', { id: 'sim-meta-value', placeholder: 'value(s), comma-separated', size: 18 }),
  };
  const out = h('div', { id: 'similar-result' });
  const utc = (v) => (v ? `${v}Z` : '');
  const form = h('form', {
    id: 'similar-form',
    class: 'filters',
    onsubmit: async (ev) => {
      ev.preventDefault();
      clear(out).append(h('p', { class: 'muted' }, 'searching…'));
      const filter = filterFrom({ kind: f.kind.value, from: utc(f.from.value), to: utc(f.to.value), metaKey: f.metaKey.value.trim(), metaValue: f.metaValue.value });
      try {
        const r = await client.call('similar', { id, k: Number(f.k.value) || 10, ef: Number(f.ef.value) || 0, filter });
        clear(out);
        out.append(h('h3', null, `${r.hits.length} similar item(s) in ${r.ms.toFixed(1)} ms`));
        out.append(h('table', { class: 'grid', id: 'similar-table' },
          h('thead', null, h('tr', null, ['#', 'id', 'score', 'kind', 'time', 'content'].map((c) => h('th', null, c)))),
          h('tbody', null, r.hits.map((hit, i) => h('tr', null, h('td', { class: 'num' }, i + 1),
            h('td', null, h('a', { href: `#/items/${encodeURIComponent(hit.id)}`, onclick: (e) => { e.preventDefault(); navigate('items', hit.id); } }, hit.id)),
            h('td', { class: 'num' }, hit.score.toFixed(4)), h('td', null, hit.kind || ''), h('td', null, time(hit.timestamp)),
            h('td', { class: 'content' }, hit.content))))));
        out.append(h('h3', null, 'How the planner ran it'), planDiagram(r.plan),
          h('details', null, h('summary', null, 'plan JSON'), h('pre', null, JSON.stringify(r.plan, null, 2))));
      } catch (e) {
        clear(out).append(h('p', { class: 'error' }, e.message));
      }
    },
  },
  h('h3', null, 'Similar items'),
  h('label', null, 'k ', f.k), h('label', null, 'ef ', f.ef), h('label', null, 'kind ', f.kind),
  h('label', null, 'from (UTC) ', f.from), h('label', null, 'to (UTC) ', f.to),
  h('label', null, 'metadata ', f.metaKey, ' = ', f.metaValue),
  h('button', { type: 'submit', id: 'similar-go' }, 'Find similar'));
  return h('div', null, form, out);
}
