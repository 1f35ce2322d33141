// The dependency check (docs/architecture.md, "Layers"): the real tree obeys the layer rules, and each
// rule fires, naming itself, on a tree with a deliberate violation.
import * as path from 'node:path';
import { checkLayers, findCycles, formatViolations, importsOf, readTree } from '../support/layers';
import known from './known-violations.json';

const SRC = path.join(__dirname, '..', '..', 'ext-authz', 'src');

test('ext-authz/src: layers point down, no cycles, process state only in cli/, rego only through its public face', () => {
  const key = (v: { rule: string; file: string }): string => `${v.rule} ${v.file}`;
  const tolerated = new Set(known.violations.map(key));
  const violations = checkLayers(readTree(SRC));
  const unexpected = violations.filter((v) => !tolerated.has(key(v)));
  if (unexpected.length > 0) throw new Error(`layer rules broken:\n${formatViolations(unexpected)}`);
  const fixed = [...tolerated].filter((k) => !violations.some((v) => key(v) === k));
  if (fixed.length > 0) throw new Error(`fixed, so delete from test/architecture/known-violations.json: ${fixed.join(', ')}`);
});

function tree(extra: Record<string, string>): Map<string, string> {
  const t = readTree(SRC);
  for (const [k, v] of Object.entries(extra)) t.set(k, v);
  return t;
}

test('a deliberate upward import fails, naming the rule and both ends', () => {
  const t = tree({ 'pipeline/oops.ts': "import { CheckCore } from '../check/check-core';\nexport const x = CheckCore;\n" });
  const v = checkLayers(t).filter((x) => x.file.endsWith('oops.ts'));
  expect(v).toEqual([expect.objectContaining({ rule: 'upward-import', file: 'pipeline/oops.ts', detail: expect.stringContaining('check/check-core.ts') })]);
});

test('a beside module importing a layer, a rego internal, process state and a cycle each fail', () => {
  const v = checkLayers(
    tree({
      'telemetry/oops.ts': "import type { Pipeline } from '../pipeline/pipeline';\n",
      'policy/oops.ts': "import { Interp } from '../rego/interpreter';\n",
      'check/oops.ts': 'export const lvl = process.env.LOG_LEVEL;\n',
      'model/a-oops.ts': "import { b } from './b-oops';\nexport const a = 1;\n",
      'model/b-oops.ts': "import { a } from './a-oops';\nexport const b = a;\n",
    }),
  );
  expect(v.filter((x) => x.file.includes('oops')).map((x) => `${x.rule} ${x.file}`).sort()).toEqual([
    'beside-import telemetry/oops.ts',
    'import-cycle model/a-oops.ts',
    'process-state check/oops.ts',
    'rego-internal policy/oops.ts',
  ]);
});

test('imports are read from every form, comments ignored', () => {
  const src = [
    "import a from './a';",
    "import type { B } from '../b';",
    "export { c } from './c';",
    "const d = await import('./d');",
    "const e = require('./e');",
    "import './f';",
    "// import g from './g';",
    "/* import h from './h'; */",
    "import pino from 'pino';",
  ].join('\n');
  expect(importsOf(src)).toEqual(['./a', '../b', './c', './d', './e', './f']);
});

test('cycles are reported as closed paths', () => {
  const g = new Map([
    ['a', ['b']],
    ['b', ['c']],
    ['c', ['a']],
    ['d', ['d']],
    ['e', ['a']],
  ]);
  expect(findCycles(g).map((c) => c.join('>')).sort()).toEqual(['a>b>c>a', 'd>d']);
});
