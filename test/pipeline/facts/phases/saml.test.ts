// Fact provider `saml`: the one SAMLResponse of a SAML POST read strictly; a refusal is a violation and
// makes the request unclean.
import { newFactsContext, runPhases } from '../../../../ext-authz/src/pipeline/facts/gather';
import { requestPhase } from '../../../../ext-authz/src/pipeline/facts/phases/request';
import { samlPhase } from '../../../../ext-authz/src/pipeline/facts/phases/saml';
import { fixture, ISS_N, NOW, post } from '../fixtures';

const P = 'urn:oasis:names:tc:SAML:2.0:protocol';
const A = 'urn:oasis:names:tc:SAML:2.0:assertion';
const body = (inner: string): string =>
  `SAMLResponse=${encodeURIComponent(Buffer.from(`<p:Response xmlns:p="${P}" xmlns:a="${A}" InResponseTo="_q">${inner}</p:Response>`).toString('base64'))}&RelayState=r1`;

describe('saml phase', () => {
  it('reads the facts of a clean response', async () => {
    const ctx = await runPhases(newFactsContext(post('/saml/acs', body(`<a:Issuer>${ISS_N}</a:Issuer>`)), fixture().deps, NOW), [requestPhase, samlPhase]);
    expect(ctx.callback.saml).toEqual({ issuer: ISS_N, in_response_to: '_q', destination: null });
    expect(ctx.clean).toBe(true);
  });

  it('an ambiguous response is a violation and stops the later providers', async () => {
    const two = `<a:Assertion><a:Issuer>${ISS_N}</a:Issuer></a:Assertion><a:Assertion><a:Issuer>x</a:Issuer></a:Assertion>`;
    const ctx = await runPhases(newFactsContext(post('/saml/acs', body(two)), fixture().deps, NOW), [requestPhase, samlPhase]);
    expect(ctx.violations).toEqual(['saml_multiple_assertions']);
    expect(ctx.clean).toBe(false);
  });

  it('does not apply to other routes', () => {
    const ctx = newFactsContext(post('/oauth2/callback', 'code=c'), fixture().deps, NOW);
    expect(samlPhase.applies(ctx)).toBe(false);
  });
});
