// Comments and docs cite the repository's own docs by section: `docs/operations.md, "Reload"`. Every such
// citation must name a doc that exists and a heading it has, so a reader who follows one lands somewhere.
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const SEARCH = ['ext-authz', 'test', 'policies', 'scripts', 'bin', 'envoy', 'deploy', 'demo', 'bench', 'docs', 'README.md'];
const TEXT = /\.(ts|cjs|js|rego|md|ya?ml|json)$/;

function files(p: string, out: string[] = []): string[] {
  if (!fs.existsSync(p)) return out;
  if (fs.statSync(p).isFile()) {
    if (TEXT.test(p)) out.push(p);
    return out;
  }
  for (const e of fs.readdirSync(p, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    files(path.join(p, e.name), out);
  }
  return out;
}

function headings(doc: string): Set<string> {
  return new Set([...fs.readFileSync(doc, 'utf8').matchAll(/^#{1,4} (.+)$/gm)].map((m) => m[1].trim()));
}

test('every `docs/<file>.md, "<section>"` citation names an existing doc and one of its headings', () => {
  const broken: string[] = [];
  const cache = new Map<string, Set<string> | null>();
  for (const f of SEARCH.flatMap((s) => files(path.join(ROOT, s)))) {
    const text = fs.readFileSync(f, 'utf8');
    for (const m of text.matchAll(/docs\/([a-z0-9-]+\.md)[,:]? \(?"([^"\n]+)"/g)) {
      const doc = path.join(ROOT, 'docs', m[1]);
      if (!cache.has(doc)) cache.set(doc, fs.existsSync(doc) ? headings(doc) : null);
      const hs = cache.get(doc);
      if (hs === null || hs === undefined) broken.push(`${path.relative(ROOT, f)}: docs/${m[1]} does not exist`);
      else if (!hs.has(m[2])) broken.push(`${path.relative(ROOT, f)}: docs/${m[1]} has no section "${m[2]}"`);
    }
  }
  expect(broken).toEqual([]);
});

// The repo explains itself: comments and docs cite its own docs, never the team's working notes outside
// the repo (their design, threats and style pages) or issue numbers, which a reader of the repo cannot open.

test('no file cites documents outside the repo or issue numbers', () => {
  const outside = /\b(?:DESIGN|THREATS|STYLE|ECOSYSTEM)(?:\.md)?\s*(?:§|\b(?=\s*T-))|\.\.\/shared\/(?:DESIGN|THREATS|STYLE|ECOSYSTEM)|\bissue #\d+/;
  const found: string[] = [];
  for (const f of SEARCH.flatMap((s) => files(path.join(ROOT, s)))) {
    const rel = path.relative(ROOT, f);
    if (rel === path.join('test', 'docs', 'doc-links.test.ts')) continue;
    fs.readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
      if (outside.test(line)) found.push(`${rel}:${i + 1}: ${line.trim().slice(0, 100)}`);
    });
  }
  expect(found).toEqual([]);
});
