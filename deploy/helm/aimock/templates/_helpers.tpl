{{/* The chart's name, overridable. */}}
{{- define "aimock.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: the release name, with the chart's name unless it already holds it. */}}
{{- define "aimock.fullname" -}}
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

{{- define "aimock.selectorLabels" -}}
app.kubernetes.io/name: {{ include "aimock.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "aimock.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "aimock.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* How many fixture sources are set; more than one is an error. */}}
{{- define "aimock.fixtureSources" -}}
{{- $f := .Values.fixtures }}
{{- $n := 0 }}
{{- if $f.files }}{{ $n = add1 $n }}{{ end }}
{{- if $f.existingConfigMap }}{{ $n = add1 $n }}{{ end }}
{{- if $f.existingClaim }}{{ $n = add1 $n }}{{ end }}
{{- if $f.volume }}{{ $n = add1 $n }}{{ end }}
{{- $n }}
{{- end }}

{{/* The fixtures volume's source, or nothing when the image's bundled fixtures are served. */}}
{{- define "aimock.fixturesVolume" -}}
{{- $f := .Values.fixtures }}
{{- if gt (int (include "aimock.fixtureSources" .)) 1 }}
{{- fail "fixtures: set at most one of files, existingConfigMap, existingClaim and volume" }}
{{- end }}
{{- if $f.files }}
configMap:
  name: {{ include "aimock.fullname" . }}-fixtures
{{- else if $f.existingConfigMap }}
configMap:
  name: {{ $f.existingConfigMap }}
{{- else if $f.existingClaim }}
persistentVolumeClaim:
  claimName: {{ $f.existingClaim }}
  readOnly: {{ $f.readOnly }}
{{- else if $f.volume }}
{{- toYaml $f.volume }}
{{- end }}
{{- end }}

{{/* Whether a config is mounted; both sources set is an error. */}}
{{- define "aimock.hasConfig" -}}
{{- if and .Values.config.content .Values.config.existingConfigMap }}
{{- fail "config: set at most one of content and existingConfigMap" }}
{{- end }}
{{- if or .Values.config.content .Values.config.existingConfigMap }}true{{ end }}
{{- end }}

{{/* The ConfigMap holding aimock.json. */}}
{{- define "aimock.configMapName" -}}
{{- if .Values.config.existingConfigMap }}
{{- .Values.config.existingConfigMap }}
{{- else }}
{{- include "aimock.fullname" . }}-config
{{- end }}
{{- end }}
