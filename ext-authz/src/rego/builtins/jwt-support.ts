// JWS plumbing for the io.jwt.* builtins: token splitting and base64url decoding with OPA's error
// texts, verification keys from PEM / JWK / JWKS, and synchronous sign/verify with node:crypto.
import { createHmac, createPrivateKey, createPublicKey, sign, timingSafeEqual, verify, constants, type KeyObject } from 'node:crypto';
import { BuiltinError } from '../errors';

export interface JwtParts {
  header: string;
  payload: string;
  signature: string;
}

/** Splits a compact JWS ("encoded JWT had no period separators" / "must have 3 sections"). */
export function splitToken(name: string, token: string): JwtParts {
  if (!token.includes('.')) throw new BuiltinError(`${name}: encoded JWT had no period separators`);
  const parts = token.split('.');
  if (parts.length !== 3) throw new BuiltinError(`${name}: encoded JWT must have 3 sections, found ${parts.length}`);
  return { header: parts[0], payload: parts[1], signature: parts[2] };
}

/**
 * base64url as OPA's base64url.decode: missing padding is restored (RFC 7515 Appendix C), then the
 * bytes, or Go's "illegal base64 data at input byte N" for the first bad character.
 */
export function b64urlDecode(str: string): Buffer | string {
  let s = str;
  if (!s.endsWith('=')) {
    if (s.length % 4 === 1) return `illegal base64url string: ${s}`;
    if (s.length % 4 !== 0) s += '='.repeat(4 - (s.length % 4));
  }
  const bad = /[^A-Za-z0-9_-]/.exec(s);
  if (bad) {
    const tail = s.slice(bad.index);
    const validPadding = s.length % 4 === 0 && /^={1,2}$/.test(tail) && bad.index >= s.length - 2;
    if (!validPadding) return `illegal base64 data at input byte ${bad.index}`;
  } else if (s.length % 4 !== 0) {
    return `illegal base64 data at input byte ${s.length}`;
  }
  return Buffer.from(s, 'base64url');
}

export function b64urlEncode(b: Buffer | string): string {
  return Buffer.from(b).toString('base64url');
}

/** Go encoding/json's syntax error text for the common cases; otherwise a generic one. */
export function goJsonError(text: string): string {
  const t = text.trimStart();
  if (t === '') return 'unexpected end of JSON input';
  const c = t[0];
  for (const lit of ['null', 'true', 'false']) {
    if (c !== lit[0]) continue;
    for (let i = 1; i < lit.length; i++) {
      if (i >= t.length) return 'unexpected end of JSON input';
      if (t[i] !== lit[i]) return `invalid character '${t[i]}' in literal ${lit} (expecting '${lit[i]}')`;
    }
  }
  if (!/^[[{"\-0-9ntf]/.test(c)) return `invalid character '${c}' looking for beginning of value`;
  return 'invalid JSON';
}

export function parseJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, error: goJsonError(text) };
  }
}

// ---- keys ---------------------------------------------------------------------------------------

export interface VerificationKey {
  alg: string;
  kid: string;
  key: KeyObject | Buffer;
}

/** A JWK object to a key: public or private asymmetric keys become KeyObjects, "oct" keys bytes. */
export function keyFromJwk(jwk: Record<string, unknown>): KeyObject | Buffer {
  if (jwk.kty === 'oct') return Buffer.from(String(jwk.k ?? ''), 'base64url');
  const input = { key: jwk as unknown as import('node:crypto').JsonWebKey, format: 'jwk' as const };
  return 'd' in jwk ? createPrivateKey(input) : createPublicKey(input);
}

/**
 * Parsed keys by their text: policies pass the same PEM/JWKS string on every request, so it is
 * parsed once. Bounded; cleared wholesale when full (key texts come from policy data, not requests).
 */
const keyCache = new Map<string, VerificationKey[]>();
const KEY_CACHE_MAX = 64;

/** OPA's getKeysFromCertOrJWK: one PEM certificate or public key, else a JWK or a JWK Set. */
export function keysFromCertOrJwk(name: string, cert: string): VerificationKey[] {
  const hit = keyCache.get(cert);
  if (hit) return hit;
  const keys = parseKeys(name, cert);
  if (keyCache.size >= KEY_CACHE_MAX) keyCache.clear();
  keyCache.set(cert, keys);
  return keys;
}

function parseKeys(name: string, cert: string): VerificationKey[] {
  if (cert.includes('-----BEGIN')) {
    try {
      return [{ alg: '', kid: '', key: createPublicKey(cert) }];
    } catch {
      throw new BuiltinError(`${name}: failed to extract a Key from the PEM certificate`);
    }
  }
  const parsed = parseJson(cert);
  if (!parsed.ok) throw new BuiltinError(`${name}: failed to parse a JWK key (set): failed to unmarshal JWK Set: ${parsed.error}`);
  const v = parsed.value;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new BuiltinError(`${name}: failed to parse a JWK key (set): failed to unmarshal JWK Set`);
  }
  const list = Array.isArray((v as { keys?: unknown }).keys) ? ((v as { keys: unknown[] }).keys) : [v];
  const out: VerificationKey[] = [];
  for (const k of list) {
    if (typeof k !== 'object' || k === null) continue;
    const jwk = k as Record<string, unknown>;
    try {
      out.push({ alg: typeof jwk.alg === 'string' ? jwk.alg : '', kid: typeof jwk.kid === 'string' ? jwk.kid : '', key: keyFromJwk(jwk) });
    } catch {
      throw new BuiltinError(`${name}: failed to parse a JWK key (set): failed to create key from JWK`);
    }
  }
  return out;
}

