// Shared helpers for the threat-model tests (docs/threat-model.md) (test/policies/threats*.test.ts): assertions on pipeline
// results and builders for real SAML responses, Standard Webhooks signatures and bearer calls.
import { createHmac } from 'node:crypto';
import { createPin } from '../../ext-authz/src/pipeline/pins/mint';
import type { PipelineResult } from '../../ext-authz/src/model/decision';
import type { RequestView } from '../../ext-authz/src/model/request';
import { oauthCallback, view } from '../support/demo-harness';
import type { Demo } from '../support/demo-harness';

export const MIN = 60_000;
export const ROUTES = {
  oauth_callback: ['/oauth2/callback'], saml_acs: ['/saml/acs'], login_start: ['/login'], webhook: ['/webhooks/idp'],
  logout: ['/backchannel-logout'], agent: ['/agent/callback'],
};
export const BCL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

export function expectDeny(r: PipelineResult, reason: string): void {
  expect({ action: r.decision.action, reason: r.decision.reasons[0] }).toEqual({ action: 'deny', reason });
  expect(r.decision.backend).toBeNull();
}

export function expectRoute(r: PipelineResult, action: 'allow' | 'rewrite', backend: string, reason?: string): void {
  expect({ action: r.decision.action, backend: r.decision.backend }).toEqual({ action, backend });
  if (reason) expect(r.decision.reasons).toContain(reason);
}

export const cb = (demo: Demo, params: [string, string][], extra: Partial<RequestView> = {}): Promise<PipelineResult> =>
  demo.decide(oauthCallback(params, extra));

export const samlXml = (issuer: string, inResponseTo: string | null): string =>
  Buffer.from(
    `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r1" Version="2.0"` +
      `${inResponseTo ? ` InResponseTo="${inResponseTo}"` : ''} Destination="https://auth.example.com/saml/acs">` +
      `<saml:Issuer>${issuer}</saml:Issuer><saml:Assertion ID="_a1"><saml:Issuer>${issuer}</saml:Issuer></saml:Assertion></samlp:Response>`,
  ).toString('base64');

/** A store pin for a RelayState handle (SAML flows are pinned through the store). */
export async function relayPin(demo: Demo, backend: 'legacy' | 'new', relay: string): Promise<void> {
  await createPin('demo', backend, relay, 'form_post', demo.deps, demo.clock.now, 'relay');
}

/** Standard Webhooks signature (v1, HMAC-SHA256 over `id.timestamp.body`). */
export function standardWebhook(secret: string, id: string, tsS: number, body: string, extraHeaders: Record<string, string> = {}): RequestView {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const sig = createHmac('sha256', key).update(`${id}.${tsS}.${body}`).digest('base64');
  return view('/webhooks/idp', {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(tsS), 'webhook-signature': `v1,${sig}`, ...extraHeaders },
  });
}

export const agentCall = (jwt: string, extra: Record<string, string> = {}): RequestView =>
  view('/agent/callback', { method: 'POST', headers: { authorization: `Bearer ${jwt}`, ...extra } });

export const b64url = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
