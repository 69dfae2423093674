/**
 * The one schema of Switchyard's YAML config: it validates (ajv), documents
 * (the published JSON Schema in schema/), and types (TypeBox `Static`) the
 * config. Key names here are the public interface; add keys, never rename.
 *
 * Defaults live in `DEFAULTS` and are written into the schema as annotations,
 * so editors show them; the compiler reads the same constants with `??`.
 */
import { Type, type Static, type TArray, type TInteger, type TString } from '@sinclair/typebox';

export const DEFAULTS = {
  lbPolicy: 'round_robin',
  choiceCount: 2,
  panicThreshold: 50,
  connectTimeout: '5s',
  xForwardedFor: 'append',
  maxRequests: 1024,
  maxPending: 1024,
  maxConnections: 1024,
  retryBudgetPercent: 20,
  minRetryConcurrency: 3,
  retryOn: ['unavailable'],
  maxAttempts: 3,
  retryBackoffBase: '25ms',
  retryBackoffMax: '250ms',
  retryBufferLimit: '64KiB',
  retryHold: '100ms',
  hedgeMaxAttempts: 2,
  hedgeNonFatalOn: ['unavailable'],
  maxConcurrentStreams: 1000,
  maxHeaderListSize: '16KiB',
  maxResetsPerSecond: 100,
  maxPingsPerSecond: 100,
  clientIdleTimeout: '1h',
  handshakeTimeout: '10s',
  maxClientConnections: 10000,
  endpointWeight: 1,
  streamWindow: '1MiB',
  connectionWindow: '8MiB',
  idleTimeout: '1h',
  keepaliveTimeout: '20s',
  dnsRefresh: '5s',
  healthService: true,
  healthCheckInterval: '5s',
  healthCheckTimeout: '1s',
  unhealthyThreshold: 3,
  healthyThreshold: 2,
  healthCheckGrpcService: '',
  healthCheckHttpPath: '/healthz',
  healthCheckExpectedStatuses: [200],
  outlierConsecutiveFailures: 5,
  outlierFailureCodes: ['unavailable', 'internal', 'unknown', 'data-loss'],
  outlierBaseEjectionTime: '30s',
  outlierMaxEjectionTime: '300s',
  outlierMaxEjectionPercent: 50,
  drainDelay: '0s',
  engine: 'switchyard',
  workers: 1,
  drainTimeout: '25s',
} as const;

const strict = { additionalProperties: false } as const;

/** A name that can appear in logs and metrics labels. */
const Name = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$',
  maxLength: 128,
  description: 'Letters, digits, "_", "." and "-", starting with a letter or digit.',
});

/** `250ms`, `5s`, `1m30s`: decimal numbers with units h, m, s, ms, us. */
const Duration = (description: string, defaultValue?: string): TString =>
  Type.String({
    format: 'duration',
    description,
    ...(defaultValue === undefined ? {} : { default: defaultValue }),
  });

/** `64KiB`, `16MiB`, `512`: bytes with an optional binary or decimal unit. */
const ByteSize = (description: string, defaultValue?: string): TString =>
  Type.String({
    format: 'byte-size',
    description,
    ...(defaultValue === undefined ? {} : { default: defaultValue }),
  });

/** host:port to listen on; port 0 asks the OS for a free port. */
const ListenAddress = Type.String({
  format: 'listen-address',
  description: 'host:port to bind, e.g. 0.0.0.0:8080 or [::]:8080 (port 0 = any free port).',
});

/** host:port of a backend. */
const EndpointAddress = Type.String({
  format: 'endpoint-address',
  description: 'host:port of a backend, e.g. 10.0.0.7:50051.',
});

export const TlsSchema = Type.Object(
  {
    cert: Type.String({ minLength: 1, description: 'PEM certificate chain file.' }),
    key: Type.String({ minLength: 1, description: 'PEM private key file.' }),
    client_ca: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'PEM CA bundle file: clients must present a certificate signed by it (mTLS); default: no client certificate asked for.',
      }),
    ),
  },
  {
    ...strict,
    description:
      'Serve TLS (1.2 or later) with ALPN h2 instead of cleartext h2c. The cert, key and client_ca files are reloaded when they change.',
  },
);

