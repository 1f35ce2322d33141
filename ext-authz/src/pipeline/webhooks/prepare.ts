// Webhook phase, prepared at load: secrets decoded to key bytes, source CIDRs compiled into a
// node:net BlockList (docs/threat-model.md §11, T-H6). Secrets stay in memory only, never in messages.
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { WebhookConfig } from '../../model/registry';

export interface PreparedSecret {
  id: string;
  key: Buffer;
  retireAt: number | null;
  tenant: string | null;
}

export interface PreparedWebhook {
  scheme: 'standard' | 'github';
  secrets: PreparedSecret[];
  toleranceMs: number;
  /** null = no source restriction */
  sources: BlockList | null;
}

/** Standard Webhooks secrets are `whsec_` + base64 of the key bytes; others are used as UTF-8. */
export function secretKey(scheme: WebhookConfig['scheme'], secret: string): Buffer {
  if (scheme === 'standard' && secret.startsWith('whsec_')) return Buffer.from(secret.slice(6), 'base64');
  return Buffer.from(secret, 'utf8');
}

export function prepareWebhook(cfg: WebhookConfig): PreparedWebhook {
  let sources: BlockList | null = null;
  if (cfg.source_cidrs && cfg.source_cidrs.length > 0) {
    sources = new BlockList();
    for (const cidr of cfg.source_cidrs) {
      const [addr, bits] = cidr.split('/');
      const type = isIPv4(addr) ? 'ipv4' : 'ipv6';
      const prefix = bits === undefined ? (type === 'ipv4' ? 32 : 128) : Number(bits);
      sources.addSubnet(addr, prefix, type);
    }
  }
  return {
    scheme: cfg.scheme,
    secrets: cfg.secrets.map((s) => ({ id: s.id, key: secretKey(cfg.scheme, s.secret), retireAt: s.retire_at ?? null, tenant: s.tenant ?? null })),
    toleranceMs: cfg.tolerance_s * 1000,
    sources,
  };
}

/** Source address check against Envoy's peer address only — never X-Forwarded-For (T-H6). */
export function sourceAllowed(list: BlockList | null, ip: string | undefined): boolean {
  if (list === null) return true;
  if (!ip) return false;
  let addr = ip;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(addr);
  if (mapped) addr = mapped[1];
  if (isIPv4(addr)) return list.check(addr, 'ipv4');
  if (isIPv6(addr)) return list.check(addr, 'ipv6');
  return false;
}
