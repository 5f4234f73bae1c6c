// The inspector page: loading (folder input, drag and drop, .tar, OPFS), the progress bar,
// the views and keyboard navigation. All engine work happens in the Worker
// (inspector_worker.js); this thread only renders.
import { InspectorClient } from './client.js';
import { bytes, clear, h, num } from './dom.js';
import { droppedItems, entriesFromInput, filesUnder, findStoreRoots, storeSummaries } from './loader.js';
import * as overview from './views/overview.js';
import * as segments from './views/segments.js';
import * as walView from './views/wal.js';
import * as globalIndex from './views/global_index.js';
import * as hnsw from './views/hnsw.js';
import * as items from './views/items.js';
import * as historyView from './views/history.js';

const VIEWS = {
  overview,
  segments,
  wal: walView,
  'global-index': globalIndex,
  hnsw,
  items,
  history: historyView,
};
const ORDER = ['overview', 'segments', 'wal', 'global-index', 'hnsw', 'items', 'history'];

const $ = (id) => document.getElementById(id);
const state = {
  client: null, model: null, loading: false, loadStarted: 0, timer: null,
  progressLog: [],  // every progress event of the last load: {ms, stage, fraction, bytesRead}
  stores: null,     // when a data root holding several stores was opened: {name, entries, list, current}
};
const MAX_PROGRESS_LOG = 5000;

// ------------------------------------------------------------------- progress, errors

function showError(message) {
  const el = $('error');
  if (!message) {
    el.hidden = true;
    return;
  }
  el.textContent = message;
  el.hidden = false;
}

function setProgress(p) {
  if (state.progressLog.length < MAX_PROGRESS_LOG) {
    state.progressLog.push({ ms: Math.round(performance.now() - state.loadStarted), stage: p.stage, fraction: p.fraction, bytesRead: p.bytesRead || 0 });
  }
  $('progress-box').hidden = false;
  $('progress').value = p.fraction;
  $('progress-label').textContent = p.bytesRead ? `${p.label} · ${bytes(p.bytesRead)} read` : p.label;
  $('progress-box').dataset.stage = p.stage;
}

function startTimer() {
  state.loadStarted = performance.now();
  clearInterval(state.timer);
  state.timer = setInterval(() => {
    $('progress-time').textContent = `${((performance.now() - state.loadStarted) / 1000).toFixed(1)} s`;
  }, 200);
}

function stopTimer() {
  clearInterval(state.timer);
  $('progress-time').textContent = `${((performance.now() - state.loadStarted) / 1000).toFixed(2)} s`;
}

// ---------------------------------------------------------------------------- loading

async function load(params) {
  if (state.loading) return;
  state.loading = true;
  showError('');
  document.body.dataset.state = 'loading';
  if (state.client) state.client.terminate();
  state.client = new InspectorClient({ onProgress: setProgress });
  state.model = null;
  state.progressLog = [];
  walView.reset();
  startTimer();
  setProgress({ stage: 'start', label: 'Starting…', fraction: 0 });
  try {
    const transfer = [];
    if (params.files) for (const f of params.files) if (f.data instanceof Uint8Array) transfer.push(f.data.buffer);
    const model = await state.client.call('load', params, transfer);
    model.loadMs = Math.round(performance.now() - state.loadStarted);
    state.model = model;
    stopTimer();
    $('progress-label').textContent = `Loaded ${params.name || ''}`;
    $('progress').value = 1;
    $('welcome').hidden = true;
    $('tabs').hidden = false;
    $('source').textContent = `${params.kind === 'archive' ? 'snapshot' : params.kind} · ${params.name || ''}`;
    showStoreSwitch(params);
    document.body.dataset.state = 'loaded';
    if (location.hash.startsWith('#/overview') || !location.hash) route();
    else location.hash = '#/overview';
  } catch (e) {
    stopTimer();
    document.body.dataset.state = 'error';
    showError(`Could not open ${params.name || 'the store'}: ${e.message}`);
  } finally {
    state.loading = false;
  }
}

// A data root holding several stores (the service's data/ with one folder per session):
// the stores found, what each holds (from names and sizes; nothing is read), one button
// each. After a load, a select in the tab bar switches to another store of the same root.
function loadEntries(entries, name) {
  const roots = findStoreRoots(entries.map((e) => e.path));
  const chooser = $('chooser');
  clear(chooser);
  chooser.hidden = true;
  state.stores = null;
  if (roots.length === 0) {
    showError(`${name}: no store found (no global_index.json, wal.jsonl or seg_NNNNNN/ folder in it)`);
    return;
  }
  if (roots.length === 1) {
    loadStore(entries, roots[0], name);
    return;
  }
  const list = storeSummaries(entries, roots);
  state.stores = { name, entries, list, current: null };
  showChooser();
}

function loadStore(entries, root, name) {
  const files = filesUnder(entries, root);
  const label = root ? root.split('/').pop() : name;
  if (state.stores) state.stores.current = root;
  load({ kind: 'folder', name: label, files });
}

