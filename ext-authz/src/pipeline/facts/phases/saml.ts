// Fact provider `saml` (SAML 2.0 Bindings §3.5): on a SAML POST, the one SAMLResponse value is read
// strictly (facts/saml.ts) and its refusals become violations. Read, never trusted for routing alone.
import { addViolation } from '../context';
import type { FactsContext, FactsPhase } from '../context';
import { readSamlResponse } from '../saml';

function run(ctx: FactsContext): void {
  const raw = ctx.form?.values.get('SAMLResponse');
  if (!raw || raw.length !== 1) return;
  const saml = readSamlResponse(raw[0], ctx.deps.limits.max_body_bytes);
  if (saml.ok) ctx.callback.saml = saml.facts;
  else addViolation(ctx, saml.reason);
  if (ctx.violations.length > 0) ctx.clean = false;
}

export const samlPhase: FactsPhase = {
  name: 'saml',
  applies: (ctx) => ctx.callback.kind === 'saml_post',
  run,
};
