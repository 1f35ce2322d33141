// A real redis-server for tests (docs/operations.md, "Redis"): started from PATH on a free loopback port, no persistence
// unless asked. `redisAvailability()` skips loudly on a developer laptop without Redis and fails when
// CI=true. Fault tests pause (SIGSTOP), kill (-9) and restart it on the same port, empty or from its
// data directory (AOF / RDB).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { freePort } from '../../demo/ports';

export function redisAvailability(suite: string): boolean {
  if (spawnSync('redis-server', ['--version']).status === 0) return true;
  if (process.env.CI === 'true') throw new Error('redis-server is required in CI (apt-get install redis-server)');
  console.warn(`SKIPPING ${suite}: redis-server not found on PATH`);
  return false;
}

export interface RedisStartOptions {
  /** Reuse a port (a restart); default a free one. */
  port?: number;
  /** Data directory (AOF / RDB files); default none (nothing persisted). */
  dir?: string;
  /** AOF with fsync on every write (`appendonly yes`, `appendfsync always`). Needs `dir`. */
  aof?: boolean;
  /** Extra redis-server arguments, e.g. ['--maxmemory', '2mb']. */
  args?: string[];
}

export interface RunningRedis {
  port: number;
  url: string;
  pid: number;
  /** SIGKILL, not waited for (teardown). */
  stop(): void;
  /** SIGKILL and wait until the process is gone. */
  kill(): Promise<void>;
  /** SIGSTOP: the socket stays open, nothing answers. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** A fresh redis-server on the same port and directory (empty unless `dir` kept its data). */
  restart(timeoutMs?: number): Promise<RunningRedis>;
}

function args(port: number, o: RedisStartOptions): string[] {
  const a = ['--port', String(port), '--bind', '127.0.0.1', '--save', ''];
  if (o.dir !== undefined) a.push('--dir', o.dir);
  a.push('--appendonly', o.aof ? 'yes' : 'no');
  if (o.aof) a.push('--appendfsync', 'always');
  return [...a, ...(o.args ?? [])];
}

/** Starts redis-server and waits (bounded) until it answers PING. */
export async function startRedis(timeoutMs = 5000, o: RedisStartOptions = {}): Promise<RunningRedis> {
  const port = o.port ?? (await freePort());
  const child: ChildProcess = spawn('redis-server', args(port, o), { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await pong(port)) {
      const running: RunningRedis = {
        port,
        url: `redis://127.0.0.1:${port}`,
        pid: child.pid as number,
        stop: () => void child.kill('SIGKILL'),
        kill: async () => {
          child.kill('SIGKILL');
          await exited;
        },
        pause: () => void child.kill('SIGSTOP'),
        resume: () => void child.kill('SIGCONT'),
        restart: (t = timeoutMs) => startRedis(t, { ...o, port }),
      };
      return running;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not answer PING on port ${port} within ${timeoutMs} ms`);
}

/** Whether a redis-server answers PING on this loopback port (a raw RESP exchange, no client library). */
export function pong(port: number): Promise<boolean> {
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
