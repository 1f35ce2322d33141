// io.jwt.* builtins: tokens and keys (RSA 2048, EC P-256, HMAC secret) come from the builtins_jwt
// corpus file; expectations are OPA 0.61's for those cases, plus sign/verify round trips.
import { generateKeyPairSync } from 'node:crypto';
import type { Value } from '../../../ext-authz/src/rego/value';
import { call, errorOf, json, jwtCorpus } from './harness';

const { keys, token } = jwtCorpus();

const CLAIMS = { aud: 'api', exp: 1800000000, iat: 1700000000, iss: 'https://issuer.example', nbf: 1700000000, roles: ['admin', 'dev'], sub: 'alice' };
const UNVERIFIED = [false, {}, {}];
const T = 1750000000000000000;

describe('io.jwt.decode', () => {
  test('header, claims and the signature in hex', () => {
    expect(json('io.jwt.decode', token('jwt/decode-hs256'))).toEqual([
      { alg: 'HS256', typ: 'JWT' }, CLAIMS, 'e3c55e2591e7fa124d317e3ea10e8cf3712081eab6af2e6bbbe47f4426c7f057',
    ]);
    expect(json('io.jwt.decode', token('jwt/decode-does-not-verify-tampered'))).toMatchObject([{}, { sub: 'mallory' }, expect.any(String)]);
  });

  test.each<[string, string]>([
    ['jwt/decode-two-parts', 'io.jwt.decode: encoded JWT must have 3 sections, found 2'],
    ['jwt/decode-bad-base64', 'io.jwt.decode: JWT header had invalid encoding: illegal base64 data at input byte 0'],
    ['jwt/decode-header-not-json', "io.jwt.decode: bad JWT header: invalid JSON: invalid character 'o' in literal null (expecting 'u')"],
  ])('%s is an error', (note, message) => {
    expect(errorOf('io.jwt.decode', token(note)).message).toBe(message);
  });

  test('more malformed tokens', () => {
    expect(errorOf('io.jwt.decode', 'hello').message).toBe('io.jwt.decode: encoded JWT had no period separators');
    expect(errorOf('io.jwt.decode', 'eyJhbGciOiJIU^%zI1NiI+sInR5cCI6IkpXVCJ9.e30.e30').message)
      .toBe('io.jwt.decode: JWT header had invalid encoding: illegal base64 data at input byte 13');
    const jwe = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImVuYyI6ImJsYWgifQ.eyJuZXciOiJJIGFtIGEgdXNlciBjcmVhdGVkIGZpZWxkIiwiaXNzIjoib3BhIn0.McGUb1e-UviZKy6UyQErNNQzEUgeV25Buwk7OHOa8U8';
    expect(errorOf('io.jwt.decode', jwe).message).toBe('io.jwt.decode: JWT is a JWE object, which is not supported');
  });
});

describe('io.jwt.verify_*', () => {
  test.each<[string, string, string, boolean]>([
    ['io.jwt.verify_hs256', 'jwt/verify-hs256-ok', keys.secret, true],
    ['io.jwt.verify_hs256', 'jwt/verify-hs256-other-secret-token', keys.secret, false],
    ['io.jwt.verify_hs256', 'jwt/verify-hs256-expired-still-valid-signature', keys.secret, true],
    ['io.jwt.verify_hs384', 'jwt/verify-hs384-ok', keys.secret, true],
    ['io.jwt.verify_hs512', 'jwt/verify-hs512-ok', keys.secret, true],
    ['io.jwt.verify_hs256', 'jwt/verify-hs256-on-hs512-token', keys.secret, false],
    ['io.jwt.verify_rs256', 'jwt/verify-rs256-pem-public-key', keys.rsa_pem, true],
    ['io.jwt.verify_rs256', 'jwt/verify-rs256-pem-public-key', keys.rsa_cert, true],
    ['io.jwt.verify_rs256', 'jwt/verify-rs256-jwks', keys.jwks, true],
    ['io.jwt.verify_rs256', 'jwt/verify-rs256-single-jwk', keys.jwk_rsa, true],
    ['io.jwt.verify_rs256', 'jwt/verify-rs256-wrong-key', keys.rsa_other_pem, false],
    ['io.jwt.verify_rs256', 'jwt/verify-rs256-token-signed-by-other', keys.rsa_pem, false],
    ['io.jwt.verify_rs256', 'jwt/verify-rs256-on-hs256-token', keys.rsa_pem, false],
    ['io.jwt.verify_es256', 'jwt/verify-es256-pem', keys.ec_pem, true],
    ['io.jwt.verify_es256', 'jwt/verify-es256-jwks', keys.jwks, true],
    ['io.jwt.verify_es256', 'jwt/verify-es256-jwk', keys.jwk_ec, true],
    ['io.jwt.verify_es256', 'jwt/verify-es256-on-rs256-token', keys.ec_pem, false],
  ])('%s(%s)', (name, note, key, want) => {
    expect(call(name, token(note), key)).toBe(want);
  });

  test('a key that is neither PEM nor JWK is an error', () => {
    expect(errorOf('io.jwt.verify_rs256', token('jwt/verify-rs256-pem-public-key'), 'not a key').message).toBe(
      "io.jwt.verify_rs256: failed to parse a JWK key (set): failed to unmarshal JWK Set: invalid character 'o' in literal null (expecting 'u')",
    );
    expect(errorOf('io.jwt.verify_hs256', token('jwt/decode-two-parts'), keys.secret).message).toBe(
      'io.jwt.verify_hs256: encoded JWT must have 3 sections, found 2',
    );
  });
});

