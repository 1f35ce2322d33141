// `npm run build` (scripts/build.cjs): dist/src mirrors ext-authz/src file for file, paths computed from
// __dirname resolve the same from dist/, the bin runs dist/ in-process, and `--version` loads none of
// the heavy modules (start-up time itself is a benchmark, not a test: see the build's report).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, ROOT } from '../cli/run-cli';

jest.setTimeout(60_000);

const SRC = path.join(ROOT, 'ext-authz', 'src');
const DIST = path.join(ROOT, 'dist', 'src');
const walk = (dir: string): string[] => (fs.readdirSync(dir, { recursive: true }) as string[]).map(String).sort();
const node = (args: string[], cwd = ROOT): { status: number | null; stdout: string; stderr: string } =>
  spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 30_000 });

describe('dist/ (jest\'s global setup built it from the current sources)', () => {
  const sources = walk(SRC).filter((f) => f.endsWith('.ts'));

  it('has one .js and one linked .js.map per source file, and nothing else', () => {
    const expected = sources.flatMap((f) => [f.replace(/\.ts$/, '.js'), f.replace(/\.ts$/, '.js.map')]).sort();
    expect(walk(DIST).filter((f) => /\.js(\.map)?$/.test(f))).toEqual(expected);
    const main = fs.readFileSync(path.join(DIST, 'cli', 'main.js'), 'utf8');
    expect(main).toMatch(/\/\/# sourceMappingURL=main\.js\.map\s*$/);
    expect(main.startsWith('"use strict"')).toBe(true);
  });

  it('every source map points at its TypeScript source', () => {
    for (const f of sources) {
      const mapFile = path.join(DIST, f.replace(/\.ts$/, '.js.map'));
      const map = JSON.parse(fs.readFileSync(mapFile, 'utf8')) as { sources: string[] };
      expect(map.sources.map((s) => path.resolve(path.dirname(mapFile), s))).toEqual([path.join(SRC, f)]);
    }
  });

  it('paths computed from __dirname resolve the same from dist/ as from source', () => {
    // Every module that computes a path from __dirname is listed here with a check from dist/; a new
    // one fails this test until it is checked too.
    const users = sources.filter((f) => /\b__dirname\b/.test(fs.readFileSync(path.join(SRC, f), 'utf8')));
    const protoModule = sources.find((f) => /export function ourProtoDir\b/.test(fs.readFileSync(path.join(SRC, f), 'utf8')));
    expect(protoModule).toBeDefined();
    const cockpitModule = sources.find((f) => /export const COCKPIT_DIR\b/.test(fs.readFileSync(path.join(SRC, f), 'utf8')));
    expect(cockpitModule).toBeDefined();
    const workerModule = sources.find((f) => /export const WORKER_FILE\b/.test(fs.readFileSync(path.join(SRC, f), 'utf8')));
    expect(workerModule).toBeDefined();
    expect(users.sort()).toEqual([protoModule, cockpitModule, workerModule].sort());
    // The registry's reload worker (config/registry-off-thread.ts) is the compiled file beside it in dist/.
    const worker = node(['-e', `process.stdout.write(require(${JSON.stringify(path.join(DIST, (workerModule as string).replace(/\.ts$/, '.js')))}).WORKER_FILE)`]);
    expect(worker.stdout).toBe(path.join(DIST, 'config', 'registry-load-worker.js'));
    expect(fs.existsSync(worker.stdout)).toBe(true);
    const cockpit = node(['-e', `process.stdout.write(require(${JSON.stringify(path.join(DIST, (cockpitModule as string).replace(/\.ts$/, '.js')))}).COCKPIT_DIR)`]);
    expect(cockpit.stdout).toBe(path.join(ROOT, 'ext-authz', 'cockpit'));
    expect(fs.existsSync(path.join(cockpit.stdout, 'index.html'))).toBe(true);
    const compiled = path.join(DIST, (protoModule as string).replace(/\.ts$/, '.js'));
    const r = node(['-e', `process.stdout.write(require(${JSON.stringify(compiled)}).ourProtoDir())`]);
    expect(r.stdout).toBe(path.join(ROOT, 'proto'));
    expect(fs.existsSync(path.join(r.stdout, 'callbackproxy', 'v1', 'pins.proto'))).toBe(true);
  });
});

describe('the bin', () => {
  it('runs dist/ in its own process: no child process, no compiler, no TypeScript hook', () => {
    const text = fs.readFileSync(BIN, 'utf8');
    expect(text).not.toMatch(/child_process|esbuild|ts-register|tsx/);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-trace-'));
    const tracer = path.join(tmp, 'trace.cjs');
    fs.writeFileSync(tracer, "process.on('exit', () => process.stderr.write(JSON.stringify(Object.keys(require.cache)) + '\\n'));\n");
    const r = node(['-r', tracer, BIN, '--version']);
    const help = node(['-r', tracer, BIN, '--help']);
    fs.rmSync(tmp, { recursive: true, force: true });
    expect(r.status).toBe(0);
    const loaded = JSON.parse(r.stderr.trim().split('\n').pop() as string) as string[];
    expect(loaded).toContain(path.join(DIST, 'cli', 'main.js'));
    expect(loaded.filter((f) => f.endsWith('.ts'))).toEqual([]);
    // --version and --help load commander and the command definitions only.
    const heavy = /node_modules\/(@grpc|@opentelemetry|pino|protobufjs|yaml|zod|ioredis|jose|lru-cache|fast-xml-parser|esbuild)\/|dist\/src\/(rego|policy|pipeline|server|store|check)\//;
    expect(loaded.filter((f) => heavy.test(f))).toEqual([]);
    expect(help.status).toBe(0);
    expect((JSON.parse(help.stderr.trim().split('\n').pop() as string) as string[]).filter((f) => heavy.test(f))).toEqual([]);
  });

  it('says how to build when dist/ is missing, exit 2', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-nodist-'));
    try {
      fs.mkdirSync(path.join(tmp, 'bin'));
      fs.copyFileSync(BIN, path.join(tmp, 'bin', 'callback-proxy.cjs'));
      const r = node([path.join(tmp, 'bin', 'callback-proxy.cjs'), '--version']);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('dist/ is missing: run `npm run build`');
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('package.json scripts', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; dependencies: Record<string, string>; devDependencies: Record<string, string> };

  it('start runs the bin after a build; a fresh install builds (prepare); no tsx anywhere', () => {
    expect(pkg.scripts.build).toBe('node scripts/build.cjs');
    expect(pkg.scripts.prepare).toBe(pkg.scripts.build);
    expect(pkg.scripts.prestart).toBe(pkg.scripts.build);
    expect(pkg.scripts.start).toBe('exec node bin/callback-proxy.cjs serve');
    for (const s of Object.values(pkg.scripts)) expect(s).not.toMatch(/\btsx\b/);
    for (const k of ['bench', 'bench:rego', 'bench:cutover', 'demo']) expect(pkg.scripts[k]).toMatch(/^node -r \.\/scripts\/ts-register\.cjs /);
  });

  it('esbuild is a build-time dependency only', () => {
    expect(pkg.dependencies.esbuild).toBeUndefined();
    expect(pkg.devDependencies.esbuild).toBeDefined();
  });
});
