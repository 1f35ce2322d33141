// uuid.*, rand.intn, http.send, opa.runtime: per-evaluation memoisation and the refusals.
import { defaultRegistry } from '../../../ext-authz/src/rego/builtins/index';
import { BuiltinError } from '../../../ext-authz/src/rego/errors';
import { toJSON } from '../../../ext-authz/src/rego/value';
import { call, newCtx } from './harness';

describe('misc builtins', () => {
  test('uuid.parse of a version 1 UUID', () => {
    expect(toJSON(call('uuid.parse', 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6')!)).toEqual({
      clocksequence: 10085, macvariables: 'global:unicast', nodeid: '00-a0-c9-1e-6b-f6',
      time: 854991792216875000, variant: 'RFC4122', version: 1,
    });
    expect(toJSON(call('uuid.parse', '{F81D4FAE-7DEC-41D0-A765-00A0C91E6BF6}')!)).toEqual({ variant: 'RFC4122', version: 4 });
    expect(call('uuid.parse', 'not-a-uuid')).toBeUndefined();
  });

  test('uuid.rfc4122 is stable per key within one evaluation', () => {
    const a = call('uuid.rfc4122', 'a') as string;
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(call('uuid.rfc4122', 'a')).toBe(a);
    expect(call('uuid.rfc4122', 'b')).not.toBe(a);
    expect(defaultRegistry.get('uuid.rfc4122')!.fn(['a'], newCtx())).not.toBe(a);
  });

  test('rand.intn stays in range and is memoised per (str, n)', () => {
    const x = call('rand.intn', 'seed', 10) as number;
    expect(Number.isInteger(x) && x >= 0 && x < 10).toBe(true);
    expect(call('rand.intn', 'seed', 10)).toBe(x);
    expect(call('rand.intn', 'z', 0)).toBe(0);
    const y = call('rand.intn', 'neg', -5) as number;
    expect(y >= 0 && y < 5).toBe(true);
  });

  test('http.send is refused, opa.runtime exposes nothing', () => {
    expect(() => call('http.send', { method: 'GET', url: 'http://x' })).toThrow(new BuiltinError('http.send: not supported'));
    expect(toJSON(call('opa.runtime')!)).toEqual({});
    for (const n of ['http.send', 'rand.intn', 'uuid.rfc4122', 'time.now_ns']) {
      expect(defaultRegistry.get(n)!.nondeterministic).toBe(true);
    }
  });
});
