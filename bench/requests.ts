// Realistic CheckRequests for the benchmark (~2 KB, the headers a browser sends on an OAuth callback)
// and the Pin API minting that gives each allowed request its own one-time state.
import * as grpc from '@grpc/grpc-js';
import { distDefault } from './dist';

const ISS = { legacy: 'https://legacy-idp.example.com', new: 'https://new-idp.example.com' } as const;

const BROWSER_HEADERS: Record<string, string> = {
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8',
  'accept-language': 'en-GB,en;q=0.9,de;q=0.8',
  'accept-encoding': 'gzip, deflate, br, zstd',
  referer: 'https://legacy-idp.example.com/u/login?state=hKFo2SBsY3ZfYkxXc0pOZkNqV2ZkNmVFUHJ6SFhtbWRpYURfcqFur3VuaXZlcnNhbC1sb2dpbqN0aWTZIA',
  'sec-ch-ua': '"Chromium";v="131", "Not_A Brand";v="24"',
  'sec-ch-ua-mobile': '?0',
  'sec-ch-ua-platform': '"Linux"',
  'sec-fetch-dest': 'document',
  'sec-fetch-mode': 'navigate',
  'sec-fetch-site': 'cross-site',
  'upgrade-insecure-requests': '1',
  cookie: `_ga=GA1.1.${'1'.repeat(20)}; _gid=GA1.1.${'2'.repeat(18)}; session=${'s'.repeat(300)}; consent=${'c'.repeat(120)}`,
  'x-forwarded-proto': 'https',
  'x-envoy-external-address': '198.51.100.23',
};

let seq = 0;

/** `at` names another connection's host and the issuer of the pinned backend (bench/scale.ts). */
export function callbackRequest(state: string, backend: 'legacy' | 'new' | null, at?: { host: string; iss: string }): Record<string, unknown> {
  seq++;
  const iss = at ? at.iss : backend ? ISS[backend] : ISS.legacy;
  const host = at ? at.host : 'auth.example.com';
  const code = `bench-${process.pid}-${seq}-${'x'.repeat(40)}`;
  const path = `/oauth2/callback?code=${code}&state=${encodeURIComponent(state)}&iss=${encodeURIComponent(iss)}&session_state=${'q'.repeat(40)}`;
  // A sampled W3C trace context, as Envoy adds when it traces (ignored unless the server traces).
  const traceparent = `00-${String(process.pid).padStart(8, '0')}${String(seq).padStart(24, '0')}-${String(seq).padStart(16, '0')}-01`;
  const headers = { ':authority': host, ':method': 'GET', ':path': path, ':scheme': 'https', ...BROWSER_HEADERS, 'x-request-id': `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`, traceparent };
  return {
    attributes: {
      source: { address: { socketAddress: { address: '198.51.100.23', portValue: 51234 } } },
      destination: { address: { socketAddress: { address: '10.0.0.10', portValue: 443 } }, principal: '' },
      request: {
        time: { seconds: String(Math.floor(Date.now() / 1000)), nanos: 1000 },
        http: { id: String(seq), method: 'GET', headers, path, host, scheme: 'https', protocol: 'HTTP/2' },
      },
      metadataContext: {},
    },
  };
}

export function mintPool(client: any, n: number, backend: 'legacy' | 'new'): Promise<string[]> {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${distDefault().DEMO_PIN_API_TOKEN}`);
  const out: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      out.push(
        await new Promise<string>((resolve, reject) =>
          client.MintState({ connection: 'demo', backend }, md, (e: Error | null, v: { state: string }) => (e ? reject(e) : resolve(v.state))),
        ),
      );
    }
  };
  return Promise.all(Array.from({ length: 32 }, worker)).then(() => out);
}
