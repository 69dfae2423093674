/**
 * deploy/kubernetes/, checked without a cluster:
 *
 * 1. Every YAML document under it validates against the Kubernetes OpenAPI
 *    schema of its kind (kubernetes-models); container and probe keys are
 *    checked by name too, since those schemas accept unknown keys (a
 *    misspelt `readinesProbe` would otherwise pass and never run).
 * 2. The Switchyard config inside each ConfigMap loads with the proxy's own
 *    loader (parseConfigText), and each Deployment's Switchyard container
 *    agrees with it: --config is the mounted ConfigMap key, the HTTP probes
 *    are /readyz and /healthz on the admin port, admin is not loopback-only
 *    (the kubelet probes the pod IP), a grpc probe hits a listener with
 *    health_service on, containerPorts are exactly the listener and admin
 *    ports, Services target a listener port, DNS endpoints name a headless
 *    Service of the same directory with that port, and the grace period
 *    outlasts the proxy's 25 s shutdown.
 * 3. The same checks reject broken copies of the manifests.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap, type IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import { Service, type IService } from 'kubernetes-models/v1/Service';
import { ConfigError } from '../../src/config/config-error.js';
import { requireDuration } from '../../src/config/duration.js';
import { parseHostPort } from '../../src/config/host-port.js';
import { parseConfigText } from '../../src/config/load-config.js';
import { DEFAULTS, type Config } from '../../src/config/schema.js';
import { REPO_ROOT } from '../helpers/repo-root.js';

const repoRoot = REPO_ROOT;
const K8S_DIR = join(repoRoot, 'deploy', 'kubernetes');
/** The longest drain (drain_delay + drain_timeout) a mounted config may ask for, in seconds. */
const SHUTDOWN_GRACE_SECONDS = 25;

interface Validatable {
  validate(): void;
}

/** The kinds used under deploy/kubernetes, by `apiVersion/kind`. */
const MODELS: Record<string, (doc: never) => Validatable> = {
  'v1/ConfigMap': (doc) => new ConfigMap(doc),
  'v1/Service': (doc) => new Service(doc),
  'apps/v1/Deployment': (doc) => new Deployment(doc),
  'policy/v1/PodDisruptionBudget': (doc) => new PodDisruptionBudget(doc),
};

/** Every field of core/v1 Container and Probe (Kubernetes 1.31). */
const CONTAINER_KEYS = new Set([
  'args',
  'command',
  'env',
  'envFrom',
  'image',
  'imagePullPolicy',
  'lifecycle',
  'livenessProbe',
  'name',
  'ports',
  'readinessProbe',
  'resizePolicy',
  'resources',
  'restartPolicy',
  'securityContext',
  'startupProbe',
  'stdin',
  'stdinOnce',
  'terminationMessagePath',
  'terminationMessagePolicy',
  'tty',
  'volumeDevices',
  'volumeMounts',
  'workingDir',
]);
const PROBE_KEYS = new Set([
  'exec',
  'failureThreshold',
  'grpc',
  'httpGet',
  'initialDelaySeconds',
  'periodSeconds',
  'successThreshold',
  'tcpSocket',
  'terminationGracePeriodSeconds',
  'timeoutSeconds',
]);

interface Manifest {
  /** Path relative to the repository, with `#N` for the N-th document. */
  readonly where: string;
  readonly doc: Record<string, unknown>;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(entry.name) ? [path] : [];
  });
}

function loadManifests(file: string): Manifest[] {
  const rel = relative(repoRoot, file);
  return parseAllDocuments(readFileSync(file, 'utf8')).flatMap((document, index) => {
    if (document.errors.length > 0) {
      throw new Error(
        `${rel}#${String(index)}: ${document.errors.map((e) => e.message).join('; ')}`,
      );
    }
    const doc: unknown = document.toJS();
    if (doc === null) return []; // an empty document (a trailing ---)
    if (typeof doc !== 'object' || Array.isArray(doc)) {
      throw new Error(`${rel}#${String(index)}: not a mapping`);
    }
    return [{ where: `${rel}#${String(index)}`, doc: doc as Record<string, unknown> }];
  });
}

