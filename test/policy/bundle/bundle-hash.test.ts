// Digests of bundle files as OPA's signer computes them. The expected canonical texts are written out
// by hand from OPA's hashing rule (sorted keys, no whitespace, number literals as written, no HTML
// escaping), so the test does not reuse the code under test to make its expectations.
import { createHash } from 'node:crypto';
import { BundleError } from '../../../ext-authz/src/policy/bundle/bundle-errors';
import { bundleFileDigest, canonicalStructuredText, isStructuredFile } from '../../../ext-authz/src/policy/bundle/bundle-hash';

const sha = (alg: string, s: string | Buffer): string => createHash(alg).update(s).digest('hex');

describe('structured files hash a canonical form', () => {
  test.each([
    ['{}', '{}'],
    ['{ "b": 1, "a": 2 }', '{"a":2,"b":1}'],
    ['{"n": 1.0, "e": 1E3, "neg": -0.50}', '{"e":1E3,"n":1.0,"neg":-0.50}'],
    ['{"big": 123456789012345678901234567890}', '{"big":123456789012345678901234567890}'],
    ['{"h": "<a>&amp;"}', '{"h":"<a>&amp;"}'],
    ['{"s": "line\\nsep\\u2028x"}', '{"s":"line\\nsep\\u2028x"}'],
    ['{"a": [3, {"z": null, "y": [true, false]}]}', '{"a":[3,{"y":[true,false],"z":null}]}'],
    ['{"k": 1, "k": 2}', '{"k":2}'],
    ['{"é": 1, "z": 2, "Z": 3}', '{"Z":3,"z":2,"é":1}'],
    ['\uFEFF{"bom": true}', '{"bom":true}'],
  ])('%s → %s', (input, canonical) => {
    expect(canonicalStructuredText('data.json', Buffer.from(input))).toBe(canonical);
    expect(bundleFileDigest('x/data.json', Buffer.from(input), 'SHA-256')).toBe(sha('sha256', canonical));
  });

  test('YAML data files hash like their JSON equivalent', () => {
    expect(canonicalStructuredText('data.yaml', Buffer.from('b: [1, two]\na: {c: true}\n'))).toBe('{"a":{"c":true},"b":[1,"two"]}');
  });

  test('which files are structured: data.json, data.yaml, .manifest (not data.yml, not rego)', () => {
    expect(['data.json', 'a/b/data.yaml', '.manifest'].every(isStructuredFile)).toBe(true);
    expect(['data.yml', 'p.rego', 'policy.wasm', 'x.json'].some(isStructuredFile)).toBe(false);
  });

  test('OPA\'s empty data.json digest (from the signed fixtures\' payload)', () => {
    expect(bundleFileDigest('data.json', Buffer.from('{}\n'), 'SHA-256')).toBe('44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
  });
});

describe('plain files hash their bytes', () => {
  test.each([
    ['MD5', 'md5'],
    ['SHA-1', 'sha1'],
    ['SHA-224', 'sha224'],
    ['SHA-256', 'sha256'],
    ['SHA-384', 'sha384'],
    ['SHA-512', 'sha512'],
    ['SHA-512-224', 'sha512-224'],
    ['SHA-512-256', 'sha512-256'],
  ])('%s', (opa, node) => {
    const bytes = Buffer.from('package p\n\nallow := true\n');
    expect(bundleFileDigest('p.rego', bytes, opa)).toBe(sha(node, bytes));
  });

  test('an unknown algorithm is a coded error naming the file', () => {
    expect(() => bundleFileDigest('p.rego', Buffer.from('x'), 'SHA-3')).toThrow(BundleError);
    try {
      bundleFileDigest('p.rego', Buffer.from('x'), 'SHA-3');
    } catch (e) {
      expect(e).toMatchObject({ code: 'bundle_hash_algorithm', file: 'p.rego' });
    }
  });

  test('a structured file that is neither JSON nor YAML cannot be hashed', () => {
    expect(() => bundleFileDigest('data.json', Buffer.from('{"a": [}'), 'SHA-256')).toThrow(/neither JSON nor YAML/);
  });
});
