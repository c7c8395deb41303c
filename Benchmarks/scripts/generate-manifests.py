#!/usr/bin/env python3
"""Writes a deterministic tree of realistic manifests for benchmarks.

usage: generate-manifests.py DIR [OBJECTS]

Objects are spread over namespaces and files (several documents per file),
mixing Deployments, Services, ConfigMaps, Secrets, StatefulSets, CronJobs
and Jobs of realistic size (about 2 KB each), so 10,000 objects make ~20 MB.
"""
import base64
import os
import sys

TEMPLATES = {}

TEMPLATES["Deployment"] = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {ns}
  labels: &labels
    app.kubernetes.io/name: {name}
    helm.sh/chart: shop-{group}-1.{i}.0
    app.kubernetes.io/managed-by: capstan
    app.kubernetes.io/instance: {name}-prod
    app.kubernetes.io/component: backend
    app.kubernetes.io/part-of: shop-{group}
    app.kubernetes.io/version: "1.{i}.0"
  annotations:
    deployment.kubernetes.io/revision: "3"
    owner.example.com/team: "team-{group}"
    owner.example.com/slack: "#team-{group}-alerts"
    owner.example.com/runbook: "https://runbooks.example.com/shop/{name}/index.html#on-call"
    owner.example.com/cost-center: "cc-{group}{i}"
    config.example.com/last-reviewed: "2026-10-{group:02d}"
    description: "Serves the {name} API for tenant {group}; owned by team-{group}"
spec:
  replicas: {replicas}
  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate: {{maxSurge: 25%, maxUnavailable: 0}}
  selector:
    matchLabels:
      app.kubernetes.io/name: {name}
  template:
    metadata:
      labels: *labels
      annotations:
        checksum/config: "{checksum}"
    spec:
      serviceAccountName: {name}
      terminationGracePeriodSeconds: 30
      securityContext: {{runAsNonRoot: true, runAsUser: 10001, fsGroup: 10001}}
      containers:
      - name: app
        image: registry.example.com/shop/{name}:1.{i}.0
        imagePullPolicy: IfNotPresent
        args: ["--port=8080", "--metrics-port=9090", "--log-level=info"]
        ports:
        - {{name: http, containerPort: 8080, protocol: TCP}}
        - {{name: metrics, containerPort: 9090, protocol: TCP}}
        env:
        - name: POD_NAME
          valueFrom: {{fieldRef: {{fieldPath: metadata.name}}}}
        - name: DATABASE_URL
          valueFrom:
            secretKeyRef: {{name: {name}-db, key: url}}
        - name: FEATURE_FLAGS
          value: "search,recommendations,checkout-v2"
        - name: CACHE_TTL
          value: "300"
        - name: OTEL_SERVICE_NAME
          value: "{name}"
        - name: OTEL_EXPORTER_OTLP_ENDPOINT
          value: "http://otel-collector.observability.svc:4317"
        - name: JAVA_TOOL_OPTIONS
          value: "-XX:MaxRAMPercentage=75 -XX:+UseG1GC"
        - name: SPRING_PROFILES_ACTIVE
          value: "prod,tenant-{group}"
        - name: HTTP_CLIENT_TIMEOUT_MS
          value: "2500"
        - name: RATE_LIMIT_PER_MINUTE
          value: "1200"
        - name: REGION
          value: "eu-west-{group}"
        - name: TZ
          value: "UTC"
        resources:
          requests: {{cpu: {cpu}m, memory: {mem}Mi}}
          limits: {{cpu: "1", memory: 1Gi}}
        readinessProbe:
          httpGet: {{path: /healthz/ready, port: http}}
          periodSeconds: 5
          failureThreshold: 3
        livenessProbe:
          httpGet: {{path: /healthz/live, port: http}}
          initialDelaySeconds: 10
          periodSeconds: 10
        volumeMounts:
        - {{name: config, mountPath: /etc/{name}, readOnly: true}}
        - {{name: tmp, mountPath: /tmp}}
      - name: proxy
        image: registry.example.com/platform/envoy:1.29.{i}
        args: ["--config-path", "/etc/envoy/envoy.yaml", "--service-cluster", "{name}", "--log-level", "warn"]
        ports:
        - {{name: proxy, containerPort: 15001}}
        - {{name: admin, containerPort: 15000}}
        env:
        - name: NODE_NAME
          valueFrom: {{fieldRef: {{fieldPath: spec.nodeName}}}}
        - {{name: ENVOY_UID, value: "101"}}
        resources:
          requests: {{cpu: 50m, memory: 64Mi}}
          limits: {{cpu: 500m, memory: 256Mi}}
        readinessProbe:
          tcpSocket: {{port: proxy}}
          periodSeconds: 10
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 100
            podAffinityTerm:
              topologyKey: kubernetes.io/hostname
              labelSelector:
                matchLabels: {{app.kubernetes.io/name: {name}}}
      tolerations:
      - {{key: dedicated, operator: Equal, value: shop, effect: NoSchedule}}
      volumes:
      - name: config
        configMap: {{name: {name}-config}}
      - name: tmp
        emptyDir: {{sizeLimit: 64Mi}}
