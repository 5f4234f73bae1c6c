// Where each kind of problem is handled in the operations runbook
// (DEBUGGING_STORAGE.md) and which `t4dx` command does that step (core/tools/cli/README.md:
// "Runbook step -> t4dx command"). DIR stands for the data directory; the inspector does
// not know its path on the operator's machine.

export const RUNBOOK_FILE = 'DEBUGGING_STORAGE.md';

// GitHub-style heading anchors of the runbook.
function anchor(title) {
  return title.toLowerCase().replace(/[^a-z0-9 -]/g, '').trim().replace(/ /g, '-');
}

function section(path, title, steps) {
  return { file: RUNBOOK_FILE, path, title, anchor: anchor(title), steps };
}

export const SECTIONS = {
  segment_checksum: section('Common Issues & Solutions', 'Issue: Segment Checksum Failure', [
    'Verify the segment and look at its files (`GET /segment/{id}/verify`, `ls -la seg_NNNNNN/`).',
    'Recover it from the WAL: the engine rebuilds a damaged segment that the retained WAL still covers.',
    'Otherwise move the segment aside and restart; check the disk (fsck -n, smartctl).',
  ]),
  segment_missing: section('Common Issues & Solutions', 'Issue: Segment Checksum Failure', [
    'A segment folder listed in global_index.json is missing (moved aside or lost).',
    '"Restart - engine will rebuild on startup": the engine rebuilds it from the WAL when the WAL still covers its LSN range.',
  ]),
  wal_torn: section('Common Issues & Solutions', 'Issue: Storage Recovery Fails After Crash', [
    'A crash in the middle of a write leaves a partial last WAL line: "Manually remove last WAL entry (if it\'s partial)".',
    'The engine does this by itself on its next read-write open (the cut bytes are saved under quarantine/). Nothing acknowledged is lost.',
  ]),
  wal_corrupt: section('Common Issues & Solutions', 'Issue: Storage Recovery Fails After Crash', [
    '"Check for partial/corrupt entries"; "Attempt recovery with strict mode" (T4DM_RECOVERY_STRICT=true refuses to open and names the file, line and byte offset).',
    'The default recovery opens at the last good entry and quarantines the rest; restore from a backup or snapshot if the quarantined entries matter.',
  ]),
  wal_unbounded: section('Common Issues & Solutions', 'Issue: WAL Growing Unbounded', [
    'Check the WAL size, its entry count and the compaction history.',
    'Compact the WAL (safe); flush the MemTable to segments.',
  ]),
  memtable: section('Common Issues & Solutions', 'Issue: MemTable Never Flushes', [
    'Check the MemTable state against the flush threshold; trigger a manual flush.',
  ]),
  global_index: section('Symptoms', 'Global Index Corrupted', [
    '"JSON parse error in global_index.json, concurrent writes": the manifest is rebuilt from the segments on disk.',
    'Then run the consistency checks of "Check Global Index" again.',
  ]),
  global_index_check: section('Code-Based Debugging', 'Check Global Index', [
    'Every id must point to a listed segment; the item counts per segment must add up.',
  ]),
  hnsw: section('Symptoms', 'HNSW Index Out of Sync', [
    '"Vector count in index != stored vectors": rebuild the HNSW index from the segments ("Rebuild HNSW Index").',
    'The index is derived data: the engine rebuilds a missing or damaged one in the background; searches scan exactly meanwhile.',
  ]),
  history: section('Diagnostic Commands', 'Segment Inspection', [
    'The compaction history is a log for people ("List segment compaction history"); recovery does not depend on it.',
  ]),
  snapshot: section('Common Issues & Solutions', 'Issue: Storage Recovery Fails After Crash', [
    '"Restore from backup": a snapshot whose member digests do not match was altered or damaged after it was written; take a new one.',
  ]),
  open_failed: section('Common Issues & Solutions', 'Issue: Storage Recovery Fails After Crash', [
    'The store does not open even read-only: work from the file checks below, repair, or restore from a backup.',
  ]),
  engine: section('Checklist for Storage Debugging', 'Checklist for Storage Debugging', [
    'Go through the checklist: status, global index, HNSW stats, MemTable, checksums.',
  ]),
};

/** t4dx commands for a problem kind. seg: segment id ("000001") where it applies. */
export function commandsFor(kind, { seg, archive } = {}) {
  const D = archive ? 'FILE.tar' : 'DIR';
  const restore = archive ? ['t4dx snapshot restore FILE.tar DIR   # repairs work on a directory'] : [];
  switch (kind) {
    case 'segment_checksum':
      return [`t4dx --data ${D} segment verify ${seg || '000001'}`, ...restore,
        `t4dx --data DIR segment repair ${seg || '000001'}`];
    case 'segment_missing':
      return [`t4dx --data ${D} verify`, ...restore, 't4dx --data DIR recover'];
    case 'wal_torn':
      return [`t4dx --data ${D} wal check`, ...restore, 't4dx --data DIR wal repair'];
    case 'wal_corrupt':
      return [`t4dx --data ${D} wal check`, ...restore,
        'T4DM_RECOVERY_STRICT=true t4dx --data DIR recover', 't4dx --data DIR wal repair'];
    case 'wal_unbounded':
      return [`t4dx --data ${D} wal stats`, 't4dx --data DIR wal compact --keep 10000', 't4dx --data DIR flush'];
    case 'memtable':
      return [`t4dx --data ${D} memtable`, 't4dx --data DIR flush'];
    case 'global_index':
      return [`t4dx --data ${D} global-index check`, ...restore, 't4dx --data DIR global-index rebuild'];
    case 'global_index_check':
      return [`t4dx --data ${D} global-index check`, 't4dx --data DIR global-index rebuild'];
    case 'hnsw':
      return [`t4dx --data ${D} hnsw stats`, ...restore, 't4dx --data DIR hnsw rebuild'];
    case 'history':
      return [`t4dx --data ${D} compaction-history`];
    case 'snapshot':
      return ['t4dx snapshot verify FILE.tar', 't4dx --data DIR snapshot create NEW.tar'];
    case 'open_failed':
      return [`t4dx --data ${D} verify`, ...restore, 't4dx --data DIR recover'];
    default:
      return [`t4dx --data ${D} status`, `t4dx --data ${D} verify`];
  }
}