export const UpstreamTlsSchema = Type.Object(
  {
    ca: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'PEM CA bundle file to verify backends with; default: the system roots.',
      }),
    ),
    cert: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'PEM client certificate chain file (mTLS to the backends); needs key.',
      }),
    ),
    key: Type.Optional(
      Type.String({ minLength: 1, description: 'PEM private key file of cert; needs cert.' }),
    ),
    server_name: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'SNI and the name the backend certificate must carry; default: the endpoint host when it is a name (an IP endpoint is verified against the certificate’s IP SANs).',
      }),
    ),
    insecure_skip_verify: Type.Optional(
      Type.Boolean({
        default: false,
        description: 'Accept any backend certificate (testing only: no protection against MITM).',
      }),
    ),
  },
  {
    ...strict,
    description: 'Connect to the cluster’s backends over TLS (1.2 or later, ALPN h2).',
  },
);

export const ListenerLimitsSchema = Type.Object(
  {
    max_concurrent_streams: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 2 ** 31 - 1,
        default: DEFAULTS.maxConcurrentStreams,
        description: 'SETTINGS_MAX_CONCURRENT_STREAMS advertised to each client connection.',
      }),
    ),
    max_header_list_size: Type.Optional(
      ByteSize('Largest request header block accepted.', DEFAULTS.maxHeaderListSize),
    ),
    max_message_size: Type.Optional(
      ByteSize(
        'Largest gRPC message accepted in either direction; a larger one ends the call with RESOURCE_EXHAUSTED. Default: no limit.',
      ),
    ),
    stream_window: Type.Optional(
      ByteSize(
        'HTTP/2 receive window per stream advertised to clients: bytes a client may send ahead before the proxy has passed them on.',
        DEFAULTS.streamWindow,
      ),
    ),
    connection_window: Type.Optional(
      ByteSize(
        'HTTP/2 receive window per client connection (all its streams together).',
        DEFAULTS.connectionWindow,
      ),
    ),
    max_resets_per_second: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1_000_000,
        default: DEFAULTS.maxResetsPerSecond,
        description:
          'Streams a client may reset (or abandon) per second on one connection, with bursts of twice this; past it the connection gets GOAWAY ENHANCE_YOUR_CALM and is closed (rapid reset, CVE-2023-44487).',
      }),
    ),
    max_pings_per_second: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1_000_000,
        default: DEFAULTS.maxPingsPerSecond,
        description:
          'PING and SETTINGS frames a client may send per second on one connection, with bursts of twice this; past it the connection gets GOAWAY ENHANCE_YOUR_CALM and is closed.',
      }),
    ),
    idle_timeout: Type.Optional(
      Duration(
        'A client connection with no stream open for this long gets GOAWAY and is closed.',
        DEFAULTS.clientIdleTimeout,
      ),
    ),
    handshake_timeout: Type.Optional(
      Duration(
        'A connection that has not completed its TLS handshake and sent the HTTP/2 preface (client SETTINGS) this long after it was accepted is closed.',
        DEFAULTS.handshakeTimeout,
      ),
    ),
    max_connections: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1_000_000,
        default: DEFAULTS.maxClientConnections,
        description:
          'Client connections open at once on this listener; a connection past it is closed as soon as it is accepted.',
      }),
    ),
  },
  strict,
);

export const ListenerSchema = Type.Object(
  {
    name: Name,
    address: ListenAddress,
    tls: Type.Optional(TlsSchema),
    x_forwarded_for: Type.Optional(
      Type.Union([Type.Literal('append'), Type.Literal('off')], {
        default: DEFAULTS.xForwardedFor,
        description: 'append: add the client address to x-forwarded-for; off: leave it as is.',
      }),
    ),
    limits: Type.Optional(ListenerLimitsSchema),
    health_service: Type.Optional(
      Type.Boolean({
        default: DEFAULTS.healthService,
        description:
          'Answer grpc.health.v1.Health/Check and /Watch on this listener from the proxy itself (docs/health.md); false routes them like any other call.',
      }),
    ),
  },
  strict,
);

