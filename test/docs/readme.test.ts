// The README's "Try it" section, run as written: the service is started with `npm start` (on free
// ports, since a shared machine may already use the documented ones; the documented ports are checked
// against serve's defaults instead), then every command of the next shell block runs in one bash, and
// what each command's `# … prints` comment lists must appear in its output.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

jest.setTimeout(240_000);

const ROOT = path.join(__dirname, '..', '..');

interface Step {
  command: string;
  expect: string[];
}

/** The shell blocks of the README's "Try it" section. */
function tryItBlocks(): string[][] {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Try it\n');
  expect(start).toBeGreaterThan(0);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1].trimEnd().split('\n'));
}

/**
 * Commands (continuation lines joined) and their expectations: a comment containing "prints" starts
 * them, and each following `#   text` line is one text the command's output must contain.
 */
function steps(lines: string[]): Step[] {
  const out: Step[] = [];
  let collecting = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith('#')) {
      if (/\bprints\b/.test(line)) collecting = true;
      else if (collecting && /^#\s{2,}\S/.test(line)) out[out.length - 1].expect.push(line.replace(/^#\s+/, '').trim());
      else collecting = false;
      continue;
    }
    collecting = false;
    let command = line;
    while (command.endsWith('\\') && i + 1 < lines.length) command = `${command.slice(0, -1)}${lines[++i].trim()}`;
    out.push({ command, expect: [] });
  }
  return out;
}

let service: ChildProcess | null = null;

afterAll(async () => {
  if (!service) return;
  if (service.pid && service.exitCode === null) {
    const exited = new Promise((r) => service?.once('exit', r));
    process.kill(-service.pid, 'SIGTERM'); // npm, its shell and the service: one process group
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 15_000)))]);
    clearTimeout(timer);
  }
  service.stdout?.destroy();
  service.stderr?.destroy();
});

test('README "Try it": the documented commands print what the README says', async () => {
  const [startBlock, commandsBlock, ...rest] = tryItBlocks();
  expect(rest).toEqual([]);

  // 1. `npm ci && npm start`, with the ports serve really defaults to.
  expect(startBlock).toHaveLength(1);
  const [startCmd, comment] = startBlock[0].split(/\s+#\s+/);
  expect(startCmd.trim()).toBe('npm ci && npm start');
  const documented = [...comment.matchAll(/127\.0\.0\.1:(\d+)/g)].map((m) => m[1]);
  const help = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'callback-proxy.cjs'), 'serve', '--help'], { cwd: ROOT, encoding: 'utf8' });
  const defaults = [...help.stdout.matchAll(/default: "127\.0\.0\.1:(\d+)"/g)].map((m) => m[1]);
  expect(documented).toEqual(defaults); // gRPC, then HTTP

  // `npm ci` is left out (it would reinstall node_modules under the running suite); `npm start` runs
  // as documented, on free ports.
  service = spawn('npm', ['start', '--silent', '--', '--grpc-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0', '--grace-ms', '0'], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  service.stderr?.on('data', (c) => (stderr += String(c)));
  service.stdout?.resume();
  const ready = await new Promise<RegExpMatchArray | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), 120_000);
    const look = (): void => {
      const m = /callback-proxy ready: grpc=127\.0\.0\.1:(\d+) http=127\.0\.0\.1:(\d+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    service?.stderr?.on('data', look);
    service?.once('exit', () => {
      clearTimeout(timer);
      resolve(null);
    });
  });
  if (!ready) throw new Error(`npm start did not become ready:\n${stderr.slice(-2000)}`);
  const [, grpcPort, httpPort] = ready;

  // 2. The commands, in one bash (they share $STATE), each followed by a marker to split the output.
  const all = steps(commandsBlock);
  expect(all.length).toBeGreaterThanOrEqual(3);
  expect(all.filter((s) => s.expect.length > 0).length).toBeGreaterThanOrEqual(2);
  const onPorts = (c: string): string => c.split(`127.0.0.1:${documented[0]}`).join(`127.0.0.1:${grpcPort}`).split(`127.0.0.1:${documented[1]}`).join(`127.0.0.1:${httpPort}`);
  const script = all.map((s, i) => `${onPorts(s.command)}\necho "@@step ${i} exit=$?"`).join('\n');
  const run = spawnSync('bash', ['-c', script], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  const outputs = run.stdout.split(/@@step \d+ exit=\d+\n/);
  const exits = [...run.stdout.matchAll(/@@step \d+ exit=(\d+)/g)].map((m) => Number(m[1]));
  const problems: string[] = [];
  all.forEach((s, i) => {
    if (exits[i] !== 0) problems.push(`${s.command}\n  exited ${exits[i]} (stderr: ${run.stderr.slice(-500)})`);
    for (const e of s.expect) if (!(outputs[i] ?? '').includes(e)) problems.push(`${s.command}\n  should print ${JSON.stringify(e)}; printed:\n${outputs[i]}`);
  });
  expect(problems).toEqual([]);
});
