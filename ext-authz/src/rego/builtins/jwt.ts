// Builtins: io.jwt.* (OPA policy reference, "Tokens"): decode, signature checks per algorithm,
// decode_verify with its constraints object, and signing from a JWK. Synchronous node:crypto only.
import { BuiltinError } from '../errors';
import type { Value } from '../value';
import { isObject, makeObject, objEntries, toJSON, typeName } from '../value';
import { mustString, operandError, type BuiltinContext, type BuiltinSpec } from './registry';
import {
  WrongKeyType, algorithm, b64urlDecode, b64urlEncode, keysFromCertOrJwk, parseJson, signWithJwk, splitToken,
  verifySignature, type JwtParts, type VerificationKey,
} from './jwt-support';

type Json = Record<string, unknown>;

function decodeSegment(name: string, what: string, seg: string): Buffer {
  const b = b64urlDecode(seg);
  if (typeof b === 'string') throw new BuiltinError(`${name}: JWT ${what} had invalid encoding: ${b}`);
  return b;
}

function jsonObject(name: string, what: string, bytes: Buffer): Json {
  const p = parseJson(bytes.toString('utf8'));
  if (!p.ok) throw new BuiltinError(`${name}: bad JWT ${what}: invalid JSON: ${p.error}`);
  if (typeof p.value !== 'object' || p.value === null || Array.isArray(p.value)) {
    throw new BuiltinError(`${name}: bad JWT ${what}: not a JSON object`);
  }
  return p.value as Json;
}

function decodeHeader(name: string, parts: JwtParts): Json {
  const h = jsonObject(name, 'header', decodeSegment(name, 'header', parts.header));
  if (h.enc !== undefined) throw new BuiltinError(`${name}: JWT is a JWE object, which is not supported`);
  return h;
}

/** A nested token's payload is the inner compact token, possibly as a JSON string. */
function innerToken(payload: Buffer): string {
  const text = payload.toString('utf8');
  if (text.startsWith('"')) {
    const p = parseJson(text);
    if (p.ok && typeof p.value === 'string') return p.value;
  }
  return text;
}

const isNested = (h: Json): boolean => typeof h.cty === 'string' && h.cty.toUpperCase() === 'JWT';

// JSON.parse output is already a Value (plain objects, arrays, finite numbers).
const asValue = (x: unknown): Value => x as Value;

function decode(name: string, token: string): Value {
  let t = token;
  for (;;) {
    const parts = splitToken(name, t);
    const header = decodeHeader(name, parts);
    const payloadBytes = decodeSegment(name, 'payload', parts.payload);
    if (isNested(header)) {
      t = innerToken(payloadBytes);
      continue;
    }
    const payload = jsonObject(name, 'payload', payloadBytes);
    const sig = decodeSegment(name, 'signature', parts.signature);
    return [asValue(header), asValue(payload), sig.toString('hex')];
  }
}

/** io.jwt.verify_<alg>: the signature alone, whatever the header's alg says (OPA does not check it). */
function verifier(alg: string): BuiltinSpec {
  const name = `io.jwt.verify_${alg.toLowerCase()}`;
  const a = algorithm(alg)!;
  return {
    name,
    category: 'jwt',
    args: ['string', 'string'],
    result: 'boolean',
    fn: (args) => {
      const parts = splitToken(name, mustString(name, args, 0));
      const keyText = mustString(name, args, 1);
      const input = `${parts.header}.${parts.payload}`;
      if (a.family === 'HS') {
        const sig = decodeSegment(name, 'signature', parts.signature);
        return verifySignature(a, Buffer.from(keyText, 'utf8'), input, sig);
      }
      const keys = keysFromCertOrJwk(name, keyText);
      const sig = decodeSegment(name, 'signature', parts.signature);
      const tryKey = (k: VerificationKey): boolean => {
        try {
          return verifySignature(a, k.key, input, sig);
        } catch (e) {
          if (e instanceof WrongKeyType) return false;
          throw e;
        }
      };
      // A key whose kid matches the header's is the only one tried.
      const kid = headerKid(parts);
      const byKid = kid === '' ? undefined : keys.find((k) => k.kid === kid);
      if (byKid) return tryKey(byKid);
      return keys.some(tryKey);
    },
  };
}