export const RouteMatchSchema = Type.Object(
  {
    service: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z_][A-Za-z0-9_.]*$',
        description: 'Fully qualified gRPC service, e.g. helloworld.Greeter.',
      }),
    ),
    method: Type.Optional(
      Type.String({
        pattern: '^/[A-Za-z_][A-Za-z0-9_.]*/[A-Za-z_][A-Za-z0-9_]*$',
        description: 'Full gRPC method path, e.g. /helloworld.Greeter/SayHello.',
      }),
    ),
    prefix: Type.Optional(
      Type.String({ pattern: '^/', description: 'Request path prefix, e.g. /pkg. or /.' }),
    ),
    authority: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          ':authority to match, e.g. api.example.com or *.example.com (port ignored unless given).',
      }),
    ),
    headers: Type.Optional(
      Type.Record(Type.String({ pattern: '^[a-z0-9_.-]+$' }), Type.String(), {
        // TypeBox emits only patternProperties; without this, a key that fails the
        // pattern (X-Tenant) is accepted and the header silently never matches.
        additionalProperties: false,
        description: 'Header name (lower case) to exact value; all must match.',
      }),
    ),
  },
  {
    ...strict,
    description: 'All given conditions must hold; an empty match matches every request.',
  },
);

export const WeightedClusterSchema = Type.Object(
  {
    name: Name,
    weight: Type.Integer({
      minimum: 1,
      maximum: 10000,
      description:
        'Relative share of the route’s calls, 1 to 10000 (0 is not allowed: to send a cluster no calls, remove its entry).',
    }),
  },
  strict,
);

/** gRPC status names in config spelling (`data-loss`), OK excluded. */
const GRPC_FAILURE_CODE_NAMES = [
  'cancelled',
  'unknown',
  'invalid-argument',
  'deadline-exceeded',
  'not-found',
  'already-exists',
  'permission-denied',
  'resource-exhausted',
  'failed-precondition',
  'aborted',
  'out-of-range',
  'unimplemented',
  'internal',
  'unavailable',
  'data-loss',
  'unauthenticated',
] as const;

/** What a retry policy retries on: gRPC status names, and failures of the upstream stream. */
const RETRY_CONDITIONS = [
  ...GRPC_FAILURE_CODE_NAMES,
  'reset',
  'connect-failure',
  'refused-stream',
] as const;

/** A list of failures in config spelling (`retry_on`, `non_fatal_on`): failure-conditions.ts reads it. */
const FailureCondition = Type.Union(RETRY_CONDITIONS.map((name) => Type.Literal(name)));
const FailureConditionList = (
  defaultValue: readonly string[],
  description: string,
): TArray<typeof FailureCondition> =>
  Type.Array(FailureCondition, {
    uniqueItems: true,
    minItems: 1,
    default: [...defaultValue],
    description,
  });

export const RetryPolicySchema = Type.Object(
  {
    retry_on: Type.Optional(
      FailureConditionList(
        DEFAULTS.retryOn,
        'gRPC statuses (config spelling) from a trailers-only reply or from trailers before any response message, and upstream failures: reset (stream reset or connection lost), connect-failure, refused-stream. A listed status also matches the proxy’s own upstream failures with that status (unavailable matches a lost connection).',
      ),
    ),
    max_attempts: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 5,
        default: DEFAULTS.maxAttempts,
        description: 'Attempts including the first (gRFC A6 caps it at 5).',
      }),
    ),
    per_try_timeout: Type.Optional(
      Duration(
        'Longest one attempt may wait before the call is committed; then it is cancelled and retried. The call’s deadline still bounds all attempts. Default: none.',
      ),
    ),
    backoff: Type.Optional(
      Type.Object(
        {
          base: Type.Optional(
            Duration('First retry’s back-off ceiling.', DEFAULTS.retryBackoffBase),
          ),
          max: Type.Optional(Duration('Largest back-off ceiling.', DEFAULTS.retryBackoffMax)),
        },
        {
          ...strict,
          description:
            'Full jitter: retry n waits random(0, min(base × 2^(n-1), max)). A valid grpc-retry-pushback-ms from the backend replaces it.',
        },
      ),
    ),
    buffer_limit: Type.Optional(
      ByteSize(
        'Request bytes kept for replay; a call whose request outgrows it is committed and not retried.',
        DEFAULTS.retryBufferLimit,
      ),
    ),
    hold: Type.Optional(
      Duration(
        'Longest the proxy holds the backend’s response headers while a retry is still possible (the first response message or this, whichever comes first, commits the call).',
        DEFAULTS.retryHold,
      ),
    ),
  },
  {
    ...strict,
    description:
      'Retries a failed call to another endpoint until it is committed (response message forwarded, request beyond buffer_limit, or hold passed).',
  },
);