/** Problems of one manifest against its kind's schema, and of its container and probe keys. */
function schemaProblems({ where, doc }: Manifest): string[] {
  const key = `${String(doc['apiVersion'])}/${String(doc['kind'])}`;
  const model = MODELS[key];
  if (model === undefined) return [`${where}: no model for ${key}; add it to MODELS`];
  const problems: string[] = [];
  try {
    model(doc as never).validate();
  } catch (error) {
    problems.push(`${where} (${key}): ${error instanceof Error ? error.message : String(error)}`);
  }
  if (key === 'apps/v1/Deployment') {
    for (const container of podContainers(doc as unknown as IDeployment)) {
      const at = `${where} container ${container.name}`;
      for (const k of Object.keys(container))
        if (!CONTAINER_KEYS.has(k)) problems.push(`${at}: unknown key ${k}`);
      for (const probeKey of ['startupProbe', 'readinessProbe', 'livenessProbe'] as const) {
        for (const k of Object.keys(container[probeKey] ?? {}))
          if (!PROBE_KEYS.has(k)) problems.push(`${at} ${probeKey}: unknown key ${k}`);
      }
    }
  }
  return problems;
}

function podContainers(deployment: IDeployment): IContainer[] {
  return [
    ...(deployment.spec?.template.spec?.initContainers ?? []),
    ...(deployment.spec?.template.spec?.containers ?? []),
  ];
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host.startsWith('127.') || host === '::1';
}

function portOf(address: string): number {
  return parseHostPort(address)?.port ?? -1;
}

