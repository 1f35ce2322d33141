// The Pin API error table stays in sync with its codes and maps to real gRPC / HTTP statuses.
import * as grpc from '@grpc/grpc-js';
import { PIN_API_STATUS, PinApiError, backendsForToken } from '../../ext-authz/src/server/pin-api';
import type { PinApiErrorCode } from '../../ext-authz/src/server/pin-api';

test('every code has a gRPC and an HTTP status', () => {
  const expected: Record<PinApiErrorCode, [number, number]> = {
    unauthenticated: [grpc.status.UNAUTHENTICATED, 401],
    permission_denied: [grpc.status.PERMISSION_DENIED, 403],
    invalid_argument: [grpc.status.INVALID_ARGUMENT, 400],
    not_found: [grpc.status.NOT_FOUND, 404],
    unavailable: [grpc.status.UNAVAILABLE, 503],
  };
  expect(Object.keys(PIN_API_STATUS).sort()).toEqual(Object.keys(expected).sort());
  for (const [code, [g, h]] of Object.entries(expected)) {
    expect(PIN_API_STATUS[code as PinApiErrorCode]).toEqual({ grpc: g, http: h });
    const e = new PinApiError(code as PinApiErrorCode, 'm');
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe(code);
  }
});

test('bearer tokens: exact match only, several backends may share one', () => {
  const tokens = { legacy: 'tok-a', new: 'tok-a', other: 'tok-b' };
  expect([...backendsForToken(tokens, 'Bearer tok-a')].sort()).toEqual(['legacy', 'new']);
  expect([...backendsForToken(tokens, 'bearer tok-b')]).toEqual(['other']);
  for (const bad of [undefined, '', 'tok-a', 'Bearer ', 'Bearer tok-a ', 'Basic tok-a', 'Bearer tok-', 'Bearer tok-a\u0000']) {
    expect(backendsForToken(tokens, bad).size).toBe(bad === 'Bearer tok-a ' ? 2 : 0);
  }
});
