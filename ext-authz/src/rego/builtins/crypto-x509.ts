// crypto.x509.parse_certificates: PEM (or base64 of PEM / DER) certificates to objects shaped like
// Go's x509.Certificate JSON, limited to the fields policies use (names, validity, SANs, CA flag).
import { X509Certificate } from 'node:crypto';
import { BuiltinError } from '../errors';
import type { Value } from '../value';
import { makeObject } from '../value';

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** The certificates in a PEM text, base64 of a PEM text, or base64 DER (one certificate). */
function certificates(name: string, input: string): X509Certificate[] {
  let text = input;
  if (!text.includes('-----BEGIN')) {
    const raw = Buffer.from(text, 'base64');
    const decoded = raw.toString('utf8');
    if (decoded.includes('-----BEGIN')) text = decoded;
    else {
      try {
        return [new X509Certificate(raw)];
      } catch {
        throw new BuiltinError(`${name}: x509: malformed certificate`);
      }
    }
  }
  const blocks = text.match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw new BuiltinError(`${name}: x509: malformed certificate`);
  return blocks.map((b) => {
    try {
      return new X509Certificate(b);
    } catch {
      throw new BuiltinError(`${name}: x509: malformed certificate`);
    }
  });
}

/** Node's "C=US\nO=Acme\nCN=x" distinguished name as Go's pkix.Name fields. */
function pkixName(dn: string): Value {
  const attrs = new Map<string, string[]>();
  for (const line of dn.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const k = line.slice(0, eq);
    attrs.set(k, [...(attrs.get(k) ?? []), line.slice(eq + 1)]);
  }
  const list = (k: string): Value => attrs.get(k) ?? null;
  return makeObject([
    ['CommonName', (attrs.get('CN') ?? [''])[0]],
    ['Country', list('C')],
    ['Organization', list('O')],
    ['OrganizationalUnit', list('OU')],
    ['Locality', list('L')],
    ['Province', list('ST')],
    ['StreetAddress', list('street')],
    ['PostalCode', list('postalCode')],
    ['SerialNumber', (attrs.get('serialNumber') ?? [''])[0]],
  ]);
}

/** Subject alternative names by Go field: DNSNames, EmailAddresses, IPAddresses, URIs. */
function sans(c: X509Certificate): Record<string, string[]> {
  const out: Record<string, string[]> = { DNS: [], email: [], 'IP Address': [], URI: [] };
  for (const part of (c.subjectAltName ?? '').split(/,\s*/)) {
    const colon = part.indexOf(':');
    if (colon <= 0) continue;
    const kind = part.slice(0, colon);
    if (kind in out) out[kind].push(part.slice(colon + 1));
  }
  return out;
}

const listOrNull = (xs: string[]): Value => (xs.length > 0 ? xs : null);

function certObject(c: X509Certificate): Value {
  const s = sans(c);
  return makeObject([
    ['Raw', c.raw.toString('base64')],
    ['Version', 3],
    // Go marshals the serial as a JSON number; beyond 2^53 this is the nearest double.
    ['SerialNumber', Number(BigInt('0x' + c.serialNumber))],
    ['Subject', pkixName(c.subject)],
    ['Issuer', pkixName(c.issuer)],
    ['NotBefore', new Date(c.validFrom).toISOString().replace('.000Z', 'Z')],
    ['NotAfter', new Date(c.validTo).toISOString().replace('.000Z', 'Z')],
    ['DNSNames', listOrNull(s.DNS)],
    ['EmailAddresses', listOrNull(s.email)],
    ['IPAddresses', listOrNull(s['IP Address'])],
    ['URIs', listOrNull(s.URI)],
    ['IsCA', c.ca],
  ]);
}

export function parseCertificates(name: string, input: string): Value {
  return certificates(name, input).map(certObject);
}
