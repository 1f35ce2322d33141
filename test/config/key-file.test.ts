// Key files (`keys: file:` in a registry; `callback-proxy keys generate` writes them): fresh random keys
// per connection and backend, credential names that stay unambiguous when two connections share a
// backend id, and errors that name the field, never a value.
import { credentialName, credentialOwners, generateKeyFile, keysSection, parseKeyFile, renderKeyFile } from '../../ext-authz/src/config/key-file';

test('a generated key set: 32-byte base64url keys, a state key and a Pin API token per connection and backend, all distinct', () => {
  const k = generateKeyFile([
    { connection: 'a', backends: ['legacy', 'new'] },
    { connection: 'b', backends: ['b-legacy', 'b-new'] },
  ]);
  const values = [k.hash_key, k.cookie_key, ...Object.values(k.connections).flatMap((c) => Object.values(c).flatMap((x) => [x.state_key, x.pin_api_token]))];
  expect(values).toHaveLength(10);
  expect(new Set(values).size).toBe(10);
  for (const v of values) expect(Buffer.from(v as string, 'base64url')).toHaveLength(32);
  // What it writes reads back as itself.
  expect(parseKeyFile(renderKeyFile(k, new Date()), 'k.yaml')).toEqual(k);
});

test('credential names: a backend id unique across connections stays bare, a shared one is qualified', () => {
  const owners = new Map([['legacy', ['a', 'b']], ['new', ['a']]]);
  expect(credentialName('a', 'new', owners)).toBe('new');
  expect(credentialName('b', 'legacy', owners)).toBe('b/legacy');
  const k = generateKeyFile([{ connection: 'a', backends: ['legacy', 'new'] }, { connection: 'b', backends: ['legacy', 'x'] }]);
  const s = keysSection(k);
  expect(Object.keys(s.state_keys).sort()).toEqual(['a/legacy', 'b/legacy', 'new', 'x']);
  expect(s.pin_api_tokens['b/legacy']).toBe(k.connections.b.legacy.pin_api_token);
});

test('a bad key file names the field and never echoes a value', () => {
  const secret = 'SECRET-VALUE-0123456789abcdef';
  const text = `version: 1\nhash_key: ${secret}\ncookie_key: ${secret}\nconnections:\n  a:\n    new: { state_key: ${secret}, pin_token: ${secret} }\n`;
  let err: unknown;
  try {
    parseKeyFile(text, 'k.yaml');
  } catch (e) {
    err = e;
  }
  expect(err).toMatchObject({ code: 'config_invalid', issues: [{ path: 'connections.a.new', message: 'unknown field(s) pin_token' }] });
  expect(String((err as Error).message)).not.toContain(secret);
  expect(() => parseKeyFile('version: 2\nhash_key: x\ncookie_key: y\n', 'k.yaml')).toThrow(expect.objectContaining({ code: 'config_invalid' }));
  expect(() => parseKeyFile('hash_key: [unclosed\n', 'k.yaml')).toThrow(expect.objectContaining({ code: 'config_yaml' }));
});

test('the connections of a registry are read without its secrets; a malformed one names the field', () => {
  const r = credentialOwners('version: 1\nkeys: file:x.keys.yaml\nconnections:\n  - name: a\n    backends: [{ id: l }, { id: n }]\n', 'r.yaml');
  expect(r).toEqual({ owners: [{ connection: 'a', backends: ['l', 'n'] }], keysRef: 'x.keys.yaml' });
  expect(credentialOwners('connections:\n  - name: a\n    backends: [{ id: l }]\nkeys: { hash_key: env:X }\n', 'r.yaml').keysRef).toBeNull();
  expect(() => credentialOwners('connections:\n  - name: "a b"\n    backends: [{ id: l }]\n', 'r.yaml')).toThrow(expect.objectContaining({ issues: [expect.objectContaining({ path: 'connections[0].name' })] }));
});
