// The zod schema of the OPA configuration subset (opa-config.ts builds the typed config from it).
// Objects are strict so that every key we do not implement surfaces; opa-config.ts turns those into
// warnings and validates the rest. Field names are OPA's own (snake_case; the Envoy plugin's kebab-case).
import { z } from 'zod';

export const SIGNING_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'HS256', 'HS384', 'HS512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512'];
export const DEFAULT_POLLING = { min: 60, max: 120 } as const;
export const DEFAULT_DECISION_LOG_REPORTING = {
  bufferSizeLimitEvents: 10_000,
  uploadSizeLimitBytes: 32_768,
  minDelaySeconds: 300,
  maxDelaySeconds: 600,
} as const;
export const DEFAULT_ENVOY_PLUGIN = { addr: ':9191', path: 'envoy/authz/allow' } as const;

const seconds = z.number().int('expected whole seconds').min(0, 'must be >= 0');
const positive = z.number().int('expected an integer').min(1, 'must be >= 1');
const headerMap = z.record(z.string(), z.string());
const httpUrl = z.string().regex(/^https?:\/\/[^\s]+$/, 'expected an http:// or https:// URL');

const credentials = z.strictObject({
  bearer: z
    .strictObject({ token: z.string().optional(), token_path: z.string().min(1).optional(), scheme: z.string().min(1).optional() })
    .refine((b) => (b.token !== undefined) !== (b.token_path !== undefined), 'give exactly one of token and token_path')
    .optional(),
  client_tls: z
    .strictObject({ cert: z.string().min(1), private_key: z.string().min(1), private_key_passphrase: z.string().optional() })
    .optional(),
  oauth2: z
    .strictObject({
      token_url: z.string().regex(/^https:\/\/[^\s]+$/, 'the token endpoint must be an https:// URL (RFC 6749 §3.2)'),
      grant_type: z.literal('client_credentials', { message: 'only the client_credentials grant is supported' }).optional(),
      client_id: z.string().min(1),
      client_secret: z.string().min(1),
      scopes: z.array(z.string()).optional(),
      additional_headers: headerMap.optional(),
      additional_parameters: headerMap.optional(),
    })
    .optional(),
}).refine((c) => [c.bearer, c.oauth2].filter((x) => x !== undefined).length <= 1, 'bearer and oauth2 cannot both be used');

const service = z.strictObject({
  name: z.string().optional(),
  url: httpUrl,
  headers: headerMap.optional(),
  response_header_timeout_seconds: seconds.optional(),
  tls: z.strictObject({ ca_cert: z.string().min(1).optional(), system_ca_required: z.boolean().optional() }).optional(),
  allow_insecure_tls: z.boolean().optional(),
  credentials: credentials.optional(),
});

const key = z
  .strictObject({ key: z.string().min(1).optional(), private_key: z.string().min(1).optional(), algorithm: z.string().optional(), scope: z.string().optional() })
  .refine((k) => k.key !== undefined || k.private_key !== undefined, 'give key (or private_key)');

const polling = z.strictObject({
  min_delay_seconds: seconds.optional(),
  max_delay_seconds: seconds.optional(),
  long_polling_timeout_seconds: positive.optional(),
});

const bundle = z.strictObject({
  service: z.string().min(1).optional(),
  resource: z.string().min(1).optional(),
  polling: polling.optional(),
  signing: z.strictObject({ keyid: z.string().min(1).optional(), scope: z.string().optional(), exclude_files: z.array(z.string()).optional() }).optional(),
  persist: z.boolean().optional(),
  size_limit_bytes: positive.optional(),
  trigger: z.literal('periodic', { message: 'only the periodic trigger is supported' }).optional(),
});

const decisionLogs = z.strictObject({
  console: z.boolean().optional(),
  service: z.string().min(1).optional(),
  resource: z.string().min(1).optional(),
  mask_decision: z.string().min(1).optional(),
  drop_decision: z.string().min(1).optional(),
  reporting: z
    .strictObject({
      buffer_type: z.enum(['size', 'event'], { message: 'expected size or event' }).optional(),
      buffer_size_limit_bytes: positive.optional(),
      buffer_size_limit_events: positive.optional(),
      max_decisions_per_second: z.number().positive().optional(),
      upload_size_limit_bytes: positive.optional(),
      min_delay_seconds: seconds.optional(),
      max_delay_seconds: seconds.optional(),
      trigger: z.literal('periodic', { message: 'only the periodic trigger is supported' }).optional(),
    })
    .optional(),
});

const envoyPlugin = z.strictObject({
  addr: z.string().min(1).optional(),
  path: z.string().min(1).optional(),
  query: z.string().optional(),
  'dry-run': z.boolean().optional(),
  'enable-reflection': z.boolean().optional(),
  'skip-request-body-parse': z.boolean().optional(),
  'grpc-max-recv-msg-size': positive.optional(),
  'grpc-max-send-msg-size': positive.optional(),
});

export const opaConfigSchema = z.strictObject({
  services: z.record(z.string(), service).optional(),
  bundles: z.record(z.string(), bundle).optional(),
  keys: z.record(z.string(), key).optional(),
  decision_logs: decisionLogs.optional(),
  labels: z.record(z.string(), z.string()).optional(),
  default_decision: z.string().min(1).optional(),
  plugins: z.strictObject({ envoy_ext_authz_grpc: envoyPlugin.optional() }).optional(),
});

export type RawOpaConfig = z.infer<typeof opaConfigSchema>;