function headerKid(parts: JwtParts): string {
  const b = b64urlDecode(parts.header);
  if (typeof b === 'string') return '';
  const p = parseJson(b.toString('utf8'));
  const kid = p.ok && typeof p.value === 'object' && p.value !== null ? (p.value as Json).kid : undefined;
  return typeof kid === 'string' ? kid : '';
}

interface Constraints {
  keys?: VerificationKey[];
  secret?: string;
  alg?: string;
  iss?: string;
  aud?: string;
  /** Seconds, as a float (OPA divides the nanosecond time by 1e9 in floating point). */
  timeSec: number;
}

function parseConstraints(name: string, v: Value, ctx: BuiltinContext): Constraints {
  if (!isObject(v)) throw operandError(name, 2, 'object', v);
  const c: Constraints = { timeSec: Number(ctx.nowNs) / 1e9 };
  for (const [k, x] of objEntries(v)) {
    const str = (): string => {
      if (typeof x !== 'string') throw new BuiltinError(`${name}: ${String(k)} constraint must be a string but got ${typeName(x)}`);
      return x;
    };
    switch (k) {
      case 'cert': c.keys = keysFromCertOrJwk(name, str()); break;
      case 'secret': c.secret = str(); break;
      case 'alg': c.alg = str(); break;
      case 'iss': c.iss = str(); break;
      case 'aud': c.aud = str(); break;
      case 'time':
        if (typeof x !== 'number') throw new BuiltinError(`${name}: time constraint must be a number but got ${typeName(x)}`);
        c.timeSec = x / 1e9;
        break;
      default:
        throw new BuiltinError(`${name}: unknown token validation constraint: ${typeof k === 'string' ? k : JSON.stringify(toJSON(k))}`);
    }
  }
  if (c.keys && c.secret !== undefined) throw new BuiltinError(`${name}: duplicate key constraints`);
  if (!c.keys && c.secret === undefined) throw new BuiltinError(`${name}: no key constraint`);
  return c;
}

/** Signature check under the constraints: false when no trusted key verifies it. */
function verifyWithConstraints(name: string, c: Constraints, header: Json, parts: JwtParts): boolean {
  const alg = typeof header.alg === 'string' ? header.alg : '';
  const a = algorithm(alg);
  if (!a) throw new BuiltinError(`${name}: unknown JWS algorithm: ${alg}`);
  const sig = decodeSegment(name, 'signature', parts.signature);
  const input = `${parts.header}.${parts.payload}`;
  const check = (key: VerificationKey['key'], wrongTypeIsError: boolean): boolean => {
    try {
      return verifySignature(a, key, input, sig);
    } catch (e) {
      if (e instanceof WrongKeyType && !wrongTypeIsError) return false;
      if (e instanceof WrongKeyType) throw new BuiltinError(`${name}: ${e.message}`);
      throw e;
    }
  };
  if (c.keys) {
    const kid = typeof header.kid === 'string' ? header.kid : '';
    const byKid = kid === '' ? undefined : c.keys.find((k) => k.kid === kid);
    if (byKid) return check(byKid.key, true);
    return c.keys.some((k) => (k.alg === '' || k.alg === alg) && check(k.key, false));
  }
  return check(Buffer.from(c.secret ?? '', 'utf8'), true);
}

function audienceOk(aud: unknown, want: string | undefined): boolean {
  if (want === undefined || want === '') return false;
  if (typeof aud === 'string') return aud === want;
  if (Array.isArray(aud)) return aud.some((x) => x === want);
  return false;
}

