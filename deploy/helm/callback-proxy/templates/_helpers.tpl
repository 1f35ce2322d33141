{{/* Chart name, truncated to a DNS label. */}}
{{- define "callback-proxy.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Full name: the release name when it already contains the chart name, else "<release>-<chart>". */}}
{{- define "callback-proxy.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "callback-proxy.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels: stable for the life of a release (a Deployment's selector is immutable). */}}
{{- define "callback-proxy.selectorLabels" -}}
app.kubernetes.io/name: {{ include "callback-proxy.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The standard app.kubernetes.io labels on every object. */}}
{{- define "callback-proxy.labels" -}}
helm.sh/chart: {{ include "callback-proxy.chart" . }}
{{ include "callback-proxy.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: ext-authz
app.kubernetes.io/part-of: callback-proxy
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "callback-proxy.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "callback-proxy.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "callback-proxy.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "callback-proxy.registryConfigMap" -}}
{{- default (printf "%s-registry" (include "callback-proxy.fullname" .)) .Values.registry.existingConfigMap -}}
{{- end -}}

{{/* Combinations the schema cannot express; called by the Deployment so every render checks them. */}}
{{- define "callback-proxy.validate" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not (or .Values.redis.url .Values.redis.existingSecret)) -}}
{{- fail "replicaCount > 1 needs a shared store: set redis.url or redis.existingSecret (pins and replay markers kept in memory are per pod)" -}}
{{- end -}}
{{- if and (not .Values.registry.existingConfigMap) (not .Values.registry.config) -}}
{{- fail "set registry.config or registry.existingConfigMap: without a registry the service would run its embedded demo setup" -}}
{{- end -}}
{{- if and .Values.tls.enabled (not .Values.tls.secretName) -}}
{{- fail "tls.enabled needs tls.secretName (a kubernetes.io/tls Secret)" -}}
{{- end -}}
{{- end -}}

{{/* OTEL_RESOURCE_ATTRIBUTES: the pod's identity from the downward API, then the user's attributes. */}}
{{- define "callback-proxy.otelResourceAttributes" -}}
{{- $attrs := list "k8s.pod.name=$(POD_NAME)" "k8s.namespace.name=$(POD_NAMESPACE)" "k8s.node.name=$(NODE_NAME)" (printf "k8s.deployment.name=%s" (include "callback-proxy.fullname" .)) (printf "service.version=%s" .Chart.AppVersion) -}}
{{- range $k, $v := .Values.otel.resourceAttributes -}}
{{- $attrs = append $attrs (printf "%s=%s" $k (toString $v)) -}}
{{- end -}}
{{- join "," $attrs -}}
{{- end -}}
