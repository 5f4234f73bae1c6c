// The page's side of the Worker protocol (see inspector_worker.js): one Worker per loaded
// store, Promise-returning calls, progress events while a load runs.
export class InspectorClient {
  constructor({ onProgress } = {}) {
    this.onProgress = onProgress || (() => {});
    this.worker = new Worker(new URL('./inspector_worker.js', import.meta.url), { type: 'module', name: 't4dx-inspector' });
    this.nextId = 1;
    this.waiting = new Map();
    this.ready = new Promise((resolve, reject) => {
      this.worker.onmessage = (ev) => {
        const m = ev.data || {};
        if (m.ready) {
          resolve();
          return;
        }
        if (m.progress) {
          this.onProgress(m.progress);
          return;
        }
        const w = this.waiting.get(m.id);
        if (!w) return;
        this.waiting.delete(m.id);
        if (m.error) w.reject(Object.assign(new Error(m.error.message), m.error));
        else w.resolve(m.result);
      };
      this.worker.onerror = (ev) => {
        const err = new Error(`inspector worker failed: ${ev.message || 'it could not be loaded'}`);
        err.code = 'worker_error';
        reject(err);
        for (const w of this.waiting.values()) w.reject(err);
        this.waiting.clear();
      };
    });
  }

  async call(method, params, transfer = []) {
    await this.ready;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, method, params }, transfer);
    });
  }

  terminate() {
    this.worker.terminate();
    for (const w of this.waiting.values()) w.reject(Object.assign(new Error('closed'), { code: 'aborted' }));
    this.waiting.clear();
  }
}