"""

TEMPLATES["Service"] = """apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: {ns}
  labels:
    app.kubernetes.io/name: {name}
    helm.sh/chart: shop-{group}-1.{i}.0
    app.kubernetes.io/managed-by: capstan
    app.kubernetes.io/instance: {name}-prod
    app.kubernetes.io/component: backend
    app.kubernetes.io/part-of: shop-{group}
  annotations:
    prometheus.io/scrape: "true"
    owner.example.com/team: "team-{group}"
    owner.example.com/slack: "#team-{group}-alerts"
    owner.example.com/runbook: "https://runbooks.example.com/shop/{name}/index.html#on-call"
    owner.example.com/cost-center: "cc-{group}{i}"
    config.example.com/last-reviewed: "2026-10-{group:02d}"
    prometheus.io/port: "9090"
spec:
  type: ClusterIP
  selector:
    app.kubernetes.io/name: {name}
  ports:
  - name: http
    port: 80
    targetPort: http
    protocol: TCP
  - name: metrics
    port: 9090
    targetPort: metrics
    protocol: TCP
"""

TEMPLATES["ConfigMap"] = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-config
  namespace: {ns}
  annotations:
    owner.example.com/team: "team-{group}"
    owner.example.com/slack: "#team-{group}-alerts"
    owner.example.com/runbook: "https://runbooks.example.com/shop/{name}/index.html#on-call"
    owner.example.com/cost-center: "cc-{group}{i}"
    config.example.com/last-reviewed: "2026-10-{group:02d}"
  labels:
    app.kubernetes.io/name: {name}
    helm.sh/chart: shop-{group}-1.{i}.0
    app.kubernetes.io/managed-by: capstan
    app.kubernetes.io/instance: {name}-prod
    app.kubernetes.io/component: backend
data:
  LOG_FORMAT: json
  MAX_CONNECTIONS: "{replicas}00"
  application.yaml: |
    server:
      port: 8080
      shutdown: graceful
    cache:
      ttl: 300s
      size: 10000
    upstreams:
      - name: inventory
        url: http://inventory.{ns}.svc:80
        timeout: 2s
      - name: pricing
        url: http://pricing.{ns}.svc:80
        timeout: 1s
      - name: payments
        url: http://payments.{ns}.svc:80
        timeout: 5s
      - name: shipping
        url: http://shipping.{ns}.svc:80
        timeout: 3s
      - name: catalog
        url: http://catalog.{ns}.svc:80
        timeout: 2s
      - name: reviews
        url: http://reviews.{ns}.svc:80
        timeout: 2s
      - name: accounts
        url: http://accounts.{ns}.svc:80
        timeout: 1s
    features:
      search: true
      recommendations: true
      checkout-v2: false
    retries:
      attempts: 3
      backoff: {{initial: 100ms, max: 2s, multiplier: 2}}
    tracing:
      enabled: true
      sampler: parentbased_traceidratio
      ratio: 0.05
      exporter: otlp
      endpoint: http://otel-collector.observability.svc:4317
  logback.xml: |
    <configuration>
      <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
        <encoder><pattern>%d %-5level %logger{{36}} - %msg%n</pattern></encoder>
      </appender>
      <root level="info"><appender-ref ref="STDOUT"/></root>
    </configuration>
"""

