// The stand-in for `helm template` (test/deploy/support/helm-template.ts) behaves like helm where our
// chart depends on it, and refuses what it does not implement instead of guessing. Each case is a tiny
// chart written to a temp dir; expected outputs are helm's (Go text/template + Sprig semantics).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ChartError, manifests, mergeValues, renderChart } from './support/helm-template';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-tpl-'));
  fs.mkdirSync(path.join(dir, 'templates'));
  fs.writeFileSync(path.join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: t\nversion: 1.2.3\nappVersion: "4.5"\n');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function out(template: string, values = '', extra: { schema?: object; partial?: string; set?: Record<string, unknown> } = {}): string {
  fs.writeFileSync(path.join(dir, 'values.yaml'), values);
  fs.writeFileSync(path.join(dir, 'templates', 'x.yaml'), template);
  if (extra.partial) fs.writeFileSync(path.join(dir, 'templates', '_h.tpl'), extra.partial);
  if (extra.schema) fs.writeFileSync(path.join(dir, 'values.schema.json'), JSON.stringify(extra.schema));
  return renderChart(dir, { values: extra.set, releaseName: 'rel', namespace: 'ns' })[0].text;
}

describe('Go template semantics', () => {
  it('trim markers eat whitespace and newlines on their side only; comments vanish', () => {
    expect(out('a  {{- "x" -}}  b\n{{/* note */}}c {{ "y" }} d')).toBe('axb\nc y d');
    expect(out('a\n  {{- /* gone */ -}}\n  b')).toBe('ab');
  });

  it('numbers from values are float64: comparing with an int literal fails as in helm, `int` fixes it', () => {
    expect(() => out('{{ gt .Values.num 1 }}', 'num: 3\n')).toThrow(/incompatible types for comparison \(float64 and int\)/);
    expect(out('{{ gt (int .Values.num) 1 }} {{ eq .Values.s "a" }}', 'num: 3\ns: a\n')).toBe('true true');
  });

  it('printing a float uses Go %v: 1e+06, not 1000000 (use int)', () => {
    expect(out('{{ .Values.a }} {{ .Values.b }} {{ .Values.c }} {{ int .Values.a }}', 'a: 1000000\nb: 123456\nc: 0.5\n')).toBe('1e+06 123456 0.5 1000000');
    expect(out('{{ .Values.d }}', 'd: 1234567.5\n')).toBe('1.2345675e+06');
  });

  it('a missing key is nil (default applies), a field of nil is an error, printing nil is refused', () => {
    expect(out('{{ .Values.nope | default "d" }}')).toBe('d');
    expect(() => out('{{ .Values.nope.deeper }}')).toThrow(/nil pointer evaluating \.deeper/);
    expect(() => out('{{ .Values.nope }}')).toThrow(/printing a nil value/);
  });

  it('range walks lists in order and maps in key order; $ is the root; variables are scoped', () => {
    const t = '{{ range $k, $v := .Values.m }}{{ $k }}={{ $v }}/{{ $.Release.Name }};{{ end }}{{ range .Values.l }}[{{ . }}]{{ end }}';
    expect(out(t, 'm: {b: "2", a: "1"}\nl: [x, z]\n')).toBe('a=1/rel;b=2/rel;[x][z]');
    expect(out('{{ $x := "a" }}{{ if true }}{{ $x = "b" }}{{ end }}{{ $x }}')).toBe('b');
    expect(() => out('{{ if true }}{{ $y := 1 }}{{ end }}{{ $y }}')).toThrow(/undefined variable \$y/);
  });

  it('if / else if / else, with, and / or short-circuit, not, empty', () => {
    const t = '{{ if .Values.a }}A{{ else if .Values.b }}B{{ else }}C{{ end }}';
    expect(out(t, 'a: 0\nb: "x"\n')).toBe('B');
    expect(out(t, 'a: ""\nb: []\n')).toBe('C');
    expect(out('{{ with .Values.w }}{{ .k }}{{ else }}none{{ end }}', 'w: {k: v}\n')).toBe('v');
    expect(out('{{ or .Values.x "fallback" }} {{ and false .Values.nope.deeper }}')).toBe('fallback false');
  });

  it('include + nindent + toYaml reproduce helm indentation and key order', () => {
    const partial = '{{- define "lbl" -}}\nb: {{ .b }}\na: {{ .a | quote }}\n{{- end -}}';
    const t = 'labels:\n  {{- include "lbl" .Values | nindent 2 }}\nobj:\n  {{- toYaml .Values.o | nindent 2 }}\n';
    // Strings YAML 1.1 would read as booleans stay quoted ("on"), as helm's toYaml does.
    expect(out(t, 'a: x\nb: yy\no: {z: 1, w: ["on", "off"]}\n', { partial })).toBe('labels:\n  b: yy\n  a: "x"\nobj:\n  w:\n    - "on"\n    - "off"\n  z: 1\n');
  });

  it('Sprig string helpers as helm has them', () => {
    expect(out('{{ "abcdef-" | trunc 6 | trimSuffix "-" }} {{ printf "%s-%d" "a" 3 }} {{ "1.0+x" | replace "+" "_" }} {{ contains "b" "abc" }}')).toBe('abcdef a-3 1.0_x true');
    expect(out('{{ join "," (list "a" "b") }} {{ .Chart.Name }}-{{ .Chart.AppVersion }} {{ .Release.Namespace }}')).toBe('a,b t-4.5 ns');
    expect(() => out('{{ fail "no way" }}')).toThrow(/^no way$/);
    expect(() => out('{{ required "need x" .Values.x }}')).toThrow(/need x/);
  });

  it('refuses functions and actions it does not implement instead of guessing', () => {
    expect(() => out('{{ sha256sum "x" }}')).toThrow(/function "sha256sum" is not supported/);
    expect(() => out('{{ template "x" . }}')).toThrow(/not supported by this renderer \(use include\)/);
    expect(() => out('{{ if true }}open')).toThrow(/unterminated|without end/);
    expect(() => out('{{ .Values.m }}', 'm: {a: 1}\n')).toThrow(/printing a map \(use toYaml\)/);
  });
});