function showChooser() {
  const { name, entries, list } = state.stores;
  const chooser = $('chooser');
  clear(chooser);
  chooser.hidden = false;
  $('welcome').hidden = false;
  chooser.append(h('h2', null, `${name} holds ${list.length} stores (sessions) — pick one`),
    h('table', { class: 'grid stores', id: 'stores-table' },
      h('thead', null, h('tr', null, ['store', 'segments', 'WAL files', 'WAL bytes', 'files', 'bytes', 'global_index.json', 'hnsw.idx']
        .map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', null, list.map((s) => h('tr', { 'data-store': s.name, 'data-root': s.root },
        h('td', null, h('button', { type: 'button', title: s.root, onclick: () => loadStore(entries, s.root, name) }, s.root || name)),
        h('td', { class: 'num' }, num(s.segments)), h('td', { class: 'num' }, num(s.walFiles)), h('td', { class: 'num' }, bytes(s.walBytes)),
        h('td', { class: 'num' }, num(s.files)), h('td', { class: 'num' }, bytes(s.bytes)),
        h('td', null, s.manifest ? 'yes' : h('span', { class: 'warn' }, 'missing')), h('td', null, s.hnsw ? 'yes' : 'no'))))));
  chooser.querySelector('button').focus();
}

function showStoreSwitch(params) {
  const box = $('store-switch');
  clear(box);
  const st = state.stores;
  if (!st || params.kind !== 'folder' || !st.list.some((s) => s.root === st.current)) {
    box.hidden = true;
    return;
  }
  const sel = h('select', { id: 'store-select', 'aria-label': `stores in ${st.name}` },
    st.list.map((s) => h('option', { value: s.root, selected: s.root === st.current }, s.root || st.name)));
  sel.addEventListener('change', () => loadStore(st.entries, sel.value, st.name));
  box.append(h('label', { for: 'store-select' }, `${st.list.length} stores in ${st.name}: `), sel);
  box.hidden = false;
}

function setupLoaders() {
  $('folder-input').addEventListener('change', (ev) => {
    const files = ev.target.files;
    if (!files || files.length === 0) return;
    const entries = entriesFromInput(files);
    const top = entries[0].path.split('/')[0];
    loadEntries(entries, top);
    ev.target.value = '';
  });
  $('tar-input').addEventListener('change', (ev) => {
    const f = ev.target.files && ev.target.files[0];
    if (!f) return;
    state.stores = null;
    load({ kind: 'archive', name: f.name, file: f });
    ev.target.value = '';
  });

  document.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    document.body.classList.add('dragging');
  });
  document.addEventListener('dragleave', (ev) => {
    if (ev.target === document.documentElement || ev.target === document.body) document.body.classList.remove('dragging');
  });
  document.addEventListener('drop', async (ev) => {
    ev.preventDefault();
    document.body.classList.remove('dragging');
    const read = droppedItems(ev.dataTransfer);
    try {
      const got = await read();
      if (got.kind === 'archive') {
        state.stores = null;
        load({ kind: 'archive', name: got.name, file: got.file });
      }
      else loadEntries(got.entries, got.name);
    } catch (e) {
      showError(`Could not read what was dropped: ${e.message}`);
    }
  });

  $('opfs-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const name = $('opfs-name').value.trim();
    if (!name) return;
    showError('');
    try {
      const pkg = await import('./t4dx_browser.js');
      setProgress({ stage: 'opfs', label: `Reading OPFS store ${name}`, fraction: 0 });
      $('progress-box').hidden = false;
      const files = await pkg.exportFiles(name);
      if (!files.length) throw new Error(`no OPFS store named ${name} in this browser`);
      state.stores = null;
      load({ kind: 'opfs', name, files: files.map((f) => ({ path: f.path, data: f.data })) });
    } catch (e) {
      showError(`OPFS store ${name}: ${e.message}`);
    }
  });
  // The package's browser entry loads only when someone reaches for an OPFS store.
  $('opfs-name').addEventListener('focus', listOpfsStores, { once: true });
}

async function listOpfsStores() {
  try {
    const pkg = await import('./t4dx_browser.js');
    if (typeof pkg.listStores !== 'function') return;
    const names = await pkg.listStores();
    const dl = $('opfs-stores');
    clear(dl);
    for (const n of names) dl.append(h('option', { value: n }));
  } catch {
    // no OPFS in this context (e.g. file://): the name field still works where OPFS does
  }
}

// ----------------------------------------------------------------------------- routing

function parseHash() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  return { view: parts[0] || 'overview', arg: parts.slice(1).join('/') };
}

export function navigate(view, arg) {
  location.hash = `#/${view}${arg ? '/' + encodeURIComponent(arg) : ''}`;
}

function route() {
  if (!state.model) return;
  const { view, arg } = parseHash();
  const mod = VIEWS[view] || overview;
  for (const a of document.querySelectorAll('#tabs a')) {
    if (a.dataset.view === view) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const el = $('view');
  el.hidden = false;
  clear(el);
  el.dataset.view = VIEWS[view] ? view : 'overview';
  try {
    mod.render(el, { model: state.model, client: state.client, arg, navigate });
  } catch (e) {
    el.append(h('p', { class: 'error' }, `This view failed: ${e.message}`));
    console.error(e);
  }
}

function setupKeys() {
  document.addEventListener('keydown', (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const t = ev.target;
    if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable)) return;
    if (!state.model) return;
    const n = Number(ev.key);
    if (n >= 1 && n <= ORDER.length) {
      ev.preventDefault();
      navigate(ORDER[n - 1]);
    } else if (ev.key === '/') {
      ev.preventDefault();
      if (parseHash().view !== 'items') navigate('items');
      setTimeout(() => { const i = document.getElementById('item-id'); if (i) i.focus(); }, 0);
    }
  });
}

window.addEventListener('hashchange', route);
setupLoaders();
setupKeys();
// For tests and scripting: the loaded model and a way to load without the pickers.
window.t4dxInspector = {
  get model() { return state.model; },
  get progressLog() { return state.progressLog.slice(); },
  get stores() { return state.stores ? state.stores.list : null; },
  stats: () => (state.client ? state.client.call('stats', {}) : Promise.resolve(null)),
  load,
};
