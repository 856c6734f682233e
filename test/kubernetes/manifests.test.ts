// deploy/kubernetes: every document of every manifest is valid against the Kubernetes API's
// schemas (kubernetes-models, strictly: unknown fields too; test/helpers/kubernetes.ts), broken
// copies are not, and the manifests keep what the deployment promises: 3 replicas, probes on the
// metrics port the container's args open, a grace period above the preStop sleep plus the drain,
// a non-root read-only container, selectors that match, a Job of N generators against the
// Service. Then the containers' own args (hosts and ports moved to loopback) run the built CLI:
// the probes' paths answer 200, UDP echoes, the bench's JSON comes out clean.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { parse } from 'yaml';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IIoK8sApiCoreV1Container as Container, IIoK8sApiCoreV1PodSpec as PodSpec } from 'kubernetes-models/v1';
import { runCli, spawnServer } from '../helpers/cli.js';
import { manifestProblems, readManifests, type ManifestDocument } from '../helpers/kubernetes.js';
import { httpGet } from '../helpers/metrics.js';
import { roundTrip, udpSocket } from '../helpers/udp.js';

const DIR = fileURLToPath(new URL('../../../deploy/kubernetes/', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const VERSION = (JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { version: string }).version;

const docs = readManifests(DIR);

function only<T>(kind: string, file: string): T {
  const found = docs.filter((d) => d.data.kind === kind);
  assert.equal(found.length, 1, `one ${kind} (found ${found.map((d) => d.file).join(', ') || 'none'})`);
  assert.equal((found[0] as ManifestDocument).file, file, `the ${kind} is in ${file}`);
  return (found[0] as ManifestDocument).data as T;
}

const deployment = only<IDeployment>('Deployment', 'deployment.yaml');
const service = only<IService>('Service', 'service.yaml');
const pdb = only<IPodDisruptionBudget>('PodDisruptionBudget', 'pdb.yaml');
const job = only<IJob>('Job', 'bench/job.yaml');
const pod = deployment.spec?.template.spec as PodSpec;
const jobSpec = job.spec as NonNullable<IJob['spec']>;

function container(spec: PodSpec | undefined, name: string): Container {
  const found = spec?.containers.find((c) => c.name === name);
  assert.ok(found !== undefined, `a container named ${name}`);
  return found;
}

/** The value after `flag` in `args`, or undefined. */
function flagValue(args: string[], flag: string): string | undefined {
  const at = args.indexOf(flag);
  return at < 0 ? undefined : args[at + 1];
}

/** The containerPort a probe or Service's port (a number or a port name) refers to in `c`, with its protocol. */
function portOf(c: Container, port: number | string | undefined): { containerPort: number; protocol: string } {
  const found = c.ports?.find((p) => (typeof port === 'number' ? p.containerPort === port : p.name === port));
  assert.ok(found !== undefined, `container ${c.name} has port ${String(port)}`);
  return { containerPort: found.containerPort, protocol: found.protocol ?? 'TCP' };
}

/** A Kubernetes quantity as a number: CPU in cores (`500m`, `1`), memory in bytes (`128Mi`). */
function quantity(value: string | number | undefined): number {
  const match = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi)?$/.exec(String(value));
  assert.ok(match !== null, `a quantity: ${String(value)}`);
  const scale = { m: 1e-3, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 }[match[2] ?? ''] ?? 1;
  return Number(match[1]) * scale;
}

test('every document of every file in deploy/kubernetes is valid against the Kubernetes API schemas, unknown fields included', () => {
  assert.deepEqual([...new Set(docs.map((d) => d.file))], ['bench/job.yaml', 'deployment.yaml', 'pdb.yaml', 'service.yaml']);
  for (const doc of docs) assert.deepEqual(manifestProblems(doc.data), [], `${doc.file} document ${doc.index}`);
});

test('the schema check fails broken copies: a wrong type, a missing required field, an unknown enum value, a misspelt field, an unknown kind', () => {
  const broken = (edit: (d: IDeployment) => void): string[] => {
    const copy = structuredClone(deployment);
    edit(copy);
    return manifestProblems(copy as unknown as Record<string, unknown>);
  };
  const spec = (d: IDeployment): PodSpec => d.spec?.template.spec as PodSpec;
  const tcp = (d: IDeployment): Container => container(spec(d), 'tcp');
  assert.match(broken((d) => Object.assign(d.spec ?? {}, { replicas: 'three' })).join('\n'), /spec\/replicas must be integer/);
  assert.match(broken((d) => delete (tcp(d) as Partial<Container>).name).join('\n'), /containers\/0 must have required property name/);
  assert.match(broken((d) => Object.assign(tcp(d).ports?.[0] ?? {}, { protocol: 'QUIC' })).join('\n'), /protocol must be equal to one of the allowed values/);
  assert.match(broken((d) => Object.assign(tcp(d).securityContext?.capabilities ?? {}, { drop: 'ALL' })).join('\n'), /capabilities\/drop must be array/);
  assert.deepEqual(
    broken((d) => {
      const c = tcp(d) as Container & { readinesProbe?: unknown };
      c.readinesProbe = c.readinessProbe;
      delete c.readinessProbe;
    }),
    ['/spec/template/spec/containers/0/readinesProbe: unknown field'],
  );
  assert.match(broken((d) => Object.assign(d, { apiVersion: 'apps/v2' })).join('\n'), /apps\/v2 Deployment: not a kind these manifests are checked for/);
});

test('Deployment: 3 replicas of the image the Dockerfile builds, run as its user, non-root, read-only, no privilege, every capability dropped, RuntimeDefault seccomp', () => {
  assert.equal(deployment.spec?.replicas, 3);
  assert.match(readFileSync(`${ROOT}Dockerfile`, 'utf8'), /^USER node$/m, "the runtime stage's user is node (uid 1000 in node:20-slim)");
  for (const spec of [pod, jobSpec.template.spec as PodSpec]) {
    assert.equal(spec.securityContext?.runAsNonRoot, true);
    assert.equal(spec.securityContext?.runAsUser, 1000);
    assert.equal(spec.securityContext?.seccompProfile?.type, 'RuntimeDefault');
    assert.equal(spec.automountServiceAccountToken, false);
    for (const c of spec.containers) {
      assert.equal(c.image, `tcpecho:${VERSION}`, `${c.name}: the image docs/operations.md builds`);
      assert.equal(c.securityContext?.runAsNonRoot, true, c.name);
      assert.equal(c.securityContext?.allowPrivilegeEscalation, false, c.name);
      assert.equal(c.securityContext?.readOnlyRootFilesystem, true, c.name);
      assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL'], c.name);
      assert.equal(c.securityContext?.capabilities?.add, undefined, c.name);
      const { requests, limits } = c.resources ?? {};
      for (const resource of ['cpu', 'memory']) {
        assert.ok(quantity(requests?.[resource]) > 0, `${c.name}: a ${resource} request`);
        assert.ok(quantity(requests?.[resource]) <= quantity(limits?.[resource]), `${c.name}: ${resource} request within its limit`);
      }
    }
  }
});

test('Deployment: each container probed on /readyz and /healthz of the port its --metrics-port opens on 0.0.0.0; Prometheus told to scrape tcp\'s', () => {
  for (const name of ['tcp', 'udp']) {
    const c = container(pod, name);
    const args = c.args ?? [];
    assert.equal(args[0], 'server');
    assert.equal(args.includes('--udp'), name === 'udp');
    assert.equal(flagValue(args, '--host'), '0.0.0.0', `${name}: the echo listens on the pod IP`);
    assert.equal(flagValue(args, '--metrics-host'), '0.0.0.0', `${name}: the kubelet probes the pod IP`);
    const metricsPort = Number(flagValue(args, '--metrics-port'));
    assert.ok(metricsPort > 0, name);
    assert.equal(c.readinessProbe?.httpGet?.path, '/readyz', name);
    assert.equal(c.livenessProbe?.httpGet?.path, '/healthz', name);
    for (const probe of [c.readinessProbe, c.livenessProbe]) assert.deepEqual(portOf(c, probe?.httpGet?.port), { containerPort: metricsPort, protocol: 'TCP' }, name);
  }
  const annotations = deployment.spec?.template.metadata?.annotations ?? {};
  assert.equal(annotations['prometheus.io/scrape'], 'true');
  assert.equal(annotations['prometheus.io/port'], flagValue(container(pod, 'tcp').args ?? [], '--metrics-port'));
  assert.equal(annotations['prometheus.io/path'], '/metrics');
});

test('docs/operations.md: its Prometheus scrape job keeps these pods by their label and each container\'s metrics port by name', () => {
  const text = readFileSync(`${ROOT}docs/operations.md`, 'utf8');
  const block = /```yaml\n(scrape_configs:[\s\S]*?)```/.exec(text)?.[1];
  assert.ok(block !== undefined, 'a scrape_configs block');
  const scrape = (parse(block) as { scrape_configs: Array<{ relabel_configs: Array<{ source_labels: string[]; regex: string; action: string }> }> }).scrape_configs[0];
  const keep = (label: string): RegExp => {
    const rule = scrape?.relabel_configs.find((r) => r.source_labels.join() === label && r.action === 'keep');
    assert.ok(rule !== undefined, `a keep rule on ${label}`);
    // Prometheus anchors relabel regexes at both ends.
    return new RegExp(`^(?:${rule.regex})$`);
  };
  const labels = deployment.spec?.template.metadata?.labels ?? {};
  assert.match(labels['app.kubernetes.io/name'] ?? '', keep('__meta_kubernetes_pod_label_app_kubernetes_io_name'));
  const component = keep('__meta_kubernetes_pod_label_app_kubernetes_io_component');
  assert.match(labels['app.kubernetes.io/component'] ?? '', component, 'the server pods are kept');
  assert.doesNotMatch(job.spec?.template.metadata?.labels?.['app.kubernetes.io/component'] ?? '', component, 'the bench pods are not');
  const portName = keep('__meta_kubernetes_pod_container_port_name');
  for (const c of pod.containers) {
    const metricsPort = Number(flagValue(c.args ?? [], '--metrics-port'));
    for (const p of c.ports ?? []) {
      assert.equal(portName.test(p.name ?? ''), p.containerPort === metricsPort, `${c.name}'s port ${p.name ?? ''} (${p.containerPort}) is scraped exactly when it is the metrics port`);
    }
  }
});

test('Deployment: every container sleeps in preStop, and the grace period covers that sleep, --drain-timeout and the 2 s kill grace', () => {
  const grace = pod.terminationGracePeriodSeconds ?? 30;
  const drain = Number(flagValue(container(pod, 'tcp').args ?? [], '--drain-timeout'));
  assert.ok(drain > 0, 'the tcp container names --drain-timeout');
  for (const c of pod.containers) {
    const sleep = c.lifecycle?.preStop?.sleep?.seconds ?? 0;
    assert.ok(sleep > 0, `${c.name}: a preStop sleep`);
    assert.ok(grace > sleep + drain + 2, `${c.name}: terminationGracePeriodSeconds ${grace} > preStop ${sleep} + drain ${drain} + 2`);
  }
});

test('Service: TCP 7007 to the tcp container, UDP 7007 to the --udp one; it, the PDB and the Deployment select the same pods, and not the bench pods', () => {
  const selector = deployment.spec?.selector.matchLabels ?? {};
  assert.ok(Object.keys(selector).length > 0);
  const labels = deployment.spec?.template.metadata?.labels ?? {};
  for (const [key, value] of Object.entries(selector)) assert.equal(labels[key], value, `the pod template has ${key}=${value}`);
  assert.deepEqual(service.spec?.selector, selector);
  assert.deepEqual(pdb.spec?.selector?.matchLabels, selector);
  const benchLabels = jobSpec.template.metadata?.labels ?? {};
  assert.ok(Object.entries(selector).some(([key, value]) => benchLabels[key] !== value), 'the bench pods are not the servers');

  const ports = service.spec?.ports ?? [];
  assert.deepEqual(ports.map((p) => [p.port, p.protocol]).sort(), [[7007, 'TCP'], [7007, 'UDP']]);
  for (const p of ports) {
    const udp = p.protocol === 'UDP';
    const c = container(pod, udp ? 'udp' : 'tcp');
    assert.equal((c.args ?? []).includes('--udp'), udp, `${c.name}: --udp ${udp ? '' : 'not '}given`);
    const target = portOf(c, p.targetPort);
    assert.deepEqual(target, { containerPort: Number(flagValue(c.args ?? [], '--port')), protocol: p.protocol });
  }
  assert.equal(flagValue(container(pod, 'udp').args ?? [], '--host'), '0.0.0.0');
});

test('PodDisruptionBudget: at most one of the replicas down at a time', () => {
  assert.equal(pdb.spec?.maxUnavailable, 1);
  assert.ok((deployment.spec?.replicas ?? 0) - 1 >= 2, 'two pods keep serving');
});

test('bench Job: N pods at once (parallelism = completions), each `tcpecho bench --json` against the Service, never retried', () => {
  const spec = jobSpec;
  assert.ok((spec.parallelism ?? 1) >= 2);
  assert.equal(spec.completions, spec.parallelism);
  assert.equal(spec.backoffLimit, 0);
  assert.ok((spec.activeDeadlineSeconds ?? 0) > 0, 'bounded');
  assert.equal(spec.template.spec?.restartPolicy, 'Never');
  const args = container(spec.template.spec, 'bench').args ?? [];
  assert.deepEqual(args.slice(0, 3), ['bench', service.metadata?.name, String(service.spec?.ports?.find((p) => p.protocol === 'TCP')?.port)]);
  assert.ok(args.includes('--json'));
});

/** The args with the values of `flags` replaced (hosts and ports moved to loopback), the rest as the manifest has them. */
function rewritten(args: string[], values: Record<string, string>): string[] {
  return args.map((arg, i) => values[args[i - 1] as string] ?? arg);
}

test("the containers' args run the built CLI: the probes' paths answer 200 on the metrics port, UDP echoes, the bench Job's JSON has no error", async (t) => {
  const tcpArgs = rewritten(container(pod, 'tcp').args ?? [], { '--host': '127.0.0.1', '--port': '0', '--metrics-host': '127.0.0.1', '--metrics-port': '0' });
  // spawnServer puts `server --host 127.0.0.1 --port 0` first; the manifest's own (rewritten) come after and say the same.
  const server = await spawnServer(t, tcpArgs.slice(1), { ready: /"event":"listening"/ });
  const metrics = JSON.parse(await server.waitForLine(/"event":"metrics"/)) as { url: string };
  const base = metrics.url.replace(/\/metrics$/, '');
  for (const probe of [container(pod, 'tcp').readinessProbe, container(pod, 'tcp').livenessProbe]) {
    assert.equal((await httpGet(`${base}${probe?.httpGet?.path ?? ''}`)).status, 200, probe?.httpGet?.path);
  }

  const udpArgs = rewritten(container(pod, 'udp').args ?? [], { '--host': '127.0.0.1', '--port': '0', '--metrics-host': '127.0.0.1', '--metrics-port': '0' });
  const udp = await spawnServer(t, udpArgs.slice(1));
  const socket = await udpSocket(t);
  assert.equal((await roundTrip(socket, udp.port, Buffer.from('ping'), 2000))?.toString(), 'ping');
  const udpBase = /(http:\/\/127\.0\.0\.1:\d+)\/metrics$/.exec(await udp.waitForLine(/^tcpecho metrics on /))?.[1] as string;
  for (const probe of [container(pod, 'udp').readinessProbe, container(pod, 'udp').livenessProbe]) {
    assert.equal((await httpGet(`${udpBase}${probe?.httpGet?.path ?? ''}`)).status, 200, `udp ${probe?.httpGet?.path}`);
  }

  const benchArgs = container(jobSpec.template.spec, 'bench').args ?? [];
  const bench = await runCli(['bench', '127.0.0.1', String(server.port), ...rewritten(benchArgs.slice(3), { '--duration': '1', '--connections': '4' })], { timeoutMs: 30_000 });
  assert.equal(bench.code, 0, bench.stderr);
  assert.equal(bench.stderr, '');
  const result = JSON.parse(bench.stdout.toString()) as { messages: number; errorTotal: number };
  assert.ok(result.messages > 0);
  assert.equal(result.errorTotal, 0);
});
