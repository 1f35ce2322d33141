// The Dockerfile, checked without a Docker engine (`docker build` cannot run on these machines): its
// stages and instructions, the files it copies, the runtime tree it produces (assembled here from its
// COPY instructions and run: --version, then serve + SIGTERM), the HEALTHCHECK script against a real
// HTTP server, and docker-compose's use of its stages.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { builtinModules } from 'node:module';
import YAML from 'yaml';
import { healthcheckCommand, parseDockerfile, type Instruction, type Stage } from './support/dockerfile';
import { unknownServeFlags } from './support/serve-flags';
import { ROOT } from '../cli/run-cli';

jest.setTimeout(120_000);

const stages = parseDockerfile(fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
const stage = (name: string): Stage => {
  const s = stages.find((x) => x.name === name);
  if (!s) throw new Error(`no stage ${name}`);
  return s;
};
const ops = (s: Stage, op: string): Instruction[] => s.instructions.filter((i) => i.op === op);
const runtime = stage('runtime');
const build = stage('build');
const copies = (s: Stage): { from?: string; src: string[]; dest: string }[] =>
  ops(s, 'COPY').map((c) => ({ from: c.flags.from, src: c.words.slice(0, -1), dest: c.words[c.words.length - 1] }));
const workdir = (s: Stage): string => ops(s, 'WORKDIR').pop()?.rest ?? '/';
const entrypoint = (): string[] => ops(runtime, 'ENTRYPOINT').pop()?.json ?? [];
const cmd = (): string[] => ops(runtime, 'CMD').pop()?.json ?? [];

describe('Dockerfile structure', () => {
  it('is multi-stage: build, demo, runtime, with runtime last (what a plain `docker build .` produces)', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'demo', 'runtime']);
    for (const s of [build, runtime]) expect(s.from).toMatch(/^node:20\.\d+(\.\d+)?-bookworm-slim$/);
    expect(runtime.from).toBe(build.from);
  });

  it('the build stage installs dev dependencies and runs npm run build', () => {
    const runs = ops(build, 'RUN').map((r) => r.rest);
    expect(runs.some((r) => /^npm ci\b/.test(r) && !r.includes('--omit=dev'))).toBe(true);
    expect(runs).toContain('npm run build');
  });

  it('the runtime stage: production dependencies only, no sources, no demo, no compiler', () => {
    const runs = ops(runtime, 'RUN').map((r) => r.rest);
    expect(runs.filter((r) => r.includes('npm ci'))).toEqual([expect.stringContaining('--omit=dev')]);
    expect(runs.join('\n')).not.toMatch(/npm run build|esbuild|tsc|tsx/);
    const sources = copies(runtime).flatMap((c) => c.src.map((s) => (c.from ? `${c.from}:${s}` : s)));
    expect(sources.sort()).toEqual(['bin', 'build:/src/dist', 'ext-authz/cockpit', 'package-lock.json', 'package.json', 'policies', 'proto'].sort());
    for (const s of sources.filter((x) => x !== 'ext-authz/cockpit')) expect(s).not.toMatch(/demo|ext-authz|scripts|test|bench|node_modules/);
    expect(ops(runtime, 'ENV').map((e) => e.rest)).toContain('NODE_ENV=production');
  });

  it('runs as a numeric non-root user and exposes gRPC, HTTP and admin', () => {
    const user = ops(runtime, 'USER').pop()?.rest ?? 'root';
    expect(user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    expect(ops(stage('demo'), 'USER').pop()?.rest).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    expect(ops(runtime, 'EXPOSE').flatMap((e) => e.words)).toEqual(['9191', '9192', '9193']);
  });

  it('the entrypoint is the bin, which runs the dist/ entry the build stage produces', () => {
    expect(entrypoint()).toEqual(['node', 'bin/callback-proxy.cjs']);
    expect(fs.readFileSync(path.join(ROOT, 'bin', 'callback-proxy.cjs'), 'utf8')).toContain("path.join(__dirname, '..', 'dist', 'src', 'cli', 'main.js')");
    // build: WORKDIR /src, `npm run build` writes dist/src; runtime copies /src/dist to ./dist.
    expect(workdir(build)).toBe('/src');
    expect(copies(runtime).find((c) => c.from === 'build')).toEqual({ from: 'build', src: ['/src/dist'], dest: './dist' });
    expect(fs.existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'main.js'))).toBe(true);
  });

  it('CMD listens on all interfaces on 9191/9192/9193 with flags serve accepts', () => {
    const c = cmd();
    expect(c[0]).toBe('serve');
    const addr = (flag: string): string => c[c.indexOf(flag) + 1];
    expect([addr('--grpc-addr'), addr('--http-addr'), addr('--admin-addr')]).toEqual(['0.0.0.0:9191', '0.0.0.0:9192', '0.0.0.0:9193']);
    expect(unknownServeFlags(c)).toEqual([]);
  });

  it('HEALTHCHECK asks the admin listener\'s /healthz with node itself', () => {
    const hc = ops(runtime, 'HEALTHCHECK');
    expect(hc).toHaveLength(1);
    const command = healthcheckCommand(hc[0]);
    expect(command.slice(0, 2)).toEqual(['node', 'bin/healthcheck.cjs']);
    const url = new URL(command[2]);
    expect([url.hostname, url.port, url.pathname]).toEqual(['127.0.0.1', cmd()[cmd().indexOf('--admin-addr') + 1].split(':')[1], '/healthz']);
    expect(hc[0].rest).toMatch(/--interval=\d+s/);
  });

  it('every file it copies from the context exists and is not excluded by .dockerignore', () => {
    const ignore = fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    for (const must of ['node_modules', 'dist', '.git', 'test']) expect(ignore).toContain(must);
    for (const s of stages) {
      for (const c of copies(s).filter((x) => !x.from)) {
        for (const src of c.src) {
          expect(fs.existsSync(path.join(ROOT, src))).toBe(true);
          expect(ignore.filter((p) => p === src || p === src.split('/')[0])).toEqual([]);
        }
      }
    }
  });
});

