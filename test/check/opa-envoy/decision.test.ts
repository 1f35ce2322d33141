// opa-envoy-plugin's decision rules, written as our own cases: boolean and object results, each
// field's type rules, which fields count on allow and which on deny, the default and permitted HTTP
// statuses, dynamic metadata with the decision id, and dry-run.
import { interpretOpaEnvoyDecision } from '../../../ext-authz/src/check/opa-envoy/index';
import type { OpaEnvoyResult } from '../../../ext-authz/src/check/opa-envoy/index';

const ID = 'dec-1';

function ok(value: unknown, dryRun = false): OpaEnvoyResult {
  const r = interpretOpaEnvoyDecision(value, { decisionId: ID, dryRun });
  if (!r.ok) throw new Error(`unexpected error: ${r.detail}`);
  return r.result;
}

function invalid(value: unknown, dryRun = false): string {
  const r = interpretOpaEnvoyDecision(value, { decisionId: ID, dryRun });
  if (r.ok) throw new Error('expected decision_invalid');
  expect(r.code).toBe('decision_invalid');
  return r.detail;
}

describe('boolean decisions', () => {
  test('true allows and false denies, with no HTTP part (Envoy uses its defaults)', () => {
    expect(ok(true)).toEqual({ allowed: true, policyAllowed: true, dryRunOverride: false, ok: null, denied: null, dynamicMetadata: { decision_id: ID } });
    expect(ok(false)).toEqual({ allowed: false, policyAllowed: false, dryRunOverride: false, ok: null, denied: null, dynamicMetadata: { decision_id: ID } });
  });

  test('an undefined result is its own error; other scalar types are invalid', () => {
    expect(interpretOpaEnvoyDecision(undefined, { decisionId: ID })).toMatchObject({ ok: false, code: 'decision_undefined' });
    expect(invalid(1)).toContain('illegal value');
    expect(invalid('allow')).toContain('illegal value');
    expect(invalid(null)).toContain('illegal value');
    expect(invalid([true])).toContain('illegal value');
  });
});

describe('object decisions: allowed', () => {
  test('"allowed" is required and must be a boolean', () => {
    expect(invalid({})).toContain('missing "allowed"');
    expect(invalid({ allowed: 'true' })).toContain('allowed must be a boolean');
    expect(invalid({ allowed: 1 })).toContain('allowed must be a boolean');
  });

  test('a bare {allowed: true} gives an empty OK response; {allowed: false} a 403 with an empty body', () => {
    expect(ok({ allowed: true }).ok).toEqual({ headers: [], headersToRemove: [], responseHeadersToAdd: [], queryParametersToSet: [], queryParametersToRemove: [] });
    expect(ok({ allowed: false }).denied).toEqual({ status: 403, headers: [], body: '' });
  });
});

describe('headers', () => {
  test('an object of strings; string arrays repeat the header; an array of objects is flattened', () => {
    expect(ok({ allowed: true, headers: { 'x-a': 'hello', 'x-b': ['1', '2'] } }).ok!.headers).toEqual([
      { key: 'x-a', value: 'hello' },
      { key: 'x-b', value: '1' },
      { key: 'x-b', value: '2' },
    ]);
    expect(ok({ allowed: true, headers: [{ 'x-a': 'a' }, { 'x-a': 'b', 'x-c': 'c' }] }).ok!.headers).toEqual([
      { key: 'x-a', value: 'a' },
      { key: 'x-a', value: 'b' },
      { key: 'x-c', value: 'c' },
    ]);
  });

  test('they go on the denial too', () => {
    expect(ok({ allowed: false, headers: { 'www-authenticate': 'Bearer' } }).denied!.headers).toEqual([{ key: 'www-authenticate', value: 'Bearer' }]);
  });

  test('wrong shapes are invalid on allow and on deny', () => {
    for (const allowed of [true, false]) {
      expect(invalid({ allowed, headers: 'x-a: 1' })).toContain('headers must be an object');
      expect(invalid({ allowed, headers: { 'x-a': 1 } })).toContain('"x-a"');
      expect(invalid({ allowed, headers: { 'x-a': ['ok', true] } })).toContain('"x-a"');
      expect(invalid({ allowed, headers: [{ 'x-a': 'ok' }, 'x'] })).toContain('headers must be an object');
    }
  });

  test('response_headers_to_add follows the same rules and applies only when allowed', () => {
    expect(ok({ allowed: true, response_headers_to_add: { 'set-cookie': ['a=1', 'b=2'] } }).ok!.responseHeadersToAdd).toEqual([
      { key: 'set-cookie', value: 'a=1' },
      { key: 'set-cookie', value: 'b=2' },
    ]);
    expect(invalid({ allowed: true, response_headers_to_add: 7 })).toContain('response_headers_to_add');
    expect(ok({ allowed: false, response_headers_to_add: 7 }).denied!.status).toBe(403); // ignored on deny
  });
});