export const HedgePolicySchema = Type.Object(
  {
    delay: Duration(
      'Another attempt goes to another endpoint when no attempt has answered (response headers) after this long; then again after each further delay.',
    ),
    max_attempts: Type.Optional(
      Type.Integer({
        minimum: 2,
        maximum: 5,
        default: DEFAULTS.hedgeMaxAttempts,
        description: 'Attempts at most, the first included (gRFC A6 caps it at 5).',
      }),
    ),
    non_fatal_on: Type.Optional(
      FailureConditionList(
        DEFAULTS.hedgeNonFatalOn,
        'Failures of one attempt that let the others (and further hedges) go on; any other reply is forwarded at once. Same spelling as retry_on.',
      ),
    ),
  },
  {
    ...strict,
    description:
      'Hedging: send the call to several endpoints, staggered by delay; the first response wins and the others are cancelled. Only on routes with idempotent: true, and not together with retry.',
  },
);

export const RouteSchema = Type.Object(
  {
    name: Name,
    match: RouteMatchSchema,
    // Exactly one of cluster and clusters: checked in semantic-checks.ts, for clearer messages than oneOf.
    cluster: Type.Optional(Name),
    clusters: Type.Optional(
      Type.Array(WeightedClusterSchema, {
        minItems: 1,
        description:
          'Traffic split: each call picks one cluster at random in proportion to its weight, e.g. [{name: v1, weight: 90}, {name: v2, weight: 10}]. Give this or cluster, not both.',
      }),
    ),
    timeout: Type.Optional(
      Duration(
        'Longest a call on this route may take, retries included; the earlier of this and the client’s grpc-timeout applies. Default: none, so long streams live until they end.',
      ),
    ),
    retry: Type.Optional(RetryPolicySchema),
    hedge: Type.Optional(HedgePolicySchema),
    idempotent: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          'The route’s calls may run more than once without harm (a precondition for hedge).',
      }),
    ),
  },
  strict,
);

export const EndpointObjectSchema = Type.Object(
  {
    address: EndpointAddress,
    weight: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 10000, default: DEFAULTS.endpointWeight }),
    ),
  },
  strict,
);

export const DnsEndpointSchema = Type.Object(
  {
    dns: Type.String({
      format: 'dns-target',
      description:
        'name:port: every A and AAAA record of the name is an endpoint on that port, e.g. greeter.internal:50051.',
    }),
    refresh: Type.Optional(
      Type.String({
        format: 'dns-refresh',
        default: DEFAULTS.dnsRefresh,
        description:
          'How often the name is resolved again (at least 100ms). Endpoints that appear join; endpoints that vanish drain.',
      }),
    ),
    weight: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 10000,
        default: DEFAULTS.endpointWeight,
        description: 'Weight of each endpoint the name resolves to.',
      }),
    ),
  },
  strict,
);

export const EndpointSchema = Type.Union(
  [EndpointAddress, EndpointObjectSchema, DnsEndpointSchema],
  {
    description:
      '"host:port" shorthand, {address: host:port, weight: N}, or {dns: name:port, refresh: 5s, weight: N}.',
  },
);

export const CircuitBreakerSchema = Type.Object(
  {
    max_requests: Type.Optional(
      Type.Integer({
        minimum: 1,
        default: DEFAULTS.maxRequests,
        description: 'Calls in flight to the cluster at once; beyond it calls fail UNAVAILABLE.',
      }),
    ),
    max_pending: Type.Optional(
      Type.Integer({
        minimum: 1,
        default: DEFAULTS.maxPending,
        description:
          'Calls waiting for an upstream connection to be established; beyond it calls fail UNAVAILABLE.',
      }),
    ),
    max_connections: Type.Optional(
      Type.Integer({
        minimum: 1,
        default: DEFAULTS.maxConnections,
        description:
          'Upstream HTTP/2 connections of the cluster, all endpoints together. At the cap calls share the open connections; a call to an endpoint with none fails UNAVAILABLE.',
      }),
    ),
    max_retries: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          'Retries in flight at once in the cluster (a fixed cap; the stricter of this and retry_budget applies). Default: only the retry budget limits them.',
      }),
    ),
  },
  {
    ...strict,
    description:
      'Cluster-wide limits (Envoy’s circuit-breaker counters). A call past one fails at once with UNAVAILABLE naming the limit and is not retried.',
  },
);