describe('io.jwt.decode_verify', () => {
  const dv = (note: string, c: Record<string, Value>) => json('io.jwt.decode_verify', token(note), c);

  test.each<[string, Record<string, Value>, boolean]>([
    ['jwt/dv-hs256-valid', { secret: keys.secret, alg: 'HS256', aud: 'api', time: T }, true],
    ['jwt/dv-hs256-expired', { secret: keys.secret, aud: 'api', time: T }, false],
    ['jwt/dv-hs256-exactly-at-exp', { secret: keys.secret, aud: 'api', time: 1800000000000000000 }, false],
    // 1 ns before exp is expired too: the time is compared as float seconds.
    ['jwt/dv-hs256-just-before-exp', { secret: keys.secret, aud: 'api', time: 1799999999999999999 }, false],
    ['jwt/dv-hs256-exactly-at-nbf', { secret: keys.secret, aud: 'api', time: 1700000000000000000 }, true],
    ['jwt/dv-hs256-float-exp', { secret: keys.secret, aud: 'api', time: 1800000000250000000 }, true],
    ['jwt/dv-iss-match', { secret: keys.secret, aud: 'api', iss: 'https://issuer.example', time: T }, true],
    ['jwt/dv-iss-mismatch', { secret: keys.secret, aud: 'api', iss: 'https://other', time: T }, false],
    ['jwt/dv-aud-mismatch', { secret: keys.secret, aud: 'web', time: T }, false],
    ['jwt/dv-aud-list-contains', { secret: keys.secret, aud: 'web', time: T }, true],
    ['jwt/dv-aud-list-not-contains', { secret: keys.secret, aud: 'mobile', time: T }, false],
    ['jwt/dv-token-without-aud-constraint-with-aud', { secret: keys.secret, aud: 'api', time: T }, false],
    ['jwt/dv-token-without-aud-no-constraint', { secret: keys.secret, time: T }, true],
    ['jwt/dv-no-exp-claim', { secret: keys.secret, aud: 'api', time: 4000000000000000000 }, true],
    ['jwt/dv-wrong-secret', { secret: 'wrong', aud: 'api', time: T }, false],
    ['jwt/dv-tampered', { secret: keys.secret, aud: 'api', time: T }, false],
    ['jwt/dv-alg-mismatch', { secret: keys.secret, alg: 'HS512', aud: 'api', time: T }, false],
    ['jwt/dv-hs512', { secret: keys.secret, aud: 'api', time: T }, true],
    ['jwt/dv-rs256-pem', { cert: keys.rsa_pem, aud: 'api', time: T }, true],
    ['jwt/dv-rs256-jwks', { cert: keys.jwks, aud: 'api', time: T }, true],
    ['jwt/dv-rs256-wrong-key', { cert: keys.rsa_other_pem, aud: 'api', time: T }, false],
    ['jwt/dv-es256-jwks-expired', { cert: keys.jwks, aud: 'api', time: 1900000000000000000 }, false],
  ])('%s', (note, constraints, valid) => {
    const r = dv(note, constraints) as unknown[];
    if (valid) {
      expect(r[0]).toBe(true);
      expect(r[1]).toMatchObject({ alg: expect.any(String) });
      expect(r[2]).toMatchObject({ sub: 'alice' });
    } else {
      expect(r).toEqual(UNVERIFIED);
    }
  });

  test.each<[string, Record<string, Value>, string]>([
    ['jwt/dv-none-alg-rejected', { secret: keys.secret, aud: 'api', time: T }, 'io.jwt.decode_verify: unknown JWS algorithm: none'],
    ['jwt/dv-unknown-constraint', { secret: keys.secret, bogus: 1, time: T }, 'io.jwt.decode_verify: unknown token validation constraint: bogus'],
    ['jwt/dv-malformed-token', { secret: keys.secret, time: T }, 'io.jwt.decode_verify: encoded JWT must have 3 sections, found 2'],
    ['jwt/dv-bad-cert', { cert: 'garbage', time: T }, "io.jwt.decode_verify: failed to parse a JWK key (set): failed to unmarshal JWK Set: invalid character 'g' looking for beginning of value"],
  ])('%s is an error', (note, constraints, message) => {
    expect(errorOf('io.jwt.decode_verify', token(note), constraints).message).toBe(message);
  });

  test('both or neither of secret and cert, or an RSA token with only a secret, are errors', () => {
    const hs = token('jwt/dv-hs256-valid');
    expect(errorOf('io.jwt.decode_verify', hs, { secret: keys.secret, cert: keys.rsa_pem, time: T }).kind).toBe('builtin');
    expect(errorOf('io.jwt.decode_verify', hs, { time: T }).kind).toBe('builtin');
    expect(errorOf('io.jwt.decode_verify', token('jwt/dv-rs256-with-secret-only'), { secret: keys.secret, aud: 'api', time: T }).kind).toBe('builtin');
  });

  test('a non-numeric exp is an error', () => {
    const t = call('io.jwt.encode_sign', { alg: 'HS256' }, { exp: null }, { kty: 'oct', k: Buffer.from('42').toString('base64url') }) as string;
    expect(errorOf('io.jwt.decode_verify', t, { secret: '42' }).message).toBe('io.jwt.decode_verify: exp value must be a number');
  });
});

