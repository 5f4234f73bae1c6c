// The diagnosis report a user attaches to a ticket: JSON (everything the engine reported,
// plus the verdict) and Markdown (the same, for people). Pure functions over the model the
// Worker built; no DOM.

import { walOpCounts } from './analysis.js';

export const REPORT_FORMAT = 't4dx-inspector-report';
export const REPORT_VERSION = 1;

function iso(ms) {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}

/** The JSON report (a plain object). now: ms (for tests). */
export function buildReport(model, { now = Date.now(), generator = 't4dx web inspector' } = {}) {
  const d = model.diagnosis;
  const v = (model.engine && model.engine.views) || {};
  const segs = (v.segments && v.segments.segments) || [];
  const walr = model.wal && model.wal.report;
  return {
    format: REPORT_FORMAT,
    version: REPORT_VERSION,
    generator,
    generated_at: iso(now),
    source: model.source,
    verdict: { code: d.verdict, label: d.label, text: d.text, counts: d.counts },
    problems: d.problems.map((p) => ({
      id: p.id,
      severity: p.severity,
      area: p.area,
      title: p.title,
      reason: p.reason,
      file: p.file || null,
      line: p.line || null,
      offset: p.offset ?? null,
      segment: p.segment || null,
      runbook: `${p.runbook.file} › ${p.runbook.path} › ${p.runbook.title}`,
      runbook_anchor: `${p.runbook.file}#${p.runbook.anchor}`,
      commands: p.commands,
    })),
    summary: {
      store_opened: !!(model.engine && model.engine.opened),
      open_error: (model.engine && model.engine.error) || null,
      items: model.engine ? model.engine.count ?? null : null,
      dim: v.status ? v.status.dim : null,
      metric: v.status ? v.status.metric : null,
      segments: segs.length,
      segments_on_disk: model.check ? model.check.segments_on_disk : null,
      segments_verified: model.check ? model.check.segments_verified : null,
      wal_bytes: walr ? walr.bytes : null,
      wal_records: walr ? walr.records : null,
      wal_entries: walr ? walr.entries : null,
      wal_verdict: walr ? walr.verdict : null,
      wal_op_counts: walr ? walOpCounts(walr, model.wal.opCounts) : null,
      replay_estimate_s: v.replay_estimate ? v.replay_estimate.estimated_seconds : null,
      hnsw_in_sync: v.hnsw_stats ? v.hnsw_stats.in_sync : null,
      global_index_consistent: v.global_index ? v.global_index.consistency.ok : null,
    },
    timings_ms: model.timings,
    engine: {
      check_files: model.check,
      check_files_error: model.checkError,
      snapshot: model.snapshot ? model.snapshot.info : null,
      wal: walr || null,
      views: v,
      view_errors: model.engine ? model.engine.viewErrors : {},
    },
  };
}

function esc(s) {
  return String(s ?? '—').replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function table(head, rows) {
  const out = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) out.push(`| ${r.map(esc).join(' | ')} |`);
  return out.join('\n');
}

/** Markdown for people, from the JSON report. */
export function reportToMarkdown(r) {
  const L = [];
  L.push(`# T4DX diagnosis: ${r.verdict.label}`);
  L.push('');
  L.push(`- Source: ${r.source.kind} \`${r.source.name || '(unnamed)'}\` (${r.source.files} file(s), ${r.source.bytes} bytes)`);
  L.push(`- Generated: ${r.generated_at} by ${r.generator}`);
  L.push(`- Verdict: **${r.verdict.label}** — ${r.verdict.text}`);
  const c = r.verdict.counts;
  L.push(`- Problems: ${c.critical} critical, ${c.error} error, ${c.warning} warning, ${c.info} info`);
  L.push('');
  L.push('## Problems (worst first)');
  L.push('');
  if (r.problems.length === 0) L.push('None.');
  for (const p of r.problems) {
    L.push(`### ${p.id}. [${p.severity}] ${p.title}`);
    L.push('');
    const loc = [p.file && `file \`${p.file}\``, p.line && `line ${p.line}`, p.offset !== null && p.offset !== undefined && p.offset >= 0 && `byte offset ${p.offset}`]
      .filter(Boolean).join(', ');
    if (loc) L.push(`- Where: ${loc}`);
    L.push(`- Reason: ${p.reason}`);
    L.push(`- Runbook: ${p.runbook}`);
    L.push('- Fix:');
    L.push('');
    L.push('```sh');
    for (const cmd of p.commands) L.push(cmd);
    L.push('```');
    L.push('');
  }
  const s = r.summary;
  L.push('## Summary');
  L.push('');
  L.push(table(['figure', 'value'], [
    ['store opened read-only', s.store_opened ? 'yes' : `no (${s.open_error ? s.open_error.message : ''})`],
    ['items', s.items],
    ['dimension / metric', `${s.dim ?? '—'} / ${s.metric ?? '—'}`],
    ['segments (open / on disk / verified)', `${s.segments} / ${s.segments_on_disk ?? '—'} / ${s.segments_verified ?? '—'}`],
    ['WAL bytes / records / entries', `${s.wal_bytes ?? '—'} / ${s.wal_records ?? '—'} / ${s.wal_entries ?? '—'}`],
    ['WAL verdict', s.wal_verdict],
    ['WAL operations', s.wal_op_counts ? Object.entries(s.wal_op_counts).map(([k, v]) => `${k}: ${v}`).join(', ') : '—'],
    ['replay estimate (s)', s.replay_estimate_s],
    ['HNSW in sync', s.hnsw_in_sync],
    ['global index consistent', s.global_index_consistent],
  ]));
  L.push('');
  const segs = (r.engine.views.segments && r.engine.views.segments.segments) || [];
  if (segs.length) {
    L.push('## Segments');
    L.push('');
    const bad = new Set(r.problems.filter((p) => p.segment).map((p) => p.segment));
    L.push(table(['id', 'items', 'live', 'bytes', 'dim', 'LSN range', 'checksum'],
      segs.map((g) => [g.id, g.items, g.live, g.bytes, g.vector_dim, `${g.lsn_min}..${g.lsn_max}`, bad.has(g.id) ? 'FAILED' : 'ok'])));
    L.push('');
  }
  const w = r.engine.wal;
  if (w && w.wal_files) {
    L.push('## WAL files');
    L.push('');
    L.push(table(['file', 'bytes', 'records', 'LSN range', 'problem'],
      w.wal_files.map((f) => [f.name, f.bytes, f.records, `${f.first_lsn}..${f.last_lsn}`,
        f.problem ? `${f.problem.kind} at line ${f.problem.line}, byte ${f.problem.offset}: ${f.problem.reason}` : 'none'])));
    L.push('');
  }
  L.push('## Timings (ms)');
  L.push('');
  L.push(table(['step', 'ms'], Object.entries(r.timings_ms || {})));
  L.push('');
  L.push('The JSON form of this report carries every engine report in full.');
  return L.join('\n') + '\n';
}