/** Copies the context paths a stage COPYs into `dest` (the runtime's dist comes from our build). */
function assembleRuntime(dest: string): void {
  for (const c of copies(runtime)) {
    const target = path.join(dest, c.dest);
    if (c.from === 'build') fs.cpSync(path.join(ROOT, 'dist'), target, { recursive: true });
    else for (const src of c.src) fs.cpSync(path.join(ROOT, src), c.dest.endsWith('/') ? path.join(target, src) : target, { recursive: true });
  }
  // `npm ci --omit=dev` is not re-run here (no registry access in tests): the tree borrows this
  // checkout's node_modules, and the next test checks dist/ only requires production dependencies.
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dest, 'node_modules'));
}

/** Files under dir, relative, without following symlinks (node_modules is one). */
function listFiles(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const p = path.join(rel, e.name);
    if (e.isDirectory()) out.push(...listFiles(dir, p));
    else if (!e.isSymbolicLink()) out.push(p);
  }
  return out.sort();
}

describe('the runtime image tree, assembled from the COPY instructions', () => {
  let app: string;
  beforeAll(() => {
    app = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-image-'));
    assembleRuntime(app);
  });
  afterAll(() => fs.rmSync(app, { recursive: true, force: true }));

  it('has no TypeScript sources and no demo', () => {
    const files = listFiles(app);
    expect(files.filter((f) => f.endsWith('.ts'))).toEqual([]);
    // ext-authz/cockpit/ is the cockpit's static page (HTML, CSS, JS served as files), not source.
    expect(files.filter((f) => /^(demo|ext-authz|scripts|test|bench)(\/|$)/.test(f) && !f.startsWith(path.join('ext-authz', 'cockpit') + path.sep))).toEqual([]);
    expect(files).toContain(path.join('dist', 'src', 'cli', 'main.js'));
  });

  it('dist/ requires only Node built-ins and production dependencies', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const allowed = new Set([...Object.keys(pkg.dependencies), ...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
    const missing = new Set<string>();
    const seen = new Set<string>();
    for (const f of listFiles(path.join(app, 'dist')).filter((x) => x.endsWith('.js'))) {
      const text = fs.readFileSync(path.join(app, 'dist', f), 'utf8');
      for (const m of text.matchAll(/require\("([^"]+)"\)/g)) {
        const spec = m[1];
        if (spec.startsWith('.')) continue;
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        seen.add(name);
        if (!allowed.has(name) && !allowed.has(spec)) missing.add(`${f}: ${spec}`);
      }
    }
    expect([...missing]).toEqual([]);
    expect(seen).toContain('@grpc/grpc-js');
  });

  it('--version runs from the image tree, with the image\'s working directory', () => {
    const r = spawnSync(process.execPath, entrypoint().slice(1).concat('--version'), { cwd: app, encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version);
  });

  it('serve loads policies and protos from the tree, drains on SIGTERM, and writes nothing into it', async () => {
    const before = listFiles(app);
    const child = spawn(process.execPath, [...entrypoint().slice(1), 'serve', '--grpc-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0', '--grace-ms', '200'], { cwd: app, stdio: 'pipe' });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not ready:\n${stderr}`)), 60_000);
        child.stderr.on('data', (c) => {
          stderr += String(c);
          if (stderr.includes('callback-proxy ready:')) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.on('exit', () => reject(new Error(`exited before ready:\n${stderr}`)));
      });
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    expect(listFiles(app)).toEqual(before);
  });
});

describe('bin/healthcheck.cjs (the HEALTHCHECK command)', () => {
  let server: http.Server;
  let port: number;
  let status = 200;
  beforeAll(async () => {
    server = http.createServer((_req, res) => {
      res.statusCode = status;
      res.end('x');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => new Promise<void>((r) => server.close(() => r())));

  const check = async (url: string): Promise<number | null> =>
    new Promise((resolve) => {
      const c = spawn(process.execPath, [path.join(ROOT, 'bin', 'healthcheck.cjs'), url], { stdio: 'ignore' });
      c.on('exit', (code) => resolve(code));
    });

  it('exits 0 on 200, 1 on 503, 1 when nothing listens', async () => {
    status = 200;
    expect(await check(`http://127.0.0.1:${port}/healthz`)).toBe(0);
    status = 503;
    expect(await check(`http://127.0.0.1:${port}/healthz`)).toBe(1);
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const freePort = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    expect(await check(`http://127.0.0.1:${freePort}/healthz`)).toBe(1);
  });
});

describe('docker-compose.yml and the Dockerfile stages', () => {
  const compose = YAML.parse(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, any> };
  const built = Object.entries(compose.services).filter(([, s]) => s.build);

  it('builds only stages the Dockerfile has; ext-authz is the runtime stage, the demo IdPs the demo stage', () => {
    for (const [, s] of built) expect(stages.map((x) => x.name)).toContain(s.build.target);
    expect(compose.services['ext-authz'].build.target).toBe('runtime');
    expect(compose.services['legacy-idp'].build.target).toBe('demo');
    expect(compose.services['new-idp'].build.target).toBe('demo');
  });

  it('the demo stage has the files its entrypoint runs', () => {
    const demo = stage('demo');
    const ep = ops(demo, 'ENTRYPOINT').pop()?.json ?? [];
    const inStage = [...copies(build), ...copies(demo)].flatMap((c) => c.src);
    for (const f of ep.filter((a) => /\.(c?js|ts)$/.test(a))) {
      expect(fs.existsSync(path.join(ROOT, f))).toBe(true);
      expect(inStage.some((s) => f.replace(/^\.\//, '').startsWith(`${s}/`))).toBe(true);
    }
  });

  it('ext-authz publishes the admin port and passes serve flags it accepts', () => {
    const svc = compose.services['ext-authz'];
    expect(svc.ports).toContain('127.0.0.1:9193:9193');
    expect(svc.command[0]).toBe('serve');
    expect(unknownServeFlags(svc.command)).toEqual([]);
  });
});
