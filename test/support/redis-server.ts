// A real redis-server for tests (DESIGN §6): started from PATH on a free loopback port, no persistence.
// `redisAvailability()` skips loudly on a developer laptop without Redis and fails when CI=true.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { freePort } from '../../demo/ports';

export function redisAvailability(suite: string): boolean {
  if (spawnSync('redis-server', ['--version']).status === 0) return true;
  if (process.env.CI === 'true') throw new Error('redis-server is required in CI (apt-get install redis-server)');
  console.warn(`SKIPPING ${suite}: redis-server not found on PATH`);
  return false;
}

export interface RunningRedis {
  port: number;
  url: string;
  stop(): void;
}

/** Starts redis-server (on `port`, else a free one) and waits (bounded) until it answers PING. */
export async function startRedis(timeoutMs = 5000, port?: number): Promise<RunningRedis> {
  port ??= await freePort();
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await pong(port)) return { port, url: `redis://127.0.0.1:${port}`, stop: () => void child.kill('SIGKILL') };
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not answer PING on port ${port} within ${timeoutMs} ms`);
}

function pong(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.once('connect', () => c.write('PING\r\n'));
    c.once('data', (d) => {
      c.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    c.once('error', () => resolve(false));
  });
}
