// Schema checks for Kubernetes objects with maintained model packages: kubernetes-models (the Kubernetes
// OpenAPI), @kubernetes-models/prometheus-operator and @kubernetes-models/istio (their CRD schemas).
// Each object is looked up by apiVersion + kind; a kind without a model is an error, so a new kind in the
// chart or in envoy/istio must be added here on purpose.
//
// What the models check: types (an integer port is an integer, a quantity is a quantity), enums,
// required fields, nested objects. What they do not: unknown fields (Kubernetes' OpenAPI allows them,
// the API server prunes or rejects them), so checkNames() adds the object-name and label rules and the
// chart tests read every field the chart is meant to set.
import { ConfigMap, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { AuthorizationPolicy } from '@kubernetes-models/istio/security.istio.io/v1';
import { VirtualService } from '@kubernetes-models/istio/networking.istio.io/v1beta1';
import { EnvoyFilter } from '@kubernetes-models/istio/networking.istio.io/v1alpha3';

type Obj = Record<string, any>;
type Model = new (data: any) => { validate(): void };

const MODELS: Record<string, Model> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'security.istio.io/v1/AuthorizationPolicy': AuthorizationPolicy,
  'networking.istio.io/v1alpha3/EnvoyFilter': EnvoyFilter,
  'networking.istio.io/v1beta1/VirtualService': VirtualService,
};

/**
 * Istio promoted its networking APIs to v1 (1.22) with the same schema as v1beta1; the Node-20
 * compatible @kubernetes-models/istio ships v1beta1 only, so a v1 object is checked against it.
 */
const SAME_SCHEMA: Record<string, string> = {
  'networking.istio.io/v1/VirtualService': 'networking.istio.io/v1beta1/VirtualService',
};

/** Throws with the object's kind/name and every schema error. */
export function validateObject(obj: Obj): void {
  const key = `${obj.apiVersion}/${obj.kind}`;
  const target = SAME_SCHEMA[key] ?? key;
  const model = MODELS[target];
  if (!model) throw new Error(`no schema model for ${key}: add one to test/deploy/support/k8s-schemas.ts`);
  const data = target === key ? obj : { ...obj, apiVersion: target.slice(0, target.lastIndexOf('/')) };
  try {
    new model(data).validate();
  } catch (e) {
    throw new Error(`${key} ${obj.metadata?.name ?? '?'}: ${(e as Error).message}`);
  }
  checkNames(obj);
}

const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Object names (Services: RFC 1035 labels; others: DNS subdomains) and label syntax. */
export function checkNames(obj: Obj): void {
  const name = String(obj.metadata?.name ?? '');
  const where = `${obj.kind} ${name}`;
  if (obj.kind === 'Service') {
    if (!(DNS_LABEL.test(name) && name.length <= 63)) throw new Error(`${where}: a Service name must be an RFC 1035 label of at most 63 characters`);
  } else if (!(DNS_SUBDOMAIN.test(name) && name.length <= 253)) {
    throw new Error(`${where}: the name must be a DNS subdomain`);
  }
  const labelSets: Obj[] = [obj.metadata?.labels ?? {}, obj.spec?.template?.metadata?.labels ?? {}, obj.spec?.selector?.matchLabels ?? {}];
  for (const labels of labelSets) {
    for (const [k, v] of Object.entries(labels)) {
      if (!LABEL_KEY.test(k) || k.split('/').pop()!.length > 63) throw new Error(`${where}: bad label key ${k}`);
      if (typeof v !== 'string' || !LABEL_VALUE.test(v) || v.length > 63) throw new Error(`${where}: bad value for label ${k}: ${JSON.stringify(v)}`);
    }
  }
}
