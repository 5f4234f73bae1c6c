// Small DOM helpers: element builder, formatting, a sortable table. No framework: the page
// is a handful of views rendered from one model object.

/** h('div', {class: 'x', onclick: fn}, child, 'text', [more]) -> HTMLElement */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (v === true) el.setAttribute(k, '');
      else el.setAttribute(k, String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

const nf = new Intl.NumberFormat('en-US');
export function num(n) {
  if (n === undefined || n === null || Number.isNaN(n)) return '—';
  return nf.format(n);
}

export function bytes(n) {
  if (n === undefined || n === null) return '—';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

/** ms since the epoch -> "2024-11-26 19:59:01.123Z" (UTC, sortable, unambiguous). */
export function time(ms) {
  if (!ms && ms !== 0) return '—';
  if (ms === 0) return '—';
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return String(ms);
  return d.toISOString().replace('T', ' ').replace(/\.(\d+)Z$/, '.$1Z');
}

export function duration(seconds) {
  if (seconds === undefined || seconds === null) return '—';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  return `${(seconds / 60).toFixed(1)} min`;
}

export function range(a, b, fmt = num) {
  if ((a === undefined || a === null) && (b === undefined || b === null)) return '—';
  return a === b ? fmt(a) : `${fmt(a)} … ${fmt(b)}`;
}

/** A key/value table. rows: [[label, value], ...] (value: string or Node). */
export function kv(rows, attrs = {}) {
  return h('table', { class: 'kv', ...attrs },
    h('tbody', null, rows.filter(Boolean).map(([k, v, a]) => h('tr', a || null, h('th', { scope: 'row' }, k), h('td', null, v)))));
}

/**
 * A sortable table. columns: [{key, label, value: row => sortable, render?: row => Node|string,
 * class?}]. Header cells are buttons (keyboard: Tab + Enter/Space sorts).
 */
export function sortableTable(columns, rows, { initial, rowAttrs, caption, testid } = {}) {
  let sortKey = initial ? initial.key : columns[0].key;
  let dir = initial && initial.dir === 'desc' ? -1 : 1;
  const tbody = h('tbody');
  const headRow = h('tr');
  const table = h('table', { class: 'grid sortable', 'data-testid': testid },
    caption ? h('caption', null, caption) : null, h('thead', null, headRow), tbody);

  function render() {
    clear(headRow);
    for (const c of columns) {
      const active = c.key === sortKey;
      const th = h('th', {
        scope: 'col',
        class: c.class,
        'aria-sort': active ? (dir > 0 ? 'ascending' : 'descending') : 'none',
      }, h('button', {
        type: 'button',
        class: 'sort',
        onclick: () => {
          if (sortKey === c.key) dir = -dir;
          else {
            sortKey = c.key;
            dir = 1;
          }
          render();
        },
      }, c.label, active ? (dir > 0 ? ' ▲' : ' ▼') : ''));
      headRow.append(th);
    }
    const col = columns.find((c) => c.key === sortKey) || columns[0];
    const sorted = rows.slice().sort((a, b) => {
      const x = col.value(a);
      const y = col.value(b);
      if (x === y) return 0;
      if (x === undefined || x === null) return 1;
      if (y === undefined || y === null) return -1;
      return (x < y ? -1 : 1) * dir;
    });
    clear(tbody);
    for (const r of sorted) {
      const tr = h('tr', rowAttrs ? rowAttrs(r) : null);
      for (const c of columns) {
        const v = c.render ? c.render(r) : c.value(r);
        tr.append(h('td', { class: c.class }, v instanceof Node ? v : (v === undefined || v === null ? '—' : String(v))));
      }
      tbody.append(tr);
    }
  }
  render();
  return table;
}

export function download(name, text, type) {
  const blob = new Blob([text], { type });
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name, style: 'display:none' });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