// ---- algorithms ---------------------------------------------------------------------------------

export type Family = 'HS' | 'RS' | 'PS' | 'ES' | 'EdDSA';
export interface Algorithm {
  family: Family;
  hash: string;
}

export function algorithm(alg: string): Algorithm | undefined {
  if (alg === 'EdDSA') return { family: 'EdDSA', hash: '' };
  const m = /^(HS|RS|PS|ES)(256|384|512)$/.exec(alg);
  return m ? { family: m[1] as Family, hash: 'sha' + m[2] } : undefined;
}

/** Thrown when a key cannot be used with the algorithm (Go's "incorrect public key type"). */
export class WrongKeyType extends Error {}

/** Verifies a JWS signature over `signingInput`; a key of the wrong kind throws WrongKeyType. */
export function verifySignature(a: Algorithm, key: KeyObject | Buffer, signingInput: string, sig: Buffer): boolean {
  const data = Buffer.from(signingInput, 'utf8');
  if (a.family === 'HS') {
    if (!Buffer.isBuffer(key)) throw new WrongKeyType('incorrect symmetric key type');
    const mac = createHmac(a.hash, key).update(data).digest();
    return mac.length === sig.length && timingSafeEqual(mac, sig);
  }
  if (Buffer.isBuffer(key) || key.type === 'secret') throw new WrongKeyType('incorrect public key type');
  const kt = key.asymmetricKeyType;
  try {
    switch (a.family) {
      case 'RS':
        if (kt !== 'rsa') throw new WrongKeyType('incorrect public key type');
        return verify(a.hash, data, key, sig);
      case 'PS':
        if (kt !== 'rsa' && kt !== 'rsa-pss') throw new WrongKeyType('incorrect public key type');
        return verify(a.hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, sig);
      case 'ES':
        if (kt !== 'ec') throw new WrongKeyType('incorrect public key type');
        // JWS carries ECDSA signatures as raw r||s, not DER (RFC 7518 §3.4).
        return verify(a.hash, data, { key, dsaEncoding: 'ieee-p1363' }, sig);
      case 'EdDSA':
        if (kt !== 'ed25519' && kt !== 'ed448') throw new WrongKeyType('incorrect public key type');
        return verify(null, data, key, sig);
    }
  } catch (e) {
    if (e instanceof WrongKeyType) throw e;
    return false;
  }
  return false;
}

/** Signs a JWS signing input with a JWK (encode_sign / encode_sign_raw). */
export function signWithJwk(name: string, alg: string, jwk: Record<string, unknown>, signingInput: string): Buffer {
  const a = algorithm(alg);
  if (!a) throw new BuiltinError(`${name}: unknown signature algorithm: ${alg}`);
  let key: KeyObject | Buffer;
  try {
    key = keyFromJwk(jwk);
  } catch {
    throw new BuiltinError(`${name}: failed to parse JWK`);
  }
  const data = Buffer.from(signingInput, 'utf8');
  try {
    if (a.family === 'HS') {
      if (!Buffer.isBuffer(key)) throw new Error('HMAC needs an "oct" key');
      return createHmac(a.hash, key).update(data).digest();
    }
    if (Buffer.isBuffer(key)) throw new Error('asymmetric algorithm needs a private key');
    switch (a.family) {
      case 'RS':
        return sign(a.hash, data, key);
      case 'PS':
        return sign(a.hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
      case 'ES':
        return sign(a.hash, data, { key, dsaEncoding: 'ieee-p1363' });
      default:
        return sign(null, data, key);
    }
  } catch (e) {
    throw new BuiltinError(`${name}: failed to sign token: ${(e as Error).message}`);
  }
}
