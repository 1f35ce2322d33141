// Where the OPA-built wasm fixtures live: `shared/opa-wasm/` beside the repository (CI checks it out
// there), found from the repository root. Absent on a developer machine: the suites skip, loudly. Absent
// under CI=true: they fail, so a broken checkout cannot pass by skipping.
import fs from 'node:fs';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const OPA_WASM_DIR = path.join(REPO_ROOT, '..', 'shared', 'opa-wasm');

export function fixturesPresent(): boolean {
  return fs.existsSync(path.join(OPA_WASM_DIR, 'callback', 'policy.wasm'));
}

/** `describe` when the fixtures are there; otherwise a loud skip, or a failure under CI=true. */
export function describeWithFixtures(name: string, body: () => void): void {
  if (fixturesPresent()) {
    describe(name, body);
    return;
  }
  const why = `OPA wasm fixtures not found at ${path.relative(REPO_ROOT, OPA_WASM_DIR)} (shared/opa-wasm beside the repository)`;
  if (process.env.CI === 'true') {
    describe(name, () => {
      test('needs the OPA wasm fixtures', () => {
        throw new Error(`${why}: required in CI`);
      });
    });
    return;
  }
  // eslint-disable-next-line no-console
  console.warn(`SKIPPED "${name}": ${why}`);
  describe.skip(name, () => {
    test('needs the OPA wasm fixtures', () => undefined);
  });
}

export function readJson<T>(...parts: string[]): T {
  return JSON.parse(fs.readFileSync(path.join(OPA_WASM_DIR, ...parts), 'utf8')) as T;
}

export function readWasm(...parts: string[]): Uint8Array {
  return fs.readFileSync(path.join(OPA_WASM_DIR, ...parts));
}

/** A snapshot's Rego sources (`<fixture>/src/*.rego`), as the wasm was built from them. */
export function snapshotModules(fixture: string): { file: string; text: string }[] {
  const dir = path.join(OPA_WASM_DIR, fixture, 'src');
  return fs.readdirSync(dir).filter((f) => f.endsWith('.rego')).sort().map((f) => ({ file: `${fixture}/src/${f}`, text: fs.readFileSync(path.join(dir, f), 'utf8') }));
}

export interface Sample {
  name: string;
  entrypoint: string;
  input: unknown;
  want: unknown;
}

export function samples(fixture: string): Sample[] {
  return readJson<{ samples: Sample[] }>(fixture, 'samples.json').samples;
}