export const RetryBudgetSchema = Type.Object(
  {
    budget_percent: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 100,
        default: DEFAULTS.retryBudgetPercent,
        description:
          'Retries in flight may not exceed this percent of the cluster’s active calls (100 lets every call retry).',
      }),
    ),
    min_retry_concurrency: Type.Optional(
      Type.Integer({
        minimum: 0,
        default: DEFAULTS.minRetryConcurrency,
        description: 'Retries always allowed in flight, whatever the percentage gives.',
      }),
    ),
  },
  {
    ...strict,
    description:
      'Caps retries in flight so that an outage cannot multiply load. On by default (20%, at least 3).',
  },
);

export const OutlierDetectionSchema = Type.Object(
  {
    consecutive_failures: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1000,
        default: DEFAULTS.outlierConsecutiveFailures,
        description: 'Failed calls in a row that eject an endpoint.',
      }),
    ),
    failure_codes: Type.Optional(
      Type.Array(Type.Union(GRPC_FAILURE_CODE_NAMES.map((name) => Type.Literal(name))), {
        uniqueItems: true,
        default: [...DEFAULTS.outlierFailureCodes],
        description:
          'gRPC statuses (as the client saw them) that count as a failed call, in config spelling. Connection failures and resets always count.',
      }),
    ),
    base_ejection_time: Type.Optional(
      Duration(
        'First ejection’s length; the n-th ejection lasts n times this.',
        DEFAULTS.outlierBaseEjectionTime,
      ),
    ),
    max_ejection_time: Type.Optional(
      Duration('Longest ejection.', DEFAULTS.outlierMaxEjectionTime),
    ),
    max_ejection_percent: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 100,
        default: DEFAULTS.outlierMaxEjectionPercent,
        description:
          'Percent of the cluster’s endpoints ejected at once (rounded down; one endpoint may always be ejected).',
      }),
    ),
  },
  {
    ...strict,
    description:
      'Passive health (a circuit breaker per endpoint): consecutive failed calls eject an endpoint for a while; then one probe call decides whether it returns. Off unless set.',
  },
);

export const HashOnSchema = Type.Object(
  {
    header: Type.String({
      pattern: '^[a-z0-9_.-]+$',
      maxLength: 128,
      description: 'Request header (lower case) whose value is hashed, e.g. x-user-id.',
    }),
  },
  {
    ...strict,
    description:
      'ring_hash only (and required there): what a call is hashed on. Calls without the header are spread at random.',
  },
);

/**
 * A duration of at least 10s (gRFC A8: clients never ping more often, so
 * backends that enforce a minimum do not GOAWAY them). Some group must reach
 * 10s on its own: whole h or m, s >= 10, ms >= 10000, us >= 10000000.
 */
const DURATION_GROUP = String.raw`\d+(?:\.\d+)?(?:h|ms|us|m|s)`;
const TEN_SECONDS_GROUP = String.raw`0*(?:[1-9]\d*(?:\.\d+)?(?:h|m)|[1-9]\d+(?:\.\d+)?s|[1-9]\d{4,}(?:\.\d+)?ms|[1-9]\d{7,}(?:\.\d+)?us)`;
const KEEPALIVE_INTERVAL_PATTERN = `^(?:${DURATION_GROUP})*${TEN_SECONDS_GROUP}(?:${DURATION_GROUP})*$`;

export const KeepaliveSchema = Type.Object(
  {
    interval: Type.String({
      format: 'duration',
      pattern: KEEPALIVE_INTERVAL_PATTERN,
      description: 'At least 10s: how often to PING a backend while calls are in flight.',
    }),
    timeout: Type.Optional(
      Duration(
        'A PING not answered within this closes the connection; its calls fail UNAVAILABLE.',
        DEFAULTS.keepaliveTimeout,
      ),
    ),
  },
  {
    ...strict,
    description: 'HTTP/2 keepalive PINGs to backends (gRFC A8). Off unless set.',
  },
);

const Threshold = (description: string, defaultValue: number): TInteger =>
  Type.Integer({ minimum: 1, maximum: 1000, default: defaultValue, description });