describe('allow-only fields', () => {
  test('request_headers_to_remove and query_parameters_to_remove: arrays of strings', () => {
    const r = ok({ allowed: true, request_headers_to_remove: ['authorization', 'cookie'], query_parameters_to_remove: ['token'] });
    expect(r.ok).toMatchObject({ headersToRemove: ['authorization', 'cookie'], queryParametersToRemove: ['token'] });
    expect(invalid({ allowed: true, request_headers_to_remove: 'authorization' })).toContain('request_headers_to_remove');
    expect(invalid({ allowed: true, request_headers_to_remove: [1] })).toContain('request_headers_to_remove');
    expect(invalid({ allowed: true, query_parameters_to_remove: 'test' })).toContain('query_parameters_to_remove');
  });

  test('query_parameters_to_set: an object of strings or string arrays', () => {
    expect(ok({ allowed: true, query_parameters_to_set: { p1: 'single', p2: ['m1', 'm2'] } }).ok!.queryParametersToSet).toEqual([
      { key: 'p1', value: 'single' },
      { key: 'p2', value: 'm1' },
      { key: 'p2', value: 'm2' },
    ]);
    expect(invalid({ allowed: true, query_parameters_to_set: 'invalid' })).toContain('query_parameters_to_set');
    expect(invalid({ allowed: true, query_parameters_to_set: { test: 123 } })).toContain('"test"');
    expect(invalid({ allowed: true, query_parameters_to_set: { test: [123] } })).toContain('"test"');
  });

  test('they are not looked at on a denial', () => {
    expect(ok({ allowed: false, request_headers_to_remove: 1, query_parameters_to_set: 'x', query_parameters_to_remove: {} }).denied).toEqual({ status: 403, headers: [], body: '' });
  });
});

describe('deny-only fields', () => {
  test('body must be a string; http_status a permitted integer; default 403', () => {
    expect(ok({ allowed: false, body: 'go away', http_status: 401 }).denied).toEqual({ status: 401, headers: [], body: 'go away' });
    expect(invalid({ allowed: false, body: 12 })).toContain('body must be a string');
    expect(invalid({ allowed: false, http_status: '401' })).toContain('http_status must be a number');
    expect(invalid({ allowed: false, http_status: true })).toContain('http_status must be a number');
    expect(invalid({ allowed: false, http_status: 401.5 })).toContain('integer');
  });

  test.each([1, 0, 99, 306, 418, 425, 600, 9999])('status %d is refused (not an Envoy StatusCode)', (s) => {
    expect(invalid({ allowed: false, http_status: s })).toContain(`invalid HTTP status code ${s}`);
  });

  test.each([200, 302, 400, 401, 429, 431, 503])('status %d is accepted', (s) => {
    expect(ok({ allowed: false, http_status: s }).denied!.status).toBe(s);
  });

  test('they are not looked at on an allow', () => {
    expect(ok({ allowed: true, body: 5, http_status: 'x' }).allowed).toBe(true);
  });
});

describe('dynamic metadata', () => {
  test('an object, returned with decision_id added, on allow and on deny', () => {
    expect(ok({ allowed: true, dynamic_metadata: { test: 'foo', bar: { n: 1, l: [true, null] } } }).dynamicMetadata).toEqual({ test: 'foo', bar: { n: 1, l: [true, null] }, decision_id: ID });
    expect(ok({ allowed: false, dynamic_metadata: { why: 'x' } }).dynamicMetadata).toEqual({ why: 'x', decision_id: ID });
  });

  test('any other type is invalid, also on a denial', () => {
    expect(invalid({ allowed: true, dynamic_metadata: 123 })).toContain('dynamic_metadata must be an object');
    expect(invalid({ allowed: false, dynamic_metadata: ['a'] })).toContain('dynamic_metadata must be an object');
  });

  test('the policy cannot overwrite decision_id', () => {
    expect(ok({ allowed: true, dynamic_metadata: { decision_id: 'forged' } }).dynamicMetadata.decision_id).toBe(ID);
  });
});

describe('dry-run', () => {
  test('a denial becomes an empty OK; the policy\'s answer and metadata stay visible', () => {
    const r = ok({ allowed: false, body: 'no', http_status: 401, headers: { 'x-a': 'b' }, dynamic_metadata: { m: 1 } }, true);
    expect(r).toEqual({
      allowed: true,
      policyAllowed: false,
      dryRunOverride: true,
      ok: { headers: [], headersToRemove: [], responseHeadersToAdd: [], queryParametersToSet: [], queryParametersToRemove: [] },
      denied: null,
      dynamicMetadata: { m: 1, decision_id: ID },
    });
    expect(ok(false, true)).toMatchObject({ allowed: true, policyAllowed: false, dryRunOverride: true });
  });

  test('an allow is unchanged, with its headers', () => {
    const r = ok({ allowed: true, headers: { x: 'hello', y: 'world' } }, true);
    expect(r.dryRunOverride).toBe(false);
    expect(r.ok!.headers).toHaveLength(2);
  });

  test('an invalid decision is still an error under dry-run (nothing is allowed by accident)', () => {
    invalid({ allowed: false, http_status: 9999 }, true);
    invalid({ allowed: 'no' }, true);
  });
});
