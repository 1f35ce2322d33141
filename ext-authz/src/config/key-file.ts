// Key files (docs/operations.md, "Keys"): the secret half of a registry, kept apart from the registry so
// the registry can be reviewed and committed while the keys are mounted as a secret. A registry points
// at one with `keys: file:<path>` (relative to the registry). `callback-proxy keys generate` writes
// them. Layout: the service-wide hash and cookie keys, then one entry per connection and backend:
//
//   version: 1
//   hash_key: <base64url>
//   cookie_key: <base64url>
//   connections:
//     <connection>:
//       <backend>: { state_key: <base64url>, pin_api_token: <token> }
//
// Values are never part of an error message.
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { z } from 'zod';
import { ConfigError, formatPath } from './registry-errors';
import { readYamlText } from './yaml-text';

export const KEY_FILE_VERSION = 1;

export interface BackendCredentials {
  /** Signs state envelopes minted for this backend (base64url HMAC key). */
  state_key?: string;
  /** Bearer token this backend presents to the Pin API. */
  pin_api_token?: string;
}

export interface KeyFile {
  version: 1;
  hash_key: string;
  cookie_key: string;
  connections: Record<string, Record<string, BackendCredentials>>;
}

/** The registry's `keys` section as the key file provides it (values inline, names per credential). */
export interface KeysSection {
  hash_key: string;
  cookie_key: string;
  state_keys: Record<string, string>;
  pin_api_tokens: Record<string, string>;
}

/** A connection and the ids of its backends: what a key set is generated for. */
export interface CredentialOwner {
  connection: string;
  backends: string[];
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const id = z.string().regex(ID, 'expected an id of [A-Za-z0-9_-], 1..64 chars');

const keyFileSchema = z.strictObject({
  version: z.literal(KEY_FILE_VERSION, { message: `expected version: ${KEY_FILE_VERSION}` }),
  hash_key: z.string().min(1),
  cookie_key: z.string().min(1),
  connections: z.record(id, z.record(id, z.strictObject({ state_key: z.string().min(1).optional(), pin_api_token: z.string().min(1).optional() }))).default({}),
});

/** 32 random bytes, base64url: the size every key in the registry is recommended to have. */
function freshKey(): string {
  return randomBytes(32).toString('base64url');
}

/** A fresh key set: service keys plus a state key and a Pin API token per connection and backend. */
export function generateKeyFile(owners: readonly CredentialOwner[]): KeyFile {
  const connections: KeyFile['connections'] = {};
  for (const o of owners) {
    const backends: Record<string, BackendCredentials> = {};
    for (const b of o.backends) backends[b] = { state_key: freshKey(), pin_api_token: freshKey() };
    connections[o.connection] = backends;
  }
  return { version: 1, hash_key: freshKey(), cookie_key: freshKey(), connections };
}

/** The key file's text, with a header saying what it is and how it is used. */
export function renderKeyFile(keys: KeyFile, generatedAt: Date): string {
  const header = [
    `# callback-proxy key set, generated ${generatedAt.toISOString()} by \`callback-proxy keys generate\`.`,
    '# SECRET: mount it (e.g. as a Kubernetes Secret), never commit it. A registry uses it with',
    '#   keys: file:<this file, relative to the registry>',
    '# hash_key: keyed hashes of state, code, RelayState and cohort keys; cookie_key: the cookie hint MAC;',
    '# per connection and backend: state_key signs state envelopes, pin_api_token authenticates the backend',
    '# to the Pin API. Replacing a key ends the flows in flight that depend on it (docs/operations.md).',
  ];
  return `${header.join('\n')}\n${stringify(keys)}`;
}

/**
 * The name a credential of (connection, backend) has in the registry's `keys.state_keys` and
 * `keys.pin_api_tokens`: the bare backend id when no other connection has a backend of that id, else
 * `<connection>/<backend>`.
 */
export function credentialName(connection: string, backend: string, owners: ReadonlyMap<string, readonly string[]>): string {
  return (owners.get(backend) ?? []).length > 1 ? `${connection}/${backend}` : backend;
}

/** Parses and checks a key file; `file` names it in errors (which name fields, never values). */
export function parseKeyFile(text: string, file: string): KeyFile {
  const r = keyFileSchema.safeParse(readYamlText(text, file, 0));
  if (!r.success) {
    throw new ConfigError('config_invalid', file, r.error.issues.map((i) => ({
      path: formatPath(i.path),
      message: i.code === 'unrecognized_keys' ? `unknown field(s) ${i.keys.join(', ')}` : i.message,
    })));
  }
  return r.data as KeyFile;
}

/** A key file as the registry's `keys` section. */
export function keysSection(keys: KeyFile): KeysSection {
  const owners = new Map<string, string[]>();
  for (const [conn, backends] of Object.entries(keys.connections)) {
    for (const b of Object.keys(backends)) owners.set(b, [...(owners.get(b) ?? []), conn]);
  }
  const out: KeysSection = { hash_key: keys.hash_key, cookie_key: keys.cookie_key, state_keys: {}, pin_api_tokens: {} };
  for (const [conn, backends] of Object.entries(keys.connections)) {
    for (const [b, cred] of Object.entries(backends)) {
      const name = credentialName(conn, b, owners);
      if (cred.state_key !== undefined) out.state_keys[name] = cred.state_key;
      if (cred.pin_api_token !== undefined) out.pin_api_tokens[name] = cred.pin_api_token;
    }
  }
  return out;
}

/**
 * The connections and backend ids of a registry, read from its YAML without resolving its secrets (its
 * key file may not exist yet). Throws ConfigError naming the field when the shape is not a registry's.
 */
export function credentialOwners(text: string, file: string): { owners: CredentialOwner[]; keysRef: string | null } {
  const shape = z.looseObject({
    connections: z.array(z.looseObject({ name: id, backends: z.array(z.looseObject({ id })).min(1) })).min(1),
    keys: z.unknown().optional(),
  });
  const r = shape.safeParse(readYamlText(text, file, 50));
  if (!r.success) throw new ConfigError('config_invalid', file, r.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })));
  const keys = r.data.keys;
  return {
    owners: r.data.connections.map((c) => ({ connection: c.name, backends: c.backends.map((b) => b.id) })),
    keysRef: typeof keys === 'string' && keys.startsWith('file:') ? keys.slice('file:'.length) : null,
  };
}
