// The layer rules of ext-authz/src (docs/architecture.md, "Layers"), checked over the import graph:
//   cli → app → server → lifecycle → check → pipeline → policy → rego, model/ at the bottom,
//   store/, telemetry/, config/, envoy/ beside (importable from the layers; they import model/ only);
//   rego/ internals only through rego/engine.ts (or its index.ts); no import cycles; only cli/ touches
//   process state (env, argv, cwd, signals, exit).
// Pure functions over {path → source}, so the test can also feed a tree with a deliberate violation.
import * as fs from 'node:fs';
import * as path from 'node:path';

// lifecycle/ (stage overrides, audit chain, SLO guard, removal report) sits between check/ and server/:
// it wraps the check core's decider and reads its decisions; the admin API in server/ and app use it.
export const LAYERS = ['model', 'rego', 'policy', 'pipeline', 'check', 'lifecycle', 'server', 'app', 'cli'] as const;
export const BESIDE = ['store', 'telemetry', 'config', 'envoy'] as const;
/** Files outside rego/ may import only these rego files (its public face). */
export const REGO_PUBLIC = new Set(['rego/engine.ts', 'rego/index.ts']);

export interface Violation {
  rule: 'upward-import' | 'beside-import' | 'rego-internal' | 'import-cycle' | 'process-state' | 'unknown-folder';
  file: string;
  detail: string;
}

/** `check/x.ts` → 'check'; `app.ts` → 'app'. */
export function unitOf(rel: string): string {
  const first = rel.split('/')[0];
  return first.endsWith('.ts') ? first.replace(/\.ts$/, '') : first;
}

function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

/** Relative module specifiers a file imports (static, type-only, re-exports, dynamic import, require). */
export function importsOf(src: string): string[] {
  const out: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)(['"])(\.{1,2}\/[^'"]+)\1/gm;
  for (const m of stripComments(src).matchAll(re)) out.push(m[2]);
  return out;
}

/** Resolves a relative specifier against the tree (paths relative to src, '/'-separated). */
function resolve(files: ReadonlyMap<string, string>, from: string, spec: string): string | null {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  for (const c of [base, `${base}.ts`, `${base}/index.ts`]) if (files.has(c)) return c;
  return null;
}

const PROCESS_STATE = /\bprocess\s*\.\s*(env|argv|cwd|chdir|exit|exitCode|on|once|off|addListener|removeListener|kill|umask)\b/;

export function checkLayers(files: ReadonlyMap<string, string>): Violation[] {
  const v: Violation[] = [];
  const graph = new Map<string, string[]>();
  const rank = (u: string): number => (LAYERS as readonly string[]).indexOf(u);
  const beside = (u: string): boolean => (BESIDE as readonly string[]).includes(u);
  for (const [file, src] of files) {
    const from = unitOf(file);
    if (rank(from) < 0 && !beside(from)) v.push({ rule: 'unknown-folder', file, detail: `${from}/ is neither a layer nor a beside module` });
    const code = stripComments(src);
    if (from !== 'cli') {
      const m = PROCESS_STATE.exec(code);
      if (m) v.push({ rule: 'process-state', file, detail: `process.${m[1]} outside cli/` });
    }
    const edges: string[] = [];
    for (const spec of importsOf(src)) {
      const target = resolve(files, file, spec);
      if (target === null) continue; // a non-TS asset or a package path: not part of the graph
      edges.push(target);
      const to = unitOf(target);
      if (to === from) continue;
      if (to === 'rego' && !REGO_PUBLIC.has(target)) v.push({ rule: 'rego-internal', file, detail: `imports ${target}; use rego/engine.ts` });
      if (beside(from)) {
        if (to !== 'model') v.push({ rule: 'beside-import', file, detail: `${from}/ (beside the layers) imports ${target}; it may import model/ only` });
      } else if (!beside(to) && rank(to) > rank(from)) {
        v.push({ rule: 'upward-import', file, detail: `${from} imports ${target} (${to} is above ${from})` });
      }
    }
    graph.set(file, edges);
  }
  for (const cycle of findCycles(graph)) v.push({ rule: 'import-cycle', file: cycle[0], detail: cycle.join(' → ') });
  return v;
}

/** One representative cycle per strongly connected component (Tarjan), as a closed path. */
export function findCycles(graph: ReadonlyMap<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (n: string): void => {
    idx.set(n, index);
    low.set(n, index);
    index++;
    stack.push(n);
    on.add(n);
    for (const m of graph.get(n) ?? []) {
      if (!idx.has(m)) {
        visit(m);
        low.set(n, Math.min(low.get(n)!, low.get(m)!));
      } else if (on.has(m)) low.set(n, Math.min(low.get(n)!, idx.get(m)!));
    }
    if (low.get(n) === idx.get(n)) {
      const comp: string[] = [];
      let m: string;
      do {
        m = stack.pop()!;
        on.delete(m);
        comp.push(m);
      } while (m !== n);
      const selfLoop = (graph.get(n) ?? []).includes(n);
      if (comp.length > 1 || selfLoop) out.push(cyclePath(graph, new Set(comp), n));
    }
  };
  for (const n of [...graph.keys()].sort()) if (!idx.has(n)) visit(n);
  return out;
}

/** A concrete closed path through a strongly connected component, starting and ending at `start`. */
function cyclePath(graph: ReadonlyMap<string, string[]>, comp: ReadonlySet<string>, start: string): string[] {
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const n = queue.shift()!;
    for (const m of graph.get(n) ?? []) {
      if (!comp.has(m)) continue;
      if (m === start) {
        const p: string[] = [];
        for (let c = n; c !== start; c = prev.get(c)!) p.unshift(c);
        return [start, ...p, start];
      }
      if (!prev.has(m)) {
        prev.set(m, n);
        queue.push(m);
      }
    }
  }
  return [start, start];
}

/** Every .ts file under `srcDir`, keyed by its '/'-separated path relative to it. */
export function readTree(srcDir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) out.set(path.relative(srcDir, p).split(path.sep).join('/'), fs.readFileSync(p, 'utf8'));
    }
  };
  walk(srcDir);
  return out;
}

export function formatViolations(v: readonly Violation[]): string {
  return v.map((x) => `[${x.rule}] ${x.file}: ${x.detail}`).join('\n');
}
