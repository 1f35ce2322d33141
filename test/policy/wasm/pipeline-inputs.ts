// Policy inputs as the real pipeline builds them: the demo connection (real keys, stores, facts) is sent
// a spread of requests — login starts, OAuth query and form_post callbacks pinned to either backend,
// SAML posts, logout and agent tokens, webhooks, replays and malformed ones — at every stage, and the
// input of each decision is kept. The differential test mutates these.
import { randomUUID } from 'node:crypto';
import type { ConnectionConfig } from '../../../ext-authz/src/model/registry';
import type { RequestView } from '../../../ext-authz/src/model/request';
import { demoJwt, formPost, freshCode, LEGACY_ISS, makeDemo, NEW_ISS, oauthCallback, view } from '../../support/demo-harness';
import { agentCall, BCL_EVENT, relayPin, ROUTES, samlXml, standardWebhook } from '../../policies/threat-helpers';

const STAGES: ConnectionConfig['stage'][] = ['observe', 'shadow', 'canary', 'cutover', 'rollback', 'retired', 'decommissioned'];

/** JSON-clean copies of the inputs the pipeline gave the policy for a spread of real requests. */
export async function pipelineInputs(): Promise<unknown[]> {
  const demo = makeDemo({ routes: ROUTES });
  const day = 24 * 3600 * 1000;
  const send = async (v: RequestView): Promise<void> => {
    await demo.decide(v);
  };
  const issOf = (b: 'legacy' | 'new'): string => (b === 'legacy' ? LEGACY_ISS : NEW_ISS);

  for (const stage of STAGES) {
    const drained = stage === 'cutover' || stage === 'rollback';
    demo.setConnection({
      stage,
      drain_until: drained ? demo.clock.now - day : undefined,
      sunset_at: stage === 'decommissioned' ? demo.clock.now - day : undefined,
      require_pin: stage !== 'shadow',
    });
    await send(view('/login?client_id=demo-client&returnTo=%2Fhome'));
    await send(view('/login?client_id=demo-client&idp=legacy', { headers: { 'user-agent': 'jest', 'x-idp': 'legacy', 'x-forwarded-host': 'evil.example' } }));
    for (const b of ['legacy', 'new'] as const) {
      await send(oauthCallback([['code', freshCode()], ['state', await demo.mint(b)], ['iss', issOf(b)]]));
      await send(formPost('/oauth2/callback', [['code', freshCode()], ['state', await demo.mint(b, 'form_post')], ['iss', issOf(b)]]));
      const relay = `relay-${randomUUID()}`;
      await relayPin(demo, b, relay);
      await send(formPost('/saml/acs', [['SAMLResponse', samlXml(issOf(b), '_req1')], ['RelayState', relay]]));
      const jwt = await demoJwt(demo.setup, b, { sub: 'u1', sid: 's1', jti: randomUUID(), events: { [BCL_EVENT]: {} } }, { typ: 'logout+jwt' }, demo.clock.now);
      await send(formPost('/backchannel-logout', [['logout_token', jwt]]));
      await send(agentCall(await demoJwt(demo.setup, b, { sub: 'agent-1', jti: randomUUID() }, {}, demo.clock.now)));
    }
  }

  demo.setConnection({ stage: 'canary', drain_until: undefined, sunset_at: undefined, require_pin: true });
  // Wrong or missing parts: each reaches the policy with facts saying so.
  await send(oauthCallback([['code', freshCode()], ['state', await demo.mint('new')]])); // iss stripped
  await send(oauthCallback([['code', freshCode()], ['state', await demo.mint('legacy')], ['iss', NEW_ISS]])); // iss of the other backend
  await send(oauthCallback([['code', freshCode()], ['state', await demo.mint('new')], ['iss', 'https://evil.example.com']]));
  await send(oauthCallback([['code', freshCode()], ['state', await demo.mint('new')], ['iss', `${NEW_ISS}/`]])); // lookalike
  await send(oauthCallback([['code', freshCode()], ['state', 'not-a-minted-state'], ['iss', NEW_ISS]]));
  await send(oauthCallback([['code', freshCode()], ['iss', NEW_ISS]])); // no state
  await send(oauthCallback([['error', 'access_denied'], ['state', await demo.mint('legacy')], ['iss', LEGACY_ISS]]));
  await send(oauthCallback([['code', 'a'], ['code', 'b'], ['state', await demo.mint('new')]])); // duplicate parameter
  const state = await demo.mint('new');
  const code = freshCode();
  await send(oauthCallback([['code', code], ['state', state], ['iss', NEW_ISS]]));
  await send(oauthCallback([['code', freshCode()], ['state', state], ['iss', NEW_ISS]])); // state replayed
  await send(oauthCallback([['code', code], ['state', await demo.mint('new')], ['iss', NEW_ISS]])); // code replayed
  await send(formPost('/saml/acs', [['SAMLResponse', samlXml(NEW_ISS, null)]])); // IdP-initiated
  await send(formPost('/saml/acs', [['SAMLResponse', 'not base64 xml'], ['RelayState', 'r']]));
  await send(agentCall('not.a.jwt'));
  await send(view('/agent/callback', { method: 'POST' })); // no token
  const body = JSON.stringify({ type: 'user.created', data: { id: 'u1' } });
  await send(standardWebhook(demo.setup.webhookSecret, `msg_${randomUUID()}`, Math.floor(demo.clock.now / 1000), body));
  await send(standardWebhook('whsec_' + Buffer.from('wrong').toString('base64'), `msg_${randomUUID()}`, Math.floor(demo.clock.now / 1000), body));

  const inputs = demo.events.map((e) => e.input).filter((i) => i !== null);
  return inputs.map((i) => JSON.parse(JSON.stringify(i)) as unknown);
}