describe('io.jwt.encode_sign', () => {
  test('encode_sign_raw signs the given texts verbatim', () => {
    expect(call('io.jwt.encode_sign_raw', '{"alg":"HS256","typ":"JWT"}', '{"a":1}', '{"kty":"oct","k":"a2V5"}')).toBe(
      'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhIjoxfQ.Z4rGK-v6a2sWAUQdmALR3aYbXZviLr8j26a9ndx_bM4',
    );
  });

  test('HMAC round trip', () => {
    const t = call('io.jwt.encode_sign', { typ: 'JWT', alg: 'HS256' }, { sub: 'x' }, { kty: 'oct', k: Buffer.from('key').toString('base64url') }) as string;
    expect(call('io.jwt.verify_hs256', t, 'key')).toBe(true);
    expect(json('io.jwt.decode', t)).toMatchObject([{ alg: 'HS256', typ: 'JWT' }, { sub: 'x' }, expect.any(String)]);
  });

  test.each(['RS256', 'RS512', 'PS256', 'PS384', 'ES256', 'ES384'])('%s round trip through decode_verify', (alg) => {
    const kp = alg.startsWith('ES')
      ? generateKeyPairSync('ec', { namedCurve: alg === 'ES256' ? 'P-256' : 'P-384' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = kp.privateKey.export({ format: 'jwk' }) as unknown as Record<string, Value>;
    const t = call('io.jwt.encode_sign', { alg }, { sub: 'x', exp: 2000000000 }, jwk) as string;
    const pem = kp.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    expect(call(`io.jwt.verify_${alg.toLowerCase()}`, t, pem)).toBe(true);
    expect(json('io.jwt.decode_verify', t, { cert: pem, time: T })).toEqual([true, { alg }, { exp: 2000000000, sub: 'x' }]);
    expect(json('io.jwt.decode_verify', t, { cert: keys.rsa_pem, time: T })).toEqual(UNVERIFIED);
  });
});
