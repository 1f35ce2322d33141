// One entry for checking an Envoy config file: YAML parse -> schema check against
// envoy.config.bootstrap.v3.Bootstrap -> our lint rules. Used by `callback-proxy envoy lint` and tests.
import fs from 'node:fs';
import YAML from 'yaml';
import { lintEnvoyConfig, type LintFinding, type LintOptions } from './lint';
import { EnvoyProtoRoot } from './proto-root';
import { checkMessage, type SchemaFinding } from './schema-check';

export interface EnvoyCheckReport {
  file: string;
  schema: SchemaFinding[];
  lint: LintFinding[];
  /** YAML syntax error, if the file did not parse. */
  parseError?: string;
}

let sharedRoot: EnvoyProtoRoot | undefined;
function protoRoot(): EnvoyProtoRoot {
  sharedRoot ??= new EnvoyProtoRoot();
  return sharedRoot;
}

export function checkEnvoyText(text: string, file: string, opts: LintOptions = {}): EnvoyCheckReport {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    return { file, schema: [], lint: [], parseError: (e as Error).message.split('\n')[0] };
  }
  return {
    file,
    schema: checkMessage(protoRoot(), 'envoy.config.bootstrap.v3.Bootstrap', doc),
    lint: lintEnvoyConfig(doc, opts),
  };
}

export function checkEnvoyFile(file: string, opts: LintOptions = {}): EnvoyCheckReport {
  return checkEnvoyText(fs.readFileSync(file, 'utf8'), file, opts);
}

export function reportOk(r: EnvoyCheckReport): boolean {
  return !r.parseError && r.schema.length === 0 && r.lint.length === 0;
}

/** Human-readable lines, one per finding: `file: path: [code] message`. */
export function formatReport(r: EnvoyCheckReport): string[] {
  if (r.parseError) return [`${r.file}: yaml: ${r.parseError}`];
  return [
    ...r.schema.map((f) => `${r.file}: ${f.path || '(root)'}: [schema/${f.code}] ${f.message}`),
    ...r.lint.map((f) => `${r.file}: ${f.path}: [lint/${f.code}] ${f.message}`),
  ];
}
