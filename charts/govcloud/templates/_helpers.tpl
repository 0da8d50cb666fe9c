{{/*
The release's full name: the release name alone when it already says govcloud, so that
`helm install govcloud charts/govcloud` names things `govcloud`, not `govcloud-govcloud`.
*/}}
{{- define "govcloud.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "govcloud.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "govcloud.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels: stable across upgrades (a Deployment's selector cannot change).
*/}}
{{- define "govcloud.selectorLabels" -}}
app.kubernetes.io/name: {{ include "govcloud.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{/*
Labels on every object of the chart. managed-by stays Helm: the operator sweeps objects
labelled app.kubernetes.io/managed-by=govcloud that it did not render, so the chart's
own objects must never carry that value.
*/}}
{{- define "govcloud.labels" -}}
helm.sh/chart: {{ include "govcloud.chart" . }}
{{ include "govcloud.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: govcloud
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "govcloud.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "govcloud.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "govcloud.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
The namespace the operator runs in, and the one config.platformNamespace must name:
department NetworkPolicies let the operator's pods in by it.
*/}}
{{- define "govcloud.platformNamespace" -}}
{{- $ns := .Values.config.platformNamespace | default .Release.Namespace }}
{{- if ne $ns .Release.Namespace }}
{{- fail (printf "config.platformNamespace %q must be the release namespace %q (or be left empty): department NetworkPolicies let the operator's pods in by that namespace, and the operator runs in the release namespace" $ns .Release.Namespace) }}
{{- end }}
{{- $ns }}
{{- end }}

{{/*
Where the leader-election Lease lives: config.leaderElection.leaseNamespace, else the
platform namespace (the operator's own rule, OperatorConfig::lease_namespace).
*/}}
{{- define "govcloud.leaseNamespace" -}}
{{- .Values.config.leaderElection.leaseNamespace | default (include "govcloud.platformNamespace" .) }}
{{- end }}

{{/*
The HTTP port, from config.http.address, so that the container port, the probes and the
Service can never disagree with what the operator binds.
*/}}
{{- define "govcloud.httpPort" -}}
{{- $address := .Values.config.http.address }}
{{- $port := regexFind "[0-9]+$" $address | default "0" | atoi }}
{{- if or (lt $port 1) (gt $port 65535) }}
{{- fail (printf "config.http.address %q: the port must be 1-65535 (the probes and the metrics Service need a fixed port)" $address) }}
{{- end }}
{{- if or (hasPrefix "127." $address) (hasPrefix "[::1]" $address) }}
{{- fail (printf "config.http.address %q: a loopback address cannot be probed by the kubelet nor scraped; use 0.0.0.0 or [::]" $address) }}
{{- end }}
{{- $port }}
{{- end }}

{{/*
The config file the operator reads: values.config with the release namespace filled in.
*/}}
{{- define "govcloud.config" -}}
{{- $config := deepCopy .Values.config }}
{{- $_ := set $config "platformNamespace" (include "govcloud.platformNamespace" .) }}
{{- toYaml $config }}
{{- end }}

{{/*
Milliseconds of a duration in the operator's format (500ms, 2s, 10m, 1h30m: units in
this order, each at most once), which values.schema.json holds config durations to.
*/}}
{{- define "govcloud.millis" -}}
{{- $re := "^(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?(?:([0-9]+)ms)?$" }}
{{- $h := regexReplaceAll $re . "${1}" | default "0" | atoi }}
{{- $m := regexReplaceAll $re . "${2}" | default "0" | atoi }}
{{- $s := regexReplaceAll $re . "${3}" | default "0" | atoi }}
{{- $ms := regexReplaceAll $re . "${4}" | default "0" | atoi }}
{{- add (mul $h 3600000) (mul $m 60000) (mul $s 1000) $ms }}
{{- end }}

{{/*
Refusals of value combinations the schema cannot express clearly. Included by the
Deployment, so that no install renders a broken operator.
*/}}
{{- define "govcloud.validate" -}}
{{- $le := .Values.config.leaderElection }}
{{- if and (gt (int .Values.replicas) 1) (not $le.enabled) }}
{{- fail (printf "replicas is %d but config.leaderElection.enabled is false: without leader election every replica would write; set config.leaderElection.enabled: true or replicas: 1" (int .Values.replicas)) }}
{{- end }}
{{- $grace := int .Values.terminationGracePeriodSeconds }}
{{- /* Set to null, the key leaves the rendered config: the operator's default, 20s. */}}
{{- $shutdown := .Values.config.controller.shutdownTimeout | default "20s" }}
{{- if ge (include "govcloud.millis" $shutdown | int64) (mul $grace 1000) }}
{{- fail (printf "config.controller.shutdownTimeout %s must be shorter than terminationGracePeriodSeconds (%ds): the kubelet kills the operator when the grace period ends, which would cut off the writes it is letting finish and leave the Lease held; raise terminationGracePeriodSeconds or lower shutdownTimeout" $shutdown $grace) }}
{{- end }}
{{- $usage := .Values.config.usage }}
{{- if and (eq $usage.source "prometheus") (not $usage.prometheus.url) }}
{{- fail "config.usage.source is prometheus but config.usage.prometheus.url is not set" }}
{{- end }}
{{- end }}