export const GrpcHealthCheckSchema = Type.Object(
  {
    service: Type.Optional(
      Type.String({
        default: DEFAULTS.healthCheckGrpcService,
        description:
          'Service name sent in grpc.health.v1 HealthCheckRequest; "" asks about the whole server.',
      }),
    ),
    unimplemented_is_healthy: Type.Optional(
      Type.Boolean({
        default: false,
        description: 'Count a backend without the health service (UNIMPLEMENTED) as healthy.',
      }),
    ),
  },
  { ...strict, description: 'grpc.health.v1.Health/Check over HTTP/2: healthy iff SERVING.' },
);

export const HttpHealthCheckSchema = Type.Object(
  {
    path: Type.Optional(
      Type.String({
        pattern: '^/',
        default: DEFAULTS.healthCheckHttpPath,
        description: 'Path of the HTTP/1.1 GET.',
      }),
    ),
    expected_statuses: Type.Optional(
      Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), {
        minItems: 1,
        default: [...DEFAULTS.healthCheckExpectedStatuses],
        description: 'Statuses that count as healthy.',
      }),
    ),
    port: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 65535,
        description: "Port to probe; default: the endpoint's.",
      }),
    ),
  },
  { ...strict, description: 'HTTP/1.1 GET: healthy iff the status is expected.' },
);

export const TcpHealthCheckSchema = Type.Object(
  {},
  { ...strict, description: 'TCP connect: healthy iff it succeeds within the timeout.' },
);

export const HealthCheckSchema = Type.Object(
  {
    // Exactly one of grpc, http and tcp: checked in health-check-checks.ts, for clearer messages than oneOf.
    grpc: Type.Optional(GrpcHealthCheckSchema),
    http: Type.Optional(HttpHealthCheckSchema),
    tcp: Type.Optional(TcpHealthCheckSchema),
    interval: Type.Optional(
      Duration('Time between checks of one endpoint (10% jitter).', DEFAULTS.healthCheckInterval),
    ),
    timeout: Type.Optional(
      Duration('A check not answered within this fails.', DEFAULTS.healthCheckTimeout),
    ),
    unhealthy_threshold: Type.Optional(
      Threshold(
        'Consecutive failed checks that take an endpoint out.',
        DEFAULTS.unhealthyThreshold,
      ),
    ),
    healthy_threshold: Type.Optional(
      Threshold('Consecutive passed checks that bring it back.', DEFAULTS.healthyThreshold),
    ),
  },
  {
    ...strict,
    description:
      'Active health checks: one of grpc, http or tcp. Endpoints take calls only after their first check passes.',
  },
);

export const ClusterSchema = Type.Object(
  {
    name: Name,
    lb_policy: Type.Optional(
      Type.Union(
        [
          Type.Literal('round_robin'),
          Type.Literal('least_request'),
          Type.Literal('random'),
          Type.Literal('ring_hash'),
          Type.Literal('pick_first'),
        ],
        {
          default: DEFAULTS.lbPolicy,
          description:
            'How each call picks an endpoint: round_robin (smooth weighted), least_request (fewest calls in flight of choice_count sampled), random (weighted), ring_hash (consistent hash of hash_on.header), pick_first (first available in list order).',
        },
      ),
    ),
    choice_count: Type.Optional(
      Type.Integer({
        minimum: 2,
        maximum: 100,
        default: DEFAULTS.choiceCount,
        description:
          'least_request only: distinct endpoints sampled per call; the one with the highest weight / (calls in flight + 1) wins.',
      }),
    ),
    hash_on: Type.Optional(HashOnSchema),
    panic_threshold: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 100,
        default: DEFAULTS.panicThreshold,
        description:
          'Percent of available endpoints below which every endpoint not draining takes calls again (health presumed wrong); 0 turns it off.',
      }),
    ),
    endpoints: Type.Array(EndpointSchema, { minItems: 1 }),
    tls: Type.Optional(UpstreamTlsSchema),
    authority: Type.Optional(
      Type.String({
        minLength: 1,
        // Visible ASCII: it goes out as a header value unchecked (RFC 9113 §8.2.1).
        pattern: '^[\\x21-\\x7e]+$',
        description: ':authority sent upstream; default: the client’s.',
      }),
    ),
    connect_timeout: Type.Optional(
      Duration('Longest wait for a TCP connection to an endpoint.', DEFAULTS.connectTimeout),
    ),
    circuit_breaker: Type.Optional(CircuitBreakerSchema),
    retry_budget: Type.Optional(RetryBudgetSchema),
    outlier_detection: Type.Optional(OutlierDetectionSchema),
    idle_timeout: Type.Optional(
      Duration(
        'A backend connection that carried no call for this long is closed.',
        DEFAULTS.idleTimeout,
      ),
    ),
    keepalive: Type.Optional(KeepaliveSchema),
    health_check: Type.Optional(HealthCheckSchema),
    stream_window: Type.Optional(
      ByteSize(
        'HTTP/2 receive window per stream advertised to the cluster’s backends: bytes a backend may send ahead before the proxy has passed them on.',
        DEFAULTS.streamWindow,
      ),
    ),
    connection_window: Type.Optional(
      ByteSize(
        'HTTP/2 receive window per backend connection (all its streams together).',
        DEFAULTS.connectionWindow,
      ),
    ),
  },
  strict,
);

