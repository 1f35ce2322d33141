// Worker-thread entry of the off-thread registry load (config/registry-off-thread.ts): reads, parses
// and validates one registry file away from the event loop that answers checks, and posts back the
// validated registry as JSON text (a validated registry is plain JSON data: strings, numbers, booleans,
// arrays, objects), or the ConfigError's code, file and issues (which never quote a value).
import { parentPort, workerData } from 'node:worker_threads';
import { loadRegistryFile } from './registry';
import { ConfigError } from './registry-errors';
import { digestOfJson } from './registry-digest';
import type { LoadReply, LoadRequest } from './registry-off-thread';

function run(req: LoadRequest): LoadReply {
  const started = performance.now();
  try {
    const reg = loadRegistryFile(req.file, { env: req.env, baseDir: req.baseDir });
    const digest = digestOfJson(reg.keys.hash_key, JSON.stringify(reg));
    // The two long lists travel as one JSON text per entry, so the receiving event loop can parse them
    // in slices; the rest keeps its key order with empty lists in their place.
    const connections = reg.connections.map((c) => JSON.stringify(c));
    const issuers = reg.issuers.map((i) => JSON.stringify(i));
    const head = JSON.stringify({ ...reg, connections: [], issuers: [] });
    return { ok: true, head, connections, issuers, digest, loadMs: performance.now() - started };
  } catch (e) {
    if (e instanceof ConfigError) return { ok: false, code: e.code, file: e.file, issues: e.issues };
    return { ok: false, unexpected: e instanceof Error ? e.name : typeof e };
  }
}

parentPort?.postMessage(run(workerData as LoadRequest));
