// Runs one mock identity backend (docker-compose's legacy-idp / new-idp, or by hand):
//   node -r ./scripts/ts-register.cjs demo/idp/main.ts --name legacy --port 8081 --issuer https://legacy-idp.example.com
import { parseArgs } from 'node:util';
import { startBackend } from './backend';

const HELP = `usage: node -r ./scripts/ts-register.cjs demo/idp/main.ts --name <legacy|new> --port <n> --issuer <url> [--external-base <url>]

A small OAuth 2.0 / OIDC authorization server + client with a SAML POST path, for demos and tests.
  --name           backend id (also the X-Served-By header)
  --port           port to listen on
  --host           address to listen on (default 127.0.0.1; 0.0.0.0 in a container)
  --issuer         exact issuer identifier (RFC 9207 iss, id_token iss)
  --external-base  the stable callback base URL browsers use (default http://auth.example.com:8080)`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      name: { type: 'string' },
      port: { type: 'string' },
      issuer: { type: 'string' },
      'external-base': { type: 'string', default: 'http://auth.example.com:8080' },
      host: { type: 'string', default: '127.0.0.1' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || !values.name || !values.port || !values.issuer) {
    process.stdout.write(HELP + '\n');
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const b = await startBackend({ name: values.name, issuer: values.issuer, port: Number(values.port), host: values.host, externalBase: values['external-base']! });
  process.stdout.write(`mock backend ${b.name} (${values.issuer}) on ${b.url}\n`);
}

void main();