export const AdminSchema = Type.Object(
  { address: ListenAddress },
  { ...strict, description: 'Admin HTTP/1.1 endpoint: /healthz, /readyz.' },
);

export const ConfigSchema = Type.Object(
  {
    admin: Type.Optional(AdminSchema),
    listeners: Type.Array(ListenerSchema, { minItems: 1 }),
    routes: Type.Array(RouteSchema, {
      minItems: 1,
      description: 'Tried in order; the first match wins.',
    }),
    clusters: Type.Array(ClusterSchema, { minItems: 1 }),
    drain_delay: Type.Optional(
      Duration(
        'On SIGTERM/SIGINT, how long /readyz and the health service report not ready before listeners stop accepting.',
        DEFAULTS.drainDelay,
      ),
    ),
    drain_timeout: Type.Optional(
      Duration(
        'On SIGTERM/SIGINT, how long in-flight calls may run on after GOAWAY; the rest are cancelled with UNAVAILABLE.',
        DEFAULTS.drainTimeout,
      ),
    ),
    engine: Type.Optional(
      Type.Union([Type.Literal('nodejs'), Type.Literal('switchyard')], {
        description:
          'The HTTP/2 implementation carrying calls on both sides: `nodejs` (node:http2) or `switchyard` (the proxy’s own frame-level engine, docs/h2-engine.md). Absent: the SWITCHYARD_ENGINE environment variable, else switchyard. Read at start; a reload that changes it is refused.',
        default: DEFAULTS.engine,
      }),
    ),
    workers: Type.Optional(
      Type.Union([Type.Literal('auto'), Type.Integer({ minimum: 1 })], {
        description:
          'Processes that carry calls: 1 runs everything in one process; N (or `auto`, one per available CPU) runs a primary (config, health checks, discovery, admin) and N worker processes sharing the listener ports (docs/workers.md). The `--workers` flag overrides it. Read at start; a reload that changes it takes effect at the next restart.',
        default: DEFAULTS.workers,
      }),
    ),
  },
  {
    ...strict,
    $id: 'https://switchyard.dev/schema/switchyard.schema.json',
    title: 'Switchyard configuration',
  },
);

export type Config = Static<typeof ConfigSchema>;
export type ListenerConfig = Static<typeof ListenerSchema>;
export type ListenerLimitsConfig = Static<typeof ListenerLimitsSchema>;
export type RouteConfig = Static<typeof RouteSchema>;
export type WeightedClusterConfig = Static<typeof WeightedClusterSchema>;
export type RouteMatchConfig = Static<typeof RouteMatchSchema>;
export type ClusterConfig = Static<typeof ClusterSchema>;
export type UpstreamTlsConfig = Static<typeof UpstreamTlsSchema>;
export type EndpointConfig = Static<typeof EndpointSchema>;
export type DnsEndpointConfig = Static<typeof DnsEndpointSchema>;
export type HealthCheckConfig = Static<typeof HealthCheckSchema>;
export type OutlierDetectionConfig = Static<typeof OutlierDetectionSchema>;
export type RetryPolicyConfig = Static<typeof RetryPolicySchema>;
export type HedgePolicyConfig = Static<typeof HedgePolicySchema>;
export type RetryBudgetConfig = Static<typeof RetryBudgetSchema>;
export type CircuitBreakerConfig = Static<typeof CircuitBreakerSchema>;
/** The HTTP/2 implementation of both sides (`engine:`). */
export type EngineName = NonNullable<Config['engine']>;
