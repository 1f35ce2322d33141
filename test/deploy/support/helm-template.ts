// `helm template` for our own chart, for tests on machines without helm (no npm package ships a helm
// binary). It implements the subset of Go text/template + Sprig/Helm functions that
// deploy/helm/callback-proxy uses, and refuses anything else, so a template it accepts means the same
// thing to helm:
//   * actions {{ }}, trim markers {{- -}}, comments {{/* */}}; if / else if / else, range (lists and
//     maps in key order, with $k, $v :=), with, define, variables := and =, parenthesised pipelines;
//   * Go's typing where it changes results: values from YAML are float64 and template literals are int,
//     so comparing them without `int` is an error (as in helm); printing a float uses Go's %v (1e+06);
//     field access on a missing map key yields nil and on nil is an error;
//   * functions: include, toYaml, toJson, nindent, indent, quote, default, required, fail, printf (%s %d
//     %v %q), eq, ne, lt, le, gt, ge, and, or (short-circuit), not, empty, trunc, trimSuffix, contains,
//     replace, int, toString, list, append, join, dict, hasKey, len.
// Helm's value handling is reproduced: chart values deep-merged with the given ones (null deletes a key),
// then validated against values.schema.json (draft-07, with ajv) before rendering.
// Stricter than helm on purpose: printing nil or a map is an error (helm prints "<no value>"/map[…]).
// Parsing is in go-template-parse.ts, execution and the functions in go-template-exec.ts.
import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import YAML from 'yaml';
import { ChartError, isMap, Renderer, Scope, type Map_ } from './go-template-exec';
import { parseTemplate, type Node } from './go-template-parse';

export { ChartError };

// ---- chart ------------------------------------------------------------------------------------------
export interface RenderOptions {
  values?: Map_;
  releaseName?: string;
  namespace?: string;
}

export interface RenderedFile {
  template: string;
  text: string;
}

/** Helm's value coalescing: maps merge recursively, anything else is replaced, null deletes. */
export function mergeValues(base: Map_, over: Map_): Map_ {
  const out: Map_ = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else if (isMap(v) && isMap(out[k])) out[k] = mergeValues(out[k] as Map_, v);
    else out[k] = v;
  }
  return out;
}

const CHART_FIELDS: Record<string, string> = { name: 'Name', version: 'Version', appVersion: 'AppVersion', description: 'Description', type: 'Type', kubeVersion: 'KubeVersion', apiVersion: 'APIVersion', keywords: 'Keywords' };

export function renderChart(dir: string, opts: RenderOptions = {}): RenderedFile[] {
  const meta = YAML.parse(fs.readFileSync(path.join(dir, 'Chart.yaml'), 'utf8'), { version: '1.1' }) as Map_;
  const defaults = YAML.parse(fs.readFileSync(path.join(dir, 'values.yaml'), 'utf8'), { version: '1.1' }) as Map_;
  const values = mergeValues(defaults, opts.values ?? {});
  const schemaFile = path.join(dir, 'values.schema.json');
  if (fs.existsSync(schemaFile)) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaFile, 'utf8')) as object);
    if (!validate(values)) {
      const lines = (validate.errors ?? []).map((e) => `- ${e.instancePath || '(root)'}: ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`);
      throw new ChartError(`values don't meet the specifications of the schema(s):\n${lines.join('\n')}`);
    }
  }
  const chart: Map_ = {};
  for (const [k, v] of Object.entries(meta)) if (CHART_FIELDS[k]) chart[CHART_FIELDS[k]] = v;
  const ctx: Map_ = {
    Values: values,
    Chart: chart,
    Release: { Name: opts.releaseName ?? 'callback-proxy', Namespace: opts.namespace ?? 'default', Service: 'Helm', IsInstall: true, IsUpgrade: false, Revision: 1n },
  };
  const tdir = path.join(dir, 'templates');
  const names = fs.readdirSync(tdir).filter((f) => /\.(ya?ml|tpl)$/.test(f)).sort();
  const defines = new Map<string, Node[]>();
  const trees = names.map((f) => ({ f, nodes: parseTemplate(fs.readFileSync(path.join(tdir, f), 'utf8'), `templates/${f}`, defines) }));
  const r = new Renderer(defines);
  const out: RenderedFile[] = [];
  for (const { f, nodes } of trees) {
    if (f.startsWith('_')) continue;
    const scope = new Scope(null);
    scope.declare('$', ctx);
    out.push({ template: `templates/${f}`, text: r.exec(nodes, ctx, scope) });
  }
  return out;
}

/** The rendered objects, parsed the way kubectl and helm parse YAML (1.1: 0440 is octal, yes is true). */
export function manifests(files: RenderedFile[]): Map_[] {
  const objs: Map_[] = [];
  for (const f of files) {
    for (const doc of YAML.parseAllDocuments(f.text, { version: '1.1' })) {
      if (doc.errors.length > 0) throw new ChartError(`${f.template}: invalid YAML: ${doc.errors[0].message}`);
      const v = doc.toJS() as unknown;
      if (v === null || v === undefined) continue;
      if (!isMap(v)) throw new ChartError(`${f.template}: a document is not a mapping`);
      objs.push(v);
    }
  }
  return objs;
}
