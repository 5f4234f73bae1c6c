// Example: an episode memory service over plain node:http with the t4dx package.
//
//   T4DX_DATA=./data PORT=8080 node examples/service.mjs
//
//   POST   /episodes          {"id","content","embedding":[...],"metadata":{...}} or an array
//   GET    /episodes/:id
//   DELETE /episodes/:id
//   POST   /search            {"vector":[...],"k":5,"filter":{...}}
//   GET    /health            count and store status
// Errors are JSON bodies {"error":{"code","message"}} with a matching HTTP status.
import http from 'node:http';

import { open } from 't4dx';

const STATUS = { not_found: 404, invalid_argument: 400, locked: 409, busy: 503, no_space: 507 };

export async function startService({ dataDir, port = 0, dim, host = '127.0.0.1' }) {
  const store = await open({ path: dataDir, dim });
  const server = http.createServer(async (req, res) => {
    const send = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    try {
      const url = new URL(req.url, 'http://localhost');
      let body = null;
      if (req.method === 'POST') {
        let text = '';
        for await (const chunk of req) text += chunk;
        try {
          body = JSON.parse(text);
        } catch (e) {
          send(400, { error: { code: 'invalid_argument', message: `body: ${e.message}` } });
          return;
        }
      }
      const m = /^\/episodes\/([^/]+)$/.exec(url.pathname);
      if (req.method === 'POST' && url.pathname === '/episodes') {
        const lsn = Array.isArray(body) ? await store.putBatch(body) : await store.put(body);
        send(201, { stored: Array.isArray(body) ? body.length : 1, lsn });
      } else if (req.method === 'GET' && m) {
        const item = await store.get(decodeURIComponent(m[1]));
        if (!item) send(404, { error: { code: 'not_found', message: `no episode ${m[1]}` } });
        else send(200, { ...item, embedding: item.embedding ? [...item.embedding] : undefined });
      } else if (req.method === 'DELETE' && m) {
        const deleted = await store.delete(decodeURIComponent(m[1]));
        send(deleted ? 200 : 404, deleted ? { deleted: true } : { error: { code: 'not_found', message: `no episode ${m[1]}` } });
      } else if (req.method === 'POST' && url.pathname === '/search') {
        const { vector, ...options } = body || {};
        const hits = await store.search(vector, options);
        send(200, { hits });
      } else if (req.method === 'GET' && url.pathname === '/health') {
        send(200, { status: 'ok', count: await store.count() });
      } else {
        send(404, { error: { code: 'not_found', message: `${req.method} ${url.pathname}` } });
      }
    } catch (e) {
      send(STATUS[e.code] || 500, { error: { code: e.code || 'internal', message: e.message } });
    }
  });
  await new Promise((resolve) => server.listen(port, host, resolve));
  return {
    port: server.address().port,
    async close() {
      await new Promise((resolve) => server.close(resolve));
      await store.close();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const svc = await startService({
    dataDir: process.env.T4DX_DATA || './data',
    port: Number(process.env.PORT || 8080),
    dim: process.env.T4DX_DIM ? Number(process.env.T4DX_DIM) : undefined,
  });
  console.log(`listening on http://127.0.0.1:${svc.port}`);
  const stop = async () => {
    await svc.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