TEMPLATES["Secret"] = """apiVersion: v1
kind: Secret
metadata:
  name: {name}-db
  namespace: {ns}
  annotations:
    owner.example.com/team: "team-{group}"
    owner.example.com/slack: "#team-{group}-alerts"
    owner.example.com/runbook: "https://runbooks.example.com/shop/{name}/index.html#on-call"
    owner.example.com/cost-center: "cc-{group}{i}"
    config.example.com/last-reviewed: "2026-10-{group:02d}"
  labels:
    app.kubernetes.io/name: {name}
    helm.sh/chart: shop-{group}-1.{i}.0
    app.kubernetes.io/managed-by: capstan
    app.kubernetes.io/instance: {name}-prod
    app.kubernetes.io/component: backend
type: Opaque
data:
  url: {secret_url}
  username: {secret_user}
  password: {secret_password}
stringData:
  note: "rotated by the platform team every 90 days"
"""

TEMPLATES["StatefulSet"] = """apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {name}-db
  namespace: {ns}
  annotations:
    owner.example.com/team: "team-{group}"
    owner.example.com/slack: "#team-{group}-alerts"
    owner.example.com/runbook: "https://runbooks.example.com/shop/{name}/index.html#on-call"
    owner.example.com/cost-center: "cc-{group}{i}"
    config.example.com/last-reviewed: "2026-10-{group:02d}"
  labels:
    app.kubernetes.io/name: {name}-db
spec:
  serviceName: {name}-db
  replicas: 3
  podManagementPolicy: Parallel
  selector:
    matchLabels: {{app.kubernetes.io/name: {name}-db}}
  template:
    metadata:
      labels: {{app.kubernetes.io/name: {name}-db}}
    spec:
      containers:
      - name: postgres
        image: postgres:16.{i}
        ports: [{{name: pg, containerPort: 5432}}]
        env:
        - {{name: PGDATA, value: /var/lib/postgresql/data/pgdata}}
        resources:
          requests: {{cpu: 250m, memory: 512Mi}}
          limits: {{memory: 2Gi}}
        volumeMounts:
        - {{name: data, mountPath: /var/lib/postgresql/data}}
  volumeClaimTemplates:
  - metadata: {{name: data}}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {{requests: {{storage: 20Gi}}}}
"""

TEMPLATES["CronJob"] = """apiVersion: batch/v1
kind: CronJob
metadata:
  name: {name}-report
  namespace: {ns}
  annotations:
    owner.example.com/team: "team-{group}"
    owner.example.com/slack: "#team-{group}-alerts"
    owner.example.com/runbook: "https://runbooks.example.com/shop/{name}/index.html#on-call"
    owner.example.com/cost-center: "cc-{group}{i}"
    config.example.com/last-reviewed: "2026-10-{group:02d}"
spec:
  schedule: "*/15 9-17 * * MON-FRI"
  concurrencyPolicy: Forbid
  successfulJobsHistoryLimit: 3
  jobTemplate:
    spec:
      backoffLimit: 2
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: report
            image: registry.example.com/shop/reporter:2.{i}
            args: ["--tenant={group}", "--since=15m"]
            resources:
              requests: {{cpu: 100m, memory: 128Mi}}
"""

ROTATION = ["Deployment", "Service", "ConfigMap", "Secret", "Deployment", "Service", "ConfigMap", "StatefulSet", "CronJob", "Secret"]


def b64(text):
    return base64.b64encode(text.encode()).decode()


def main():
    target = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    per_file = 5
    os.makedirs(target, exist_ok=True)
    documents = []
    file_index = 0

    def flush():
        nonlocal documents, file_index
        if not documents:
            return
        group = file_index % 50
        folder = os.path.join(target, f"team-{group:02d}")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"app-{file_index:05d}.yaml"), "w") as out:
            out.write("---\n".join(documents))
        documents = []
        file_index += 1

    for i in range(count):
        kind = ROTATION[i % len(ROTATION)]
        app = i // len(ROTATION)
        group = app % 50
        name = f"{kind.lower()}-{i:05d}"
        documents.append(TEMPLATES[kind].format(
            name=name, ns=f"tenant-{group:02d}", group=group, i=i % 97, replicas=1 + i % 5,
            cpu=50 + (i % 10) * 25, mem=64 + (i % 8) * 32, checksum=f"{(i * 2654435761) % (1 << 64):016x}",
            secret_url=b64(f"postgres://{name}@{name}-db.tenant-{group:02d}.svc:5432/{name}"),
            secret_user=b64(name), secret_password=b64(f"s3cr3t-{i}")))
        if len(documents) == per_file:
            flush()
    flush()


if __name__ == "__main__":
    main()
