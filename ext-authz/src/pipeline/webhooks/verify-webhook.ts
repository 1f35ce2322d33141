// Webhook verification (docs/threat-model.md §11): Standard Webhooks (id.timestamp.body HMAC-SHA256, several
// `v1,` signatures, 300 s tolerance) and GitHub (`X-Hub-Signature-256`), over the raw body bytes.
import { createHmac } from 'node:crypto';
import type { ReasonCode } from '../../model/reasons';
import type { RequestView } from '../../model/request';
import type { WebhookFacts } from '../../model/facts';
import { keyedHash, macEqual } from '../facts/keyed-hash';
import { decodeBase64, decodeHex, isRespelling } from '../encoding/strict-codecs';
import { sourceAllowed } from './prepare';
import type { PreparedSecret, PreparedWebhook } from './prepare';

export interface WebhookContext {
  hashKey: Buffer;
  nowMs: number;
}

/** GitHub deliveries carry no timestamp: remember ids for a day. */
const GITHUB_REPLAY_TTL_MS = 24 * 3600_000;

/**
 * How long a verified delivery's id must stay remembered: a Standard Webhooks message is accepted
 * within ±tolerance of its timestamp, so 2 × tolerance covers its whole window. The id (`id_hash`) is a
 * one-time marker the webhook phase peeks and the commit phase writes; verification itself never writes.
 */
export function webhookReplayTtlMs(hook: PreparedWebhook): number {
  return hook.scheme === 'standard' ? hook.toleranceMs * 2 : GITHUB_REPLAY_TTL_MS;
}

function result(scheme: PreparedWebhook['scheme'], error: ReasonCode | null, secret: PreparedSecret | null, idHash: string | null): WebhookFacts {
  return { verified: error === null, scheme, secret_id: secret?.id ?? null, tenant: secret?.tenant ?? null, id_hash: idHash, error };
}

/**
 * Finds the secret that verifies. Active secrets win; a match only under a retired secret is
 * reported as secret_retired (T-W5), so rotation keeps working while any active key signs.
 */
function findSecret(secrets: PreparedSecret[], nowMs: number, matches: (key: Buffer) => boolean): PreparedSecret | 'secret_retired' | null {
  let retired = false;
  for (const s of secrets) {
    const active = s.retireAt === null || nowMs < s.retireAt;
    if (!active && retired) continue;
    if (matches(s.key)) {
      if (active) return s;
      retired = true;
    }
  }
  return retired ? 'secret_retired' : null;
}

export async function verifyWebhook(req: RequestView, hook: PreparedWebhook, ctx: WebhookContext): Promise<WebhookFacts> {
  if (!sourceAllowed(hook.sources, req.sourceIp)) return result(hook.scheme, 'source_ip_denied', null, null);
  const body = req.rawBody ? Buffer.from(req.rawBody.buffer, req.rawBody.byteOffset, req.rawBody.byteLength) : Buffer.from(req.body ?? '', 'utf8');
  return hook.scheme === 'standard' ? verifyStandard(req, body, hook, ctx) : verifyGithub(req, body, hook, ctx);
}

async function verifyStandard(req: RequestView, body: Buffer, hook: PreparedWebhook, ctx: WebhookContext): Promise<WebhookFacts> {
  const id = req.headers['webhook-id'];
  const ts = req.headers['webhook-timestamp'];
  const sigHeader = req.headers['webhook-signature'];
  if (!id || !ts || !sigHeader) return result('standard', 'bad_signature', null, null);
  // A `.` in the id would move the boundary of `id.timestamp.body` (T-W4).
  if (id.length > 256 || !/^[\x21-\x7e]+$/.test(id) || id.includes('.')) return result('standard', 'bad_webhook_id', null, null);
  const idHash = keyedHash(ctx.hashKey, 'webhook', `standard\0${id}`);
  if (!/^\d{1,12}$/.test(ts)) return result('standard', 'webhook_stale', null, idHash);
  const tsMs = Number(ts) * 1000;
  if (Math.abs(ctx.nowMs - tsMs) > hook.toleranceMs) return result('standard', 'webhook_stale', null, idHash);
  // Space-delimited `v<n>,<signature>` entries; only v1 (HMAC-SHA256, base64) is ours. A v1 signature
  // must be the one base64 spelling of its 32 bytes: a re-spelt one is refused outright (T-W3).
  const given: Buffer[] = [];
  for (const part of sigHeader.split(' ')) {
    const comma = part.indexOf(',');
    if (comma < 0 || part.slice(0, comma) !== 'v1') continue;
    const d = decodeBase64(part.slice(comma + 1), { bytes: 32, maxChars: 64 });
    if (d.ok) given.push(d.bytes);
    else if (isRespelling(d.problem)) return result('standard', 'non_canonical_encoding', null, idHash);
  }
  const prefix = Buffer.from(`${id}.${ts}.`, 'utf8');
  const found = findSecret(hook.secrets, ctx.nowMs, (key) => {
    const mac = createHmac('sha256', key).update(prefix).update(body).digest();
    return given.some((g) => macEqual(mac, g));
  });
  if (found === null) return result('standard', 'bad_signature', null, idHash);
  if (found === 'secret_retired') return result('standard', 'secret_retired', null, idHash);
  const tenantErr = tenantCheck(req, found);
  if (tenantErr) return result('standard', tenantErr, found, idHash);
  return result('standard', null, found, idHash);
}

async function verifyGithub(req: RequestView, body: Buffer, hook: PreparedWebhook, ctx: WebhookContext): Promise<WebhookFacts> {
  const sig = req.headers['x-hub-signature-256'];
  const delivery = req.headers['x-github-delivery'];
  if (!sig || !sig.startsWith('sha256=')) return result('github', 'bad_signature', null, null);
  // Lower-case hex, as GitHub sends it: an upper-case twin is the same MAC spelt differently.
  const hex = decodeHex(sig.slice(7), { bytes: 32, maxChars: 64 });
  if (!hex.ok) return result('github', isRespelling(hex.problem) ? 'non_canonical_encoding' : 'bad_signature', null, null);
  if (!delivery || delivery.length > 256 || !/^[\x21-\x7e]+$/.test(delivery)) return result('github', 'bad_webhook_id', null, null);
  const idHash = keyedHash(ctx.hashKey, 'webhook', `github\0${delivery}`);
  const given = hex.bytes;
  const found = findSecret(hook.secrets, ctx.nowMs, (key) => macEqual(createHmac('sha256', key).update(body).digest(), given));
  if (found === null) return result('github', 'bad_signature', null, idHash);
  if (found === 'secret_retired') return result('github', 'secret_retired', null, idHash);
  const tenantErr = tenantCheck(req, found);
  if (tenantErr) return result('github', tenantErr, found, idHash);
  return result('github', null, found, idHash);
}

/** The tenant comes from the verifying key only; a disagreeing header is an attack (T-T4). */
function tenantCheck(req: RequestView, secret: PreparedSecret): ReasonCode | null {
  const claimed = req.headers['x-tenant'];
  if (claimed === undefined) return null;
  return secret.tenant !== null && claimed === secret.tenant ? null : 'tenant_mismatch';
}
