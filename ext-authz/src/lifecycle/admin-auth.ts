// Admin API authentication (docs/stages.md, "Who may change a stage"): bearer tokens from
// keys.admin_tokens, compared in constant time (digest against digest, every token every time, so
// neither the length nor the position of a match shows in the timing). Tokens are never logged: the
// audit trail records the token's name.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AdminRole, AdminTokenConfig } from '../model/registry';

export interface Principal {
  /** The token's name (the actor in audit records). */
  name: string;
  role: AdminRole;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** The principal a presented token belongs to, or null. */
export function principalForToken(tokens: readonly AdminTokenConfig[], presented: string): Principal | null {
  const d = digest(presented);
  let found: Principal | null = null;
  for (const t of tokens) {
    if (timingSafeEqual(d, digest(t.token)) && found === null) found = { name: t.name, role: t.role };
  }
  return found;
}

/** Reads `Authorization: Bearer <token>`; null when absent or malformed. */
export function bearerToken(authorization: string | undefined): string | null {
  if (!authorization) return null;
  const m = /^Bearer ([\x21-\x7e]{1,512})$/i.exec(authorization.trim());
  return m ? m[1] : null;
}

/** The principal of a name that still holds `role` (a session stays valid only while its token does). */
export function principalByName(tokens: readonly AdminTokenConfig[], name: string): Principal | null {
  const t = tokens.find((x) => x.name === name);
  return t ? { name: t.name, role: t.role } : null;
}
