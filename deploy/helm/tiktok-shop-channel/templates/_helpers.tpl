{{/* Names and labels. */}}
{{- define "tsc.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tsc.fullname" -}}
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

{{/* "<fullname>-<part>", the name of a part's Deployment, Service, HPA and PDB. */}}
{{- define "tsc.partName" -}}
{{- printf "%s-%s" (include "tsc.fullname" .root) .part | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tsc.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "tsc.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tiktok-shop-channel
{{- end -}}

{{/* Selector labels of one part: {root, part}. */}}
{{- define "tsc.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tsc.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .part }}
{{- end -}}

{{- define "tsc.partLabels" -}}
{{ include "tsc.labels" .root }}
app.kubernetes.io/component: {{ .part }}
{{- end -}}

{{- define "tsc.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The Secret the credentials are read from: the chart's own, or an existing one. */}}
{{- define "tsc.secretName" -}}
{{- if .Values.secret.create -}}
{{- include "tsc.fullname" . -}}
{{- else -}}
{{- required "secret.existingSecret: name the Secret holding the credentials (or set secret.create=true)" .Values.secret.existingSecret -}}
{{- end -}}
{{- end -}}

{{/*
The environment of one part ({root, part}) as a list of EnvVar, sorted by name. A variable set
in several places takes the last of: the chart's wiring < env < extraEnv < <part>.env <
secretEnv < <part>.secretEnv.
*/}}
{{- define "tsc.env" -}}
{{- $root := .root -}}
{{- $part := .part -}}
{{- $values := index $root.Values $part -}}
{{- $secretName := include "tsc.secretName" $root -}}
{{- $env := dict -}}
{{- if eq $part "ingress" -}}
{{- $_ := set $env "INGRESS_HOST" (dict "value" "0.0.0.0") -}}
{{- $_ := set $env "INGRESS_PORT" (dict "value" (toString $values.port)) -}}
{{- $credentials := list "TIKTOK_APP_KEY" "TIKTOK_APP_SECRET" -}}
{{- range $credentials -}}
{{- $_ := set $env . (dict "ref" (dict "name" $secretName "key" . "optional" false)) -}}
{{- end -}}
{{- else -}}
{{- $_ := set $env "ADMIN_HOST" (dict "value" "0.0.0.0") -}}
{{- $_ := set $env "ADMIN_PORT" (dict "value" (toString $values.port)) -}}
{{- $credentials := list "TIKTOK_APP_KEY" "TIKTOK_APP_SECRET" "TIKTOK_ACCESS_TOKEN" "ADMIN_API_TOKEN" "MONGODB_URI" -}}
{{- range $credentials -}}
{{- /* A shop may be connected by OAuth alone: no default shop token. */ -}}
{{- $_ := set $env . (dict "ref" (dict "name" $secretName "key" . "optional" (eq . "TIKTOK_ACCESS_TOKEN"))) -}}
{{- end -}}
{{- end -}}
{{- $_ := set $env "LOG_JSON" (dict "value" "true") -}}
{{- range $source := list (dict "path" "env" "map" $root.Values.env) (dict "path" "extraEnv" "map" $root.Values.extraEnv) (dict "path" (printf "%s.env" $part) "map" $values.env) -}}
{{- range $name, $value := $source.map -}}
{{- if not (kindIs "string" $value) -}}
{{- fail (printf "%s.%s must be a string (quote numbers and booleans)" $source.path $name) -}}
{{- end -}}
{{- $_ := set $env $name (dict "value" $value) -}}
{{- end -}}
{{- end -}}
{{- range $source := list (dict "path" "secretEnv" "map" $root.Values.secretEnv) (dict "path" (printf "%s.secretEnv" $part) "map" $values.secretEnv) -}}
{{- range $name, $ref := $source.map -}}
{{- $key := required (printf "%s.%s.key: name the key in the Secret" $source.path $name) $ref.key -}}
{{- $_ := set $env $name (dict "ref" (dict "name" (default $secretName $ref.name) "key" $key "optional" (default false $ref.optional))) -}}
{{- end -}}
{{- end -}}
{{- if eq $part "ingress" -}}
{{- range $name, $_ := $env -}}
{{- if hasPrefix "MONGODB_" $name -}}
{{- fail (printf "%s: the ingress never touches the database; set it for the worker only (worker.env / worker.secretEnv)" $name) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- range $name, $entry := $env }}
- name: {{ $name }}
{{- if hasKey $entry "value" }}
  value: {{ $entry.value | quote }}
{{- else }}
  valueFrom:
    secretKeyRef:
      name: {{ $entry.ref.name }}
      key: {{ $entry.ref.key }}
      {{- if $entry.ref.optional }}
      optional: true
      {{- end }}
{{- end }}
{{- end -}}
{{- end -}}

{{/*
The pod template of one part ({root, part, args}): security settings, probes on /healthz and
/readyz, a preStop pause so Services stop routing before the process stops listening.
*/}}
{{- define "tsc.podTemplate" -}}
{{- $root := .root -}}
{{- $part := .part -}}
{{- $values := index $root.Values $part -}}
{{- if ge (int $values.preStopSleepSeconds) (int $values.terminationGracePeriodSeconds) -}}
{{- fail (printf "%s.preStopSleepSeconds (%v) must be below %s.terminationGracePeriodSeconds (%v): the service needs time to stop" $part $values.preStopSleepSeconds $part $values.terminationGracePeriodSeconds) -}}
{{- end -}}
metadata:
  labels:
    {{- include "tsc.partLabels" . | nindent 4 }}
    {{- with $values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    # Pods restart when the chart's credentials change.
    checksum/secret: {{ toJson $root.Values.secret | sha256sum }}
    {{- if $root.Values.metrics.scrapeAnnotations }}
    prometheus.io/scrape: "true"
    prometheus.io/port: {{ $values.port | quote }}
    prometheus.io/path: {{ $root.Values.metrics.path | quote }}
    {{- end }}
    {{- with $values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  # The service never calls the Kubernetes API.
  automountServiceAccountToken: false
  {{- with $root.Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml $root.Values.podSecurityContext | nindent 4 }}
  terminationGracePeriodSeconds: {{ $values.terminationGracePeriodSeconds }}
  topologySpreadConstraints:
    - maxSkew: 1
      topologyKey: kubernetes.io/hostname
      whenUnsatisfiable: ScheduleAnyway
      labelSelector:
        matchLabels:
          {{- include "tsc.selectorLabels" . | nindent 10 }}
  containers:
    - name: {{ $part }}
      image: {{ include "tsc.image" $root }}
      imagePullPolicy: {{ $root.Values.image.pullPolicy }}
      args: [{{ $part | quote }}]
      ports:
        - name: http
          containerPort: {{ $values.port }}
          protocol: TCP
      env:
        {{- include "tsc.env" . | trim | nindent 8 }}
      securityContext:
        {{- toYaml $root.Values.containerSecurityContext | nindent 8 }}
      resources:
        {{- toYaml $values.resources | nindent 8 }}
      # HTTP is served once the part has started (the worker: topics, indexes, consumers).
      startupProbe:
        httpGet:
          path: /healthz
          port: http
        periodSeconds: 2
        failureThreshold: 60
      livenessProbe:
        httpGet:
          path: /healthz
          port: http
        periodSeconds: 10
        timeoutSeconds: 2
        failureThreshold: 3
      # Not ready while Kafka (and, for the worker, the database) cannot be reached.
      readinessProbe:
        httpGet:
          path: /readyz
          port: http
        periodSeconds: 5
        timeoutSeconds: 3
        failureThreshold: 2
      lifecycle:
        preStop:
          exec:
            command: ["sleep", {{ $values.preStopSleepSeconds | quote }}]
      volumeMounts:
        # The root filesystem is read-only; a library that wants a temporary file gets this.
        - name: tmp
          mountPath: /tmp
        {{- with $root.Values.extraVolumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: 16Mi
    {{- with $root.Values.extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with $values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}
