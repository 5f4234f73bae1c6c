// What the clients of a reliability run were told, per item id, and the check of a store
// against it.
//
// Every id belongs to one client, and a client sends its operations one at a time, so an id
// has at most one operation in flight. Its entry holds the last acknowledged value
// (`confirmed`: {content, vector} or null when absent / deleted) and, while an operation is
// in flight, that operation's value (`pending`). When the server is killed, an id with a
// pending operation may show either value; anything else is a lost acknowledged write (or a
// deleted item back). Checking an id resolves it: the value seen becomes the confirmed one.
// A batch is all or nothing: after a crash its items are all there or none.
import { sameVector } from './lib.mjs';

export class AckModel {
  constructor() {
    this.items = new Map();   // id -> {confirmed, pending?: {value}, batch?: number}
    this.batches = new Map(); // batch number -> ids, while the batch is unresolved
    this.nextBatch = 1;
    this.acked = 0;           // acknowledged operations
    this.ackedDeletes = 0;
  }

  begin(id, value, batch) {
    let e = this.items.get(id);
    if (!e) { e = { confirmed: null }; this.items.set(id, e); }
    e.pending = { value };
    if (batch !== undefined) e.batch = batch;
    return e;
  }

  // Acknowledged (2xx): the pending value is now the truth.
  ack(id) {
    const e = this.items.get(id);
    if (e.pending && e.pending.value === null) this.ackedDeletes++;
    e.confirmed = e.pending.value;
    delete e.pending;
    delete e.batch;
    this.acked++;
  }

  // Refused with an answer (4xx/5xx): nothing happened.
  refuse(id) {
    const e = this.items.get(id);
    delete e.pending;
    delete e.batch;
  }

  beginBatch(entries) {
    const n = this.nextBatch++;
    for (const [id, value] of entries) this.begin(id, value, n);
    this.batches.set(n, entries.map(([id]) => id));
    return n;
  }

  endBatch(n, acked) {
    for (const id of this.batches.get(n)) acked ? this.ack(id) : this.refuse(id);
    this.batches.delete(n);
  }

  liveIds() {
    const out = [];
    for (const [id, e] of this.items) if (e.confirmed && !e.pending) out.push(id);
    return out;
  }

  deletedIds() {
    const out = [];
    for (const [id, e] of this.items) if (e.confirmed === null && !e.pending) out.push(id);
    return out;
  }

  pendingIds() {
    const out = [];
    for (const [id, e] of this.items) if (e.pending) out.push(id);
    return out;
  }

  // Compares what the store shows for id (observed: {content, vector} or null) with what
  // may be there; resolves a pending operation. Returns an error text or null.
  check(id, observed) {
    const e = this.items.get(id);
    const same = (v) => (v === null ? observed === null
      : observed !== null && observed.content === v.content && sameVector(observed.vector, v.vector));
    if (same(e.confirmed)) {
      delete e.pending;
      return null;
    }
    if (e.pending && same(e.pending.value)) {
      e.confirmed = e.pending.value;
      delete e.pending;
      return null;
    }
    const show = (v) => (v === null ? 'absent' : JSON.stringify(v.content));
    const want = show(e.confirmed) + (e.pending ? ` or (in flight) ${show(e.pending.value)}` : '');
    return `item ${id}: store shows ${observed === null ? 'absent' : JSON.stringify(observed.content)}` +
      `, acknowledged state is ${want}` +
      (e.confirmed === null && observed !== null && !e.pending ? ' (a deleted or never acknowledged item is back)' : '') +
      (e.confirmed !== null && observed === null ? ' (an acknowledged write is lost)' : '');
  }

  // After the ids of unresolved batches were checked (checked: a Set of the ids read): each
  // batch all there or none.
  checkBatches(checked, observedPresent) {
    const errors = [];
    for (const [n, ids] of this.batches) {
      if (!ids.every((id) => checked.has(id))) continue;
      const present = ids.filter((id) => observedPresent(id));
      if (present.length !== 0 && present.length !== ids.length) {
        errors.push(`batch ${n} half applied after a crash: ${present.length} of ${ids.length} items present`);
      }
      for (const id of ids) delete this.items.get(id).batch;
      this.batches.delete(n);
    }
    return errors;
  }
}

// Reads one item from the service: {observed} ({content, vector} or null) or {error}.
export async function readItem(svc, session, id) {
  const r = await svc.get(`/episodes/${encodeURIComponent(id)}?session_id=${session}`);
  if (r.status === 200 && r.json) return { observed: { content: r.json.content, vector: r.json.embedding } };
  if (r.status === 404 && r.json && r.json.error &&
      (r.json.error.code === 'item_not_found' || r.json.error.code === 'session_not_found')) {
    return { observed: null };
  }
  return { error: `GET /episodes/${id}: ${r.status} ${r.text || r.error}` };
}

// Checks ids against the model through the service, `parallel` requests at a time.
// Returns the error texts.
export async function checkIds(svc, session, model, ids, parallel = 8) {
  const errors = [];
  const present = new Set();
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++];
      const r = await readItem(svc, session, id);
      if (r.error) { errors.push(r.error); continue; }
      if (r.observed !== null) present.add(id);
      const e = model.check(id, r.observed);
      if (e) errors.push(e);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  errors.push(...model.checkBatches(new Set(ids), (id) => present.has(id)));
  return errors;
}
