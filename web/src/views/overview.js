// Overview: the verdict, the problems worst first (each linked to its view, its runbook
// section and the t4dx commands), the store at a glance, the report downloads.
import { bytes, download, duration, h, kv, num } from '../dom.js';
import { buildReport, reportToMarkdown } from '../report.js';

function loc(p) {
  const bits = [];
  if (p.file) bits.push(h('code', null, p.file));
  if (p.line) bits.push(` line ${p.line}`);
  if (p.offset !== null && p.offset !== undefined && p.offset >= 0) bits.push(`, byte offset ${p.offset}`);
  return bits;
}

function problemItem(p, navigate) {
  const viewLabel = {
    segments: 'Segments', wal: 'WAL', 'global-index': 'Global index', hnsw: 'HNSW', history: 'History', overview: 'Overview',
  };
  const [view, arg] = p.view.split('/');
  return h('li', {
    class: `problem sev-${p.severity}`,
    'data-kind': p.kind,
    'data-severity': p.severity,
    'data-file': p.file || '',
    'data-line': p.line ?? '',
    'data-offset': p.offset ?? '',
    'data-segment': p.segment || '',
  },
  h('div', { class: 'ptitle' }, h('span', { class: `badge ${p.severity}` }, p.severity), ' ', h('strong', null, p.title)),
  p.file ? h('div', { class: 'pwhere' }, 'Where: ', loc(p)) : null,
  h('div', { class: 'preason' }, p.reason),
  h('div', { class: 'plinks' },
    view !== 'overview' ? h('a', { href: `#/${view}${arg ? '/' + arg : ''}`, onclick: (ev) => { ev.preventDefault(); navigate(view, arg); } },
      `Show in ${viewLabel[view] || view} →`) : null,
    h('details', null,
      h('summary', null, `Runbook: ${p.runbook.path} › ${p.runbook.title}`),
      h('p', { class: 'muted' }, `${p.runbook.file}#${p.runbook.anchor}`),
      h('ul', null, p.runbook.steps.map((s) => h('li', null, s))))),
  h('pre', { class: 'cmd', 'aria-label': 'commands' }, p.commands.join('\n')));
}

export function render(el, { model, navigate }) {
  const d = model.diagnosis;
  const v = model.engine.views || {};
  const st = v.status || {};
  const walr = model.wal && model.wal.report;
  const segs = (v.segments && v.segments.segments) || [];

  el.append(h('section', { id: 'verdict', class: `verdict v-${d.verdict}`, 'data-verdict': d.verdict },
    h('h1', null, d.label),
    h('p', null, d.text),
    h('p', { class: 'counts' },
      `${d.counts.critical} critical · ${d.counts.error} error · ${d.counts.warning} warning · ${d.counts.info} info`)));

  if (d.problems.length) {
    el.append(h('ol', { id: 'problems', class: 'problems' }, d.problems.map((p) => problemItem(p, navigate))));
  }

  const glance = h('div', { class: 'cards' },
    card('Items', model.engine.opened ? num(model.engine.count ?? st.items) : 'store did not open'),
    card('Segments', `${num(segs.length)} open · ${num(model.check ? model.check.segments_on_disk : null)} on disk · ${num(model.check ? model.check.segments_verified : null)} verified`),
    card('WAL', walr ? `${num(walr.records)} records · ${bytes(walr.bytes)} · ${walr.verdict}` : '—'),
    card('Replay estimate', v.replay_estimate ? duration(v.replay_estimate.estimated_seconds) : '—'),
    card('HNSW', v.hnsw_stats ? `${num(v.hnsw_stats.indexed_vectors)} indexed / ${num(v.hnsw_stats.stored_live_vectors)} stored${v.hnsw_stats.in_sync ? ' · in sync' : ' · out of sync'}` : '—'),
    card('Vectors', st.dim ? `${st.dim}-d · ${st.metric}` : '—'));
  el.append(h('h2', null, 'At a glance'), glance);

  const report = () => buildReport(model);
  const base = (model.source.name || 'store').replace(/[^A-Za-z0-9._-]+/g, '_');
  el.append(h('h2', null, 'Diagnosis report'),
    h('p', null, 'Attach it to a ticket: the verdict, every problem with its file, line and offset, the fixes, and every engine report in full (JSON).'),
    h('div', { class: 'buttons' },
      h('button', { type: 'button', id: 'download-json', onclick: () => download(`${base}.t4dx-report.json`, JSON.stringify(report(), null, 2), 'application/json') }, 'Download JSON'),
      h('button', { type: 'button', id: 'download-md', onclick: () => download(`${base}.t4dx-report.md`, reportToMarkdown(report()), 'text/markdown') }, 'Download Markdown')));

  el.append(h('h2', null, 'Source and timings'), kv([
    ['Source', `${model.source.kind} “${model.source.name}” · ${num(model.source.files)} file(s) · ${bytes(model.source.bytes)}`],
    ['Opened read-only', model.engine.opened ? 'yes' : `no — ${model.engine.error ? model.engine.error.message : ''}`],
    ['Time to overview', `${num(model.loadMs)} ms`],
    ['Read from the files', model.bytesRead !== undefined ? `${bytes(model.bytesRead)} (every check, the WAL scan and the read-only open; 1 MiB blocks, cached in the Worker)` : '—'],
    ['Steps (ms)', Object.entries(model.timings || {}).map(([k, t]) => `${k.replace(/_ms$/, '')} ${t}`).join(' · ')],
  ]));
}

function card(title, value) {
  return h('div', { class: 'card' }, h('div', { class: 'ctitle' }, title), h('div', { class: 'cvalue' }, value));
}