describe('values like helm', () => {
  it('deep-merges maps, replaces lists and scalars, deletes keys set to null', () => {
    expect(mergeValues({ a: { b: 1, c: 2 }, l: [1, 2], k: 'x' }, { a: { c: 3 }, l: [9], k: null })).toEqual({ a: { b: 1, c: 3 }, l: [9] });
  });

  it('validates the merged values against values.schema.json before rendering', () => {
    const schema = { type: 'object', additionalProperties: false, properties: { num: { type: 'integer', minimum: 1 } } };
    expect(out('{{ int .Values.num }}', 'num: 2\n', { schema })).toBe('2');
    expect(() => out('{{ int .Values.num }}', 'num: 2\n', { schema, set: { num: 0 } })).toThrow(/\/num: must be >= 1/);
    expect(() => out('x', 'num: 2\n', { schema, set: { typo: 1 } })).toThrow(/must NOT have additional properties \(typo\)/);
  });

  it('values are YAML 1.1 as helm reads them: an unquoted y or on is a boolean', () => {
    expect(out('{{ .Values.l }}', 'l: on\n')).toBe('true');
  });

  it('manifests(): YAML 1.1 as kubectl reads it, empty documents dropped, non-objects refused', () => {
    fs.writeFileSync(path.join(dir, 'values.yaml'), '');
    fs.writeFileSync(path.join(dir, 'templates', 'a.yaml'), '---\n# only a comment\n---\nkind: A\nmode: 0440\nflag: yes\n');
    expect(manifests(renderChart(dir))).toEqual([{ kind: 'A', mode: 288, flag: true }]);
    fs.writeFileSync(path.join(dir, 'templates', 'a.yaml'), '- a list\n');
    expect(() => manifests(renderChart(dir))).toThrow(ChartError);
  });
});
