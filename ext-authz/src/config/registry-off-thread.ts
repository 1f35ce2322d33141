// Registry reloads off the event loop (docs/performance.md, "Reload"): reading, parsing (YAML) and
// validating a large registry takes seconds (about 6 s for 5,000 connections), and done on the thread
// that answers checks it would hold every decision for that long. A worker thread does it instead; the
// event loop only parses the validated registry back from JSON (tens of milliseconds) and prepares it.
// The worker is the compiled registry-load-worker.js next to this file: running from the TypeScript
// sources (tests through a transform) there is none, and `offThreadRegistryLoader()` says so with null.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { RegistryConfig } from '../model/registry';
import { ConfigError } from './registry-errors';
import type { ConfigErrorCode, ConfigIssue } from './registry-errors';
import type { ParseOptions } from './registry';
import { rememberDigest } from './registry-digest';

export interface LoadRequest {
  file: string;
  env?: ParseOptions['env'];
  baseDir?: string;
}

export type LoadReply =
  | { ok: true; head: string; connections: string[]; issuers: string[]; digest: string; loadMs: number }
  | { ok: false; code: ConfigErrorCode; file: string; issues: ConfigIssue[] }
  | { ok: false; unexpected: string };

/** Loads a registry file; rejects with ConfigError as loadRegistryFile throws it. */
export type RegistryLoader = (file: string, opts: ParseOptions) => Promise<RegistryConfig>;

export const WORKER_FILE = path.join(__dirname, 'registry-load-worker.js');

/** The off-thread loader, or null where the compiled worker is absent (running from sources). */
export function offThreadRegistryLoader(workerFile: string = WORKER_FILE): RegistryLoader | null {
  if (!fs.existsSync(workerFile)) return null;
  return (file, opts) => loadInWorker(workerFile, { file, env: opts.env, baseDir: opts.baseDir });
}

/** Parses the worker's reply in slices of about `sliceMs`, giving the event loop back in between. */
async function parseSliced(reply: Extract<LoadReply, { ok: true }>, sliceMs = 5): Promise<RegistryConfig> {
  const reg = JSON.parse(reply.head) as RegistryConfig;
  let sliceStart = performance.now();
  const fill = async <T>(into: T[], texts: string[]): Promise<void> => {
    for (const t of texts) {
      into.push(JSON.parse(t) as T);
      if (performance.now() - sliceStart >= sliceMs) {
        await new Promise((r) => setImmediate(r));
        sliceStart = performance.now();
      }
    }
  };
  await fill(reg.connections, reply.connections);
  await fill(reg.issuers, reply.issuers);
  return reg;
}

function loadInWorker(workerFile: string, req: LoadRequest): Promise<RegistryConfig> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const worker = new Worker(workerFile, { workerData: req, stdout: true, stderr: true });
    const done = (f: () => void): void => {
      if (settled) return;
      settled = true;
      f();
      void worker.terminate();
    };
    worker.once('message', (reply: LoadReply) =>
      done(() => {
        if (reply.ok) {
          parseSliced(reply).then((reg) => {
            // The revision was digested in the worker from the same registry (config/registry-digest.ts).
            rememberDigest(reg, reply.digest);
            resolve(reg);
          }, reject);
        }
        else if ('code' in reply) reject(new ConfigError(reply.code, reply.file, reply.issues));
        else reject(new ConfigError('config_unreadable', req.file, [{ path: '', message: `reload failed unexpectedly (${reply.unexpected})` }]));
      }),
    );
    // A worker that dies (out of memory, a crash) is a failed load: the last good registry stays.
    worker.once('error', (e) => done(() => reject(new ConfigError('config_unreadable', req.file, [{ path: '', message: `reload failed unexpectedly (${e.name})` }]))));
    worker.once('exit', (code) => done(() => reject(new ConfigError('config_unreadable', req.file, [{ path: '', message: `reload worker exited (${code})` }]))));
  });
}
