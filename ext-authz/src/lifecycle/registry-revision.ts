// The registry revision recorded in audit records (docs/stages.md, "The audit trail"): a digest of the
// registry as loaded, with every secret replaced by its name, computed once per loaded registry.
import { createHash } from 'node:crypto';
import type { RegistryConfig } from '../model/registry';
import { canonicalJson } from './audit-chain';

const revisions = new WeakMap<RegistryConfig, string>();

/** A digest of the registry without its secrets (names of keys only), for audit records. */
export function registryRevision(reg: RegistryConfig): string {
  let r = revisions.get(reg);
  if (r === undefined) {
    const keys = {
      hash_key: 'set', cookie_key: 'set', state_keys: Object.keys(reg.keys.state_keys), pin_api_tokens: Object.keys(reg.keys.pin_api_tokens),
      admin_tokens: (reg.keys.admin_tokens ?? []).map((t) => `${t.name}:${t.role}`),
    };
    const connections = reg.connections.map((c) => ({ ...c, webhook: c.webhook ? { ...c.webhook, secrets: c.webhook.secrets.map((s) => s.id) } : undefined }));
    r = createHash('sha256').update(canonicalJson({ ...reg, keys, connections })).digest('hex').slice(0, 16);
    revisions.set(reg, r);
  }
  return r;
}

