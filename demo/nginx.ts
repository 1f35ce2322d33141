// Starts a real nginx (from PATH or /usr/sbin) on a loopback port with envoy/nginx/nginx.conf.template
// filled in, in a private temp prefix; used by the end-to-end suite, the cutover benchmark and the demo.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitForPort } from './ports';

const TEMPLATE = path.join(__dirname, '..', 'envoy', 'nginx', 'nginx.conf.template');

export interface NginxOptions {
  /** host:port of ext-authz's HTTP listener. */
  authzAddr: string;
  legacyAddr: string;
  newAddr: string;
}

export interface RunningNginx {
  port: number;
  url: string;
  prefix: string;
  errorLog(): string;
  accessLog(): string;
  stop(): Promise<void>;
}

export function findNginx(): string | null {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = path.join(d, 'nginx');
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return null;
}

export async function startNginx(opts: NginxOptions): Promise<RunningNginx> {
  const bin = findNginx();
  if (!bin) throw new Error('nginx not found (Debian: apt-get install nginx-light)');
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-nginx-'));
  const port = await freePort();
  const denyPort = await freePort();
  const conf = fs
    .readFileSync(TEMPLATE, 'utf8')
    .replaceAll('{{PREFIX}}', prefix)
    .replaceAll('{{LISTEN_PORT}}', String(port))
    .replaceAll('{{DENY_PORT}}', String(denyPort))
    .replaceAll('{{AUTHZ_ADDR}}', opts.authzAddr)
    .replaceAll('{{LEGACY_ADDR}}', opts.legacyAddr)
    .replaceAll('{{NEW_ADDR}}', opts.newAddr);
  const confPath = path.join(prefix, 'nginx.conf');
  fs.writeFileSync(confPath, conf);
  const errorLog = path.join(prefix, 'error.log');
  const child: ChildProcess = spawn(bin, ['-p', prefix, '-c', confPath, '-e', errorLog], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await Promise.race([
      waitForPort(port),
      exited.then(() => {
        throw new Error(`nginx exited at start: ${stderr.trim() || readIf(errorLog)}`);
      }),
    ]);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    prefix,
    errorLog: () => readIf(errorLog),
    accessLog: () => readIf(path.join(prefix, 'access.log')),
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      fs.rmSync(prefix, { recursive: true, force: true });
    },
  };
}

function readIf(p: string): string {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}