function decodeVerify(args: Value[], ctx: BuiltinContext): Value {
  const name = 'io.jwt.decode_verify';
  let t = mustString(name, args, 0);
  const c = parseConstraints(name, args[1], ctx);
  const unverified: Value = [false, makeObject([]), makeObject([])];
  let header: Json;
  let payloadBytes: Buffer;
  for (;;) {
    const parts = splitToken(name, t);
    header = decodeHeader(name, parts);
    // RFC 7515 §4.1.11: we understand no "crit" extensions, so such tokens are not accepted.
    if (typeof header.alg !== 'string' || header.alg === '' || header.crit !== undefined) return unverified;
    if (c.alg !== undefined && c.alg !== header.alg) return unverified;
    if (!verifyWithConstraints(name, c, header, parts)) return unverified;
    payloadBytes = decodeSegment(name, 'payload', parts.payload);
    if (!isNested(header)) break;
    t = innerToken(payloadBytes);
  }
  const payload = jsonObject(name, 'payload', payloadBytes);
  if (c.iss !== undefined && payload.iss !== c.iss) return unverified;
  if (payload.aud !== undefined ? !audienceOk(payload.aud, c.aud) : c.aud !== undefined && c.aud !== '') return unverified;
  // exp/nbf are compared with the time in float seconds: a time 1 ns before exp rounds onto it.
  if (payload.exp !== undefined) {
    if (typeof payload.exp !== 'number') throw new BuiltinError(`${name}: exp value must be a number`);
    if (!(c.timeSec < payload.exp)) return unverified;
  }
  if (payload.nbf !== undefined) {
    if (typeof payload.nbf !== 'number') throw new BuiltinError(`${name}: nbf value must be a number`);
    if (c.timeSec < payload.nbf) return unverified;
  }
  return [true, asValue(header), asValue(payload)];
}

function encodeSignRaw(name: string, headerText: string, payloadText: string, keyText: string): string {
  const h = parseJson(headerText);
  if (!h.ok || typeof h.value !== 'object' || h.value === null || Array.isArray(h.value)) {
    throw new BuiltinError(`${name}: invalid JWS header: ${h.ok ? 'not an object' : h.error}`);
  }
  const alg = (h.value as Json).alg;
  if (typeof alg !== 'string') throw new BuiltinError(`${name}: JWS header has no alg`);
  const k = parseJson(keyText);
  if (!k.ok || typeof k.value !== 'object' || k.value === null || Array.isArray(k.value)) {
    throw new BuiltinError(`${name}: failed to parse JWK: ${k.ok ? 'not an object' : k.error}`);
  }
  const input = `${b64urlEncode(headerText)}.${b64urlEncode(payloadText)}`;
  return `${input}.${b64urlEncode(signWithJwk(name, alg, k.value as Json, input))}`;
}

export const jwtBuiltins: readonly BuiltinSpec[] = [
  {
    name: 'io.jwt.decode',
    category: 'jwt',
    args: ['string'],
    result: { array: 'any' },
    fn: (args) => decode('io.jwt.decode', mustString('io.jwt.decode', args, 0)),
  },
  {
    name: 'io.jwt.decode_verify',
    category: 'jwt',
    args: ['string', { object: ['string', 'any'] }],
    result: { array: 'any' },
    fn: decodeVerify,
  },
  ...['RS', 'PS', 'ES', 'HS'].flatMap((f) => ['256', '384', '512'].map((n) => verifier(f + n))),
  {
    name: 'io.jwt.encode_sign',
    category: 'jwt',
    args: [{ object: ['string', 'any'] }, { object: ['string', 'any'] }, { object: ['string', 'any'] }],
    result: 'string',
    // Headers, payload and key are serialised as JSON with sorted keys, as OPA marshals them.
    fn: (args) => {
      const name = 'io.jwt.encode_sign';
      args.forEach((a, i) => {
        if (!isObject(a)) throw operandError(name, i + 1, 'object', a);
      });
      const [h, p, k] = args.map((a) => JSON.stringify(toJSON(a)));
      return encodeSignRaw(name, h, p, k);
    },
  },
  {
    name: 'io.jwt.encode_sign_raw',
    category: 'jwt',
    args: ['string', 'string', 'string'],
    result: 'string',
    fn: (args) => {
      const name = 'io.jwt.encode_sign_raw';
      return encodeSignRaw(name, mustString(name, args, 0), mustString(name, args, 1), mustString(name, args, 2));
    },
  },
];