/** A probe's or Service's port (number or container port name) as a number. */
function resolvePort(container: IContainer, port: number | string | undefined): number | undefined {
  if (typeof port === 'number') return port;
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

function httpProbe(
  probe: IProbe | undefined,
): { path: string | undefined; port: number | string } | undefined {
  return probe?.httpGet === undefined
    ? undefined
    : { path: probe.httpGet.path, port: probe.httpGet.port };
}

/**
 * Problems of the Switchyard pods in one directory's manifests: each
 * Deployment's `switchyard*` container against the config in its ConfigMap.
 * `configs` receives each loaded config (for the caller's own checks).
 */
function podProblems(manifests: readonly Manifest[], configs: Config[] = []): string[] {
  const problems: string[] = [];
  const ofKind = (kind: string): Manifest[] => manifests.filter((m) => m.doc['kind'] === kind);
  const configMaps = ofKind('ConfigMap').map((m) => ({
    where: m.where,
    doc: m.doc as unknown as IConfigMap,
  }));
  const services = ofKind('Service').map((m) => ({
    where: m.where,
    doc: m.doc as unknown as IService,
  }));
  const deployments = ofKind('Deployment').map((m) => ({
    where: m.where,
    doc: m.doc as unknown as IDeployment,
  }));
  if (deployments.length === 0) problems.push('no Deployment');

  for (const { where, doc: deployment } of deployments) {
    const namespace = deployment.metadata?.namespace;
    const pod = deployment.spec?.template;
    const labels = pod?.metadata?.labels ?? {};
    for (const [k, v] of Object.entries(deployment.spec?.selector.matchLabels ?? {}))
      if (labels[k] !== v)
        problems.push(`${where}: selector ${k}=${v} does not match the pod labels`);
    const grace = pod?.spec?.terminationGracePeriodSeconds;
    if (grace === undefined || grace <= SHUTDOWN_GRACE_SECONDS)
      problems.push(
        `${where}: terminationGracePeriodSeconds ${String(grace)} must exceed the proxy's ${String(SHUTDOWN_GRACE_SECONDS)} s shutdown`,
      );
    const container = pod?.spec?.containers.find((c) => c.image?.startsWith('switchyard') === true);
    if (container === undefined) {
      problems.push(`${where}: no container with a switchyard image`);
      continue;
    }
    const at = `${where} container ${container.name}`;

    // --config FILE: a key of a ConfigMap mounted at FILE's directory.
    const args = container.args ?? [];
    const configPath = args[args.indexOf('--config') + 1];
    if (!args.includes('--config') || configPath === undefined) {
      problems.push(`${at}: no --config FILE in args`);
      continue;
    }
    const mount = container.volumeMounts?.find((m) => m.mountPath === posix.dirname(configPath));
    const volume = pod?.spec?.volumes?.find((v) => v.name === mount?.name);
    const configMapName = volume?.configMap?.name;
    const configMap = configMaps.find(
      (c) => c.doc.metadata?.name === configMapName && c.doc.metadata?.namespace === namespace,
    );
    const text = configMap?.doc.data?.[posix.basename(configPath)];
    if (configMap === undefined || text === undefined) {
      problems.push(
        `${at}: --config ${configPath} is not a key of a ConfigMap of this directory mounted at ${posix.dirname(configPath)}`,
      );
      continue;
    }
    let config: Config;
    try {
      config = parseConfigText(text, `${configMap.where} data.${posix.basename(configPath)}`);
    } catch (error) {
      problems.push(error instanceof ConfigError ? error.message : String(error));
      continue;
    }
    configs.push(config);

    // Admin: reachable from the kubelet, probed on the right paths and port.
    const adminAddress = config.admin?.address;
    if (adminAddress === undefined) {
      problems.push(`${at}: the config has no admin address to probe`);
      continue;
    }
    const adminHost = parseHostPort(adminAddress)?.host ?? '';
    if (isLoopback(adminHost))
      problems.push(`${at}: admin ${adminAddress} is loopback-only; the kubelet probes the pod IP`);
    const adminPort = portOf(adminAddress);
    for (const [name, path] of [
      ['readinessProbe', '/readyz'],
      ['livenessProbe', '/healthz'],
    ] as const) {
      const probe = httpProbe(container[name]);
      if (probe === undefined) problems.push(`${at}: no ${name} httpGet`);
      else {
        if (probe.path !== path)
          problems.push(`${at}: ${name} path ${String(probe.path)}, not ${path}`);
        const port = resolvePort(container, probe.port);
        if (port !== adminPort)
          problems.push(
            `${at}: ${name} port ${String(probe.port)}, not the admin port ${String(adminPort)}`,
          );
      }
    }

    // A grpc probe on a listener that answers grpc.health.v1 itself.
    const grpcProbes = [container.startupProbe, container.readinessProbe, container.livenessProbe]
      .map((p) => p?.grpc)
      .filter((g) => g !== undefined);
    if (grpcProbes.length === 0) problems.push(`${at}: no grpc probe`);
    for (const probe of grpcProbes) {
      const listener = config.listeners.find((l) => portOf(l.address) === probe.port);
      if (listener === undefined)
        problems.push(`${at}: grpc probe port ${String(probe.port)} is no listener's port`);
      else if (listener.health_service === false)
        problems.push(
          `${at}: grpc probe on listener ${listener.name}, whose health_service is off`,
        );
      else if (isLoopback(parseHostPort(listener.address)?.host ?? ''))
        problems.push(
          `${at}: listener ${listener.name} is loopback-only; the kubelet probes the pod IP`,
        );
      if ((probe.service ?? '') !== '')
        problems.push(`${at}: grpc probe asks about ${String(probe.service)}, not "" (the proxy)`);
    }

    // containerPorts: exactly the listeners' ports and the admin port.
    const declared = (container.ports ?? []).map((p) => p.containerPort).sort((a, b) => a - b);
    const configured = [
      ...new Set([...config.listeners.map((l) => portOf(l.address)), adminPort]),
    ].sort((a, b) => a - b);
    if (JSON.stringify(declared) !== JSON.stringify(configured))
      problems.push(
        `${at}: containerPorts ${JSON.stringify(declared)}, config ports ${JSON.stringify(configured)}`,
      );

    // Services selecting these pods send clients to a listener, not to admin or the app.
    const listenerPorts = new Set(config.listeners.map((l) => portOf(l.address)));
    for (const { where: serviceAt, doc: service } of services) {
      const selector = service.spec?.selector ?? {};
      const selects =
        service.metadata?.namespace === namespace &&
        Object.keys(selector).length > 0 &&
        Object.entries(selector).every(([k, v]) => labels[k] === v);
      if (!selects) continue;
      for (const port of service.spec?.ports ?? []) {
        const target = resolvePort(container, port.targetPort ?? port.port);
        if (target === undefined || !listenerPorts.has(target))
          problems.push(
            `${serviceAt}: port ${String(port.name)} targets ${String(port.targetPort)}, no listener port`,
          );
      }
    }

    // DNS endpoints: a headless Service of this directory, on its port.
    for (const cluster of config.clusters) {
      for (const endpoint of cluster.endpoints) {
        if (typeof endpoint !== 'object' || !('dns' in endpoint)) continue;
        const target = parseHostPort(endpoint.dns);
        const [name, ns, svc] = (target?.host ?? '').split('.');
        const headless = services.find(
          (s) => s.doc.metadata?.name === name && s.doc.metadata?.namespace === ns,
        );
        if (svc !== 'svc' || headless === undefined)
          problems.push(
            `${at}: cluster ${cluster.name}: ${endpoint.dns} names no Service of this directory`,
          );
        else if (headless.doc.spec?.clusterIP !== 'None')
          problems.push(
            `${headless.where}: not headless (clusterIP: None); DNS would give one virtual IP`,
          );
        else if (!(headless.doc.spec.ports ?? []).some((p) => p.port === target?.port))
          problems.push(`${headless.where}: no port ${String(target?.port)} for ${endpoint.dns}`);
      }
    }
  }
  return problems;
}

const files = yamlFiles(K8S_DIR);
const byDirectory = new Map<string, Manifest[]>();
for (const file of files) {
  const dir = relative(K8S_DIR, dirname(file));
  byDirectory.set(dir, [...(byDirectory.get(dir) ?? []), ...loadManifests(file)]);
}

void t.test('every manifest validates against its Kubernetes schema', (t) => {
  t.ok(files.length >= 6, `found ${String(files.length)} manifest files`);
  for (const manifests of byDirectory.values()) {
    for (const manifest of manifests) t.same(schemaProblems(manifest), [], manifest.where);
  }
  t.end();
});

void t.test('the sidecar and edge pods agree with their Switchyard configs', (t) => {
  t.same([...byDirectory.keys()].sort(), ['edge', 'sidecar'], 'one directory per deployment');
  for (const [dir, manifests] of byDirectory) {
    const configs: Config[] = [];
    t.same(podProblems(manifests, configs), [], `deploy/kubernetes/${dir}`);
    t.equal(configs.length, 1, `${dir}: one Switchyard config loaded`);
    for (const config of configs) {
      const drainMs =
        requireDuration(config.drain_delay ?? DEFAULTS.drainDelay) +
        requireDuration(config.drain_timeout ?? DEFAULTS.drainTimeout);
      t.ok(
        drainMs <= SHUTDOWN_GRACE_SECONDS * 1000,
        `${dir}: drain_delay + drain_timeout (${drainMs} ms) fit the ${SHUTDOWN_GRACE_SECONDS} s the grace period outlasts`,
      );
    }
  }
  const edge: Config[] = [];
  podProblems(byDirectory.get('edge') ?? [], edge);
  t.ok(
    edge[0]?.clusters.some((c) => c.endpoints.some((e) => typeof e === 'object' && 'dns' in e)),
    'the edge proxy finds its backends by DNS',
  );
  t.end();
});

/** A deep copy of `dir`'s manifests with `edit` applied to the document of `kind`. */
function mutated(
  dir: string,
  kind: string,
  edit: (doc: Record<string, unknown>) => void,
): Manifest[] {
  return (byDirectory.get(dir) ?? []).map((m) => {
    const doc = structuredClone(m.doc);
    if (doc['kind'] === kind) edit(doc);
    return { where: m.where, doc };
  });
}

function editConfig(doc: Record<string, unknown>, edit: (text: string) => string): void {
  const data = doc['data'] as Record<string, string>;
  data['config.yaml'] = edit(data['config.yaml'] ?? '');
}

function switchyardContainer(doc: Record<string, unknown>): Record<string, unknown> {
  const deployment = doc as unknown as IDeployment;
  const container = deployment.spec?.template.spec?.containers.find((c) => c.name === 'switchyard');
  if (container === undefined) throw new Error('no switchyard container');
  return container as unknown as Record<string, unknown>;
}

void t.test('the checks reject broken manifests', (t) => {
  const cases: [string, Manifest[], RegExp][] = [
    [
      'admin on loopback',
      mutated('sidecar', 'ConfigMap', (doc) =>
        editConfig(doc, (text) => text.replace('0.0.0.0:9901', '127.0.0.1:9901')),
      ),
      /admin 127\.0\.0\.1:9901 is loopback-only/,
    ],
    [
      'readiness on /healthz',
      mutated('sidecar', 'Deployment', (doc) => {
        const probe = switchyardContainer(doc)['readinessProbe'] as IProbe;
        if (probe.httpGet !== undefined) probe.httpGet.path = '/healthz';
      }),
      /readinessProbe path \/healthz, not \/readyz/,
    ],
    [
      'liveness on the listener port',
      mutated('edge', 'Deployment', (doc) => {
        const probe = switchyardContainer(doc)['livenessProbe'] as IProbe;
        if (probe.httpGet !== undefined) probe.httpGet.port = 8080;
      }),
      /livenessProbe port 8080, not the admin port 9901/,
    ],
    [
      'health_service off',
      mutated('edge', 'ConfigMap', (doc) =>
        editConfig(doc, (text) => text.replace('health_service: true', 'health_service: false')),
      ),
      /health_service is off/,
    ],
    [
      'admin port moved',
      mutated('edge', 'ConfigMap', (doc) =>
        editConfig(doc, (text) => text.replace('0.0.0.0:9901', '0.0.0.0:9902')),
      ),
      /containerPorts \[8080,9901\], config ports \[8080,9902\]/,
    ],
    [
      'invalid config',
      mutated('sidecar', 'ConfigMap', (doc) =>
        editConfig(doc, (text) => text.replace('cluster: app', 'cluster: ap')),
      ),
      /unknown cluster "ap"/,
    ],
    [
      'DNS name of another namespace',
      mutated('edge', 'ConfigMap', (doc) =>
        editConfig(doc, (text) => text.replace('.default.svc', '.prod.svc')),
      ),
      /names no Service of this directory/,
    ],
    [
      'Service targeting the admin port',
      mutated('edge', 'Service', (doc) => {
        const service = doc as unknown as IService;
        const port = service.spec?.ports?.[0];
        if (port !== undefined && service.spec?.clusterIP !== 'None') port.targetPort = 'admin';
      }),
      /targets admin, no listener port/,
    ],
    [
      'grace period of 20 s',
      mutated('sidecar', 'Deployment', (doc) => {
        const spec = (doc as unknown as IDeployment).spec?.template.spec;
        if (spec !== undefined) spec.terminationGracePeriodSeconds = 20;
      }),
      /terminationGracePeriodSeconds 20 must exceed/,
    ],
  ];
  for (const [name, manifests, expected] of cases) {
    t.match(podProblems(manifests).join('\n'), expected, name);
  }

  const typo = mutated('sidecar', 'Deployment', (doc) => {
    const container = switchyardContainer(doc);
    container['readinesProbe'] = container['readinessProbe'];
    delete container['readinessProbe'];
  });
  const deployment = typo.find((m) => m.doc['kind'] === 'Deployment');
  t.match(
    deployment === undefined ? '' : schemaProblems(deployment).join('\n'),
    /unknown key readinesProbe/,
    'a misspelt probe key',
  );
  const badPort = mutated('sidecar', 'Deployment', (doc) => {
    const ports = switchyardContainer(doc)['ports'] as { containerPort: unknown }[];
    if (ports[0] !== undefined) ports[0].containerPort = '8080';
  }).find((m) => m.doc['kind'] === 'Deployment');
  t.match(
    badPort === undefined ? '' : schemaProblems(badPort).join('\n'),
    /containerPort must be integer/,
    'a containerPort as a string fails the schema',
  );
  t.end();
});
