// Every stable code kproxy reports to a user (KPROXY_ERR_* for errors, KPROXY_WARN_* for
// warnings): what it means and what to do. The sentence itself stays where the error is raised
// (it carries the values of the moment); this registry is what docs/errors.md is generated from
// (`node scripts/error-codes-doc.ts`), and `--check` fails when the source uses a code that is not
// here or a code here is used nowhere. KproxyError accepts only these codes (KproxyCode).

export interface ErrorCodeSpec {
  // What happened, in a few words.
  readonly gist: string
  // What the user can do about it.
  readonly action: string
}

export const ERROR_CODES = {
  // configuration and command line
  KPROXY_ERR_CONFIG: {
    gist: 'The config file or a command-line flag is invalid (every problem is listed with file:line:column, key path and what is allowed).',
    action: 'Fix each listed problem; `kproxy check-config FILE` checks a file without starting anything (docs/configuration.md).'
  },
  KPROXY_ERR_USAGE: {
    gist: 'A command got an argument it does not know.',
    action: 'Use the arguments the message lists.'
  },
  // admin API and process supervision
  KPROXY_ERR_ADMIN: {
    gist: 'An admin API request failed inside kproxy.',
    action: 'The request gets HTTP 500; the log line has the cause. Report it if it repeats.'
  },
  KPROXY_ERR_ADMIN_LISTEN: {
    gist: 'The admin HTTP server cannot listen on its address.',
    action: 'Free the port or choose another `admin` address.'
  },
  KPROXY_ERR_WORKER_START: {
    gist: 'A worker thread failed while starting.',
    action: 'Read the cause in the message (a listen error, a bad TLS file); kproxy exits so nothing half-started serves.'
  },
  KPROXY_ERR_WORKER_CRASH: {
    gist: 'A worker thread crashed with an uncaught error.',
    action: 'kproxy replaces it at once; report the logged error, it is a bug.'
  },
  KPROXY_ERR_WORKER_EXIT: {
    gist: 'A worker thread exited unexpectedly.',
    action: 'kproxy restarts it (with a back-off); look for the crash or memory limit in the log before it.'
  },
  KPROXY_ERR_DRAIN_TIMEOUT: {
    gist: 'Requests were still in flight when the shutdown timeout ran out.',
    action: 'Raise `shutdownTimeoutMs` if clients need longer to finish (long polls, large fetches).'
  },
  KPROXY_ERR_LISTEN: {
    gist: 'A listener cannot bind its address or port.',
    action: 'Free the port (another kproxy, a broker) or change `listen` / `brokerPorts`.'
  },
  KPROXY_ERR_INTERNAL: {
    gist: 'An unexpected error in the proxy pipeline; only the connection it happened on is closed.',
    action: 'Report it with the logged stack; it is a bug.'
  },
  // connections, frames and the Kafka protocol
  KPROXY_ERR_CLIENT_SOCKET: {
    gist: 'A client connection failed at socket level (reset, broken pipe).',
    action: 'Usually the client went away; nothing to do unless it is frequent (check the network).'
  },
  KPROXY_ERR_TOO_MANY_OPEN_FILES: {
    gist: 'No file descriptor left for an upstream connection.',
    action: 'Raise kproxy\'s open-files limit (ulimit -n, systemd LimitNOFILE); each client connection needs two.'
  },
  KPROXY_ERR_FRAME_TOO_LARGE: {
    gist: 'A peer announced a frame larger than `maxFrameSize`; its connection is closed.',
    action: 'Raise `brokerMode.maxFrameSize` if such large messages are expected.'
  },
  KPROXY_ERR_FRAME_INVALID_SIZE: {
    gist: 'A peer announced a frame size no Kafka message can have.',
    action: 'The peer does not speak the Kafka protocol (TLS to a plaintext port, HTTP); point it at the right port.'
  },
  KPROXY_ERR_FRAME_TRUNCATED: {
    gist: 'A connection closed in the middle of a frame.',
    action: 'Check the peer\'s logs; it stopped mid-message.'
  },
  KPROXY_ERR_DECODE: {
    gist: 'A Kafka message could not be decoded (malformed, or not what its API key and version say).',
    action: 'The connection is closed; check the client version, or report the frame if the client is a known one.'
  },
  KPROXY_ERR_ENCODE: {
    gist: 'A Kafka message could not be encoded.',
    action: 'Report it; it is a bug in kproxy or in a filter that built the message.'
  },
  KPROXY_ERR_UNKNOWN_API: {
    gist: 'A request uses an API key kproxy\'s protocol definitions do not have.',
    action: 'The client is newer than kproxy or is not speaking Kafka; pin the client or upgrade kproxy.'
  },
  KPROXY_ERR_UNSUPPORTED_VERSION: {
    gist: 'A request uses a version of an API that kproxy cannot decode.',
    action: 'Pin the client to a version in the range the message names.'
  },
  KPROXY_ERR_DENIED_NO_RESPONSE: {
    gist: 'A request that kproxy answers with an error (the API key policy, a filter) has no error field to answer with, so its connection is closed.',
    action: 'Allow that API (`apiKeysAllowed` / `apiKeysDenied`), or let the filter pass it, if clients need it.'
  },
  // old record formats (the version bridge, docs/version-bridge.md)
  KPROXY_ERR_MESSAGE_SET: {
    gist: 'A message set of magic v0/v1 (records of clients older than Kafka 0.11) is malformed: sizes that lie, offsets out of order, nested compression, or more than the decompression limit.',
    action: 'Only that request fails; the client or the stored data is broken.'
  },
  KPROXY_ERR_MESSAGE_SET_CRC: {
    gist: 'A message of magic v0/v1 does not match its CRC-32.',
    action: 'Only that request fails; the producer or the network corrupted the message.'
  },
  // policy: identity, ACLs, quotas (docs/policy.md)
  KPROXY_ERR_CREDENTIALS_FILE: {
    gist: 'The SASL credentials file is invalid (every problem listed with file:line:column); the users loaded before stay.',
    action: 'Fix the file, or rewrite the user with `kproxy users add`.'
  },
  KPROXY_ERR_ACL_RULES: {
    gist: 'An ACL rule set (policy.acl or its rules file) is invalid: a syntax error, an unknown operation or resource; the running rules stay.',
    action: 'Fix each listed problem (file, line, what is allowed); `kproxy acl check` tries a rule set without starting.'
  },
  KPROXY_ERR_ACL_CHECK: {
    gist: '`kproxy acl check` was given no rules to check against.',
    action: 'Give the rules with --rules FILE or --config FILE with a policy.acl section.'
  },
  KPROXY_ERR_QUOTAS: {
    gist: 'A quota file or policy.quotas section is invalid; the running limits stay.',
    action: 'Fix each listed problem (file, line, what is allowed).'
  },
  KPROXY_ERR_QUOTA_CONNECTIONS: {
    gist: 'A client connection was refused by a quota: too many connections open at once, or too many new ones per second, for its principal or client id.',
    action: 'The log line names the limit and where it is set (policy.quotas or the quotas file); raise it, or find why the client opens so many connections.'
  },
  KPROXY_ERR_QUOTA_PARTITIONS: {
    gist: 'A request touched more partitions than its quota allows (partitionsPerRequest); it was answered with POLICY_VIOLATION and did not reach the broker.',
    action: 'Raise the limit where the log line says it is set, or make the client send smaller requests.'
  },
  KPROXY_WARN_QUOTA_RESTART: {
    gist: 'A reloaded quota setting (policy.quotas.maxBuckets or window.samples) changes the shared quota table, which only a restart can do; the running value stays.',
    action: 'Restart kproxy to apply it.'
  },
  KPROXY_WARN_QUOTA_TABLE_FULL: {
    gist: 'The shared quota table is 90% full: new users and client ids with limits are not enforced.',
    action: 'Raise policy.quotas.maxBuckets (restart) to the number of distinct users and client ids with limits.'
  },
  KPROXY_ERR_POLICY_FILE_READ: {
    gist: 'A policy file (rules, quotas, credentials) cannot be read.',
    action: 'Check that it exists and that kproxy may read it.'
  },
  KPROXY_ERR_PRINCIPAL_CERT: {
    gist: 'kproxy cannot issue the upstream certificate of a principal (a name a certificate cannot carry, or a signing failure).',
    action: 'The client is refused; check the principal name and the CA of policy.upstreamIdentity.'
  },
  KPROXY_ERR_SASL_AUTHENTICATION: {
    gist: 'A client failed SASL authentication at kproxy (wrong password, unknown user, a mechanism not offered, a token out of turn, another principal on re-authentication); it was told SASL_AUTHENTICATION_FAILED (or UNSUPPORTED_SASL_MECHANISM / ILLEGAL_SASL_STATE) and the connection closed.',
    action: 'The log line says why (never the password); check the user with `kproxy users list` and the client\'s mechanism against policy.sasl.mechanisms.'
  },
  KPROXY_ERR_SASL_REQUIRED: {
    gist: 'A client sent a request other than ApiVersions before finishing SASL authentication on a listener with SASL termination; the connection was closed and the request never reached the broker.',
    action: 'Configure the client for SASL (security.protocol SASL_PLAINTEXT or SASL_SSL, the mechanism and its credentials).'
  },
  KPROXY_ERR_SASL_SESSION_EXPIRED: {
    gist: 'A SASL session outlived policy.sasl.maxReauthMs and the client sent a request instead of re-authenticating (KIP-368); the connection was closed.',
    action: 'Use a client that re-authenticates (Kafka clients 2.2+), or raise or remove policy.sasl.maxReauthMs.'
  },
  KPROXY_ERR_UPSTREAM_SASL: {
    gist: "kproxy's own SASL login to a broker (policy.sasl.upstream, or mesh.clusters[].sasl in mesh mode) failed or did not finish in time; in broker mode the client connection that needed it was closed, in mesh mode that cluster's partitions get retriable errors until a login succeeds.",
    action: "Check the key the message names (mechanism, username, password) against the user on the brokers; the log says the broker's error."
  },
  KPROXY_ERR_PLAINTEXT_REFUSED: {
    gist: 'A plaintext connection was refused or closed because its listener is (now) strict (brokerMode.tls.mode or mesh.tls.mode).',
    action: 'Move the client to TLS (see kproxy_plaintext_connections_total for who still uses plaintext), or set the mode to permissive while it moves.'
  },
  KPROXY_ERR_UPSTREAM_PASSWORD: {
    gist: "kproxy's own SASL password for the brokers is missing or unreadable.",
    action: 'Set passwordFile or passwordEnv of policy.sasl.upstream (or of mesh.clusters[].sasl) to the password of the configured user.'
  },
  KPROXY_ERR_USERS_NAME: {
    gist: '`kproxy users add` got a user name SASL cannot carry.',
    action: 'Choose a name without control characters.'
  },
  KPROXY_ERR_USERS_PASSWORD: {
    gist: '`kproxy users add` got no usable password (empty, mistyped twice, cancelled, or no terminal to ask on).',
    action: 'Type it twice at the prompt, or pipe it in with --password-stdin.'
  },
  KPROXY_ERR_USERS_READ: {
    gist: 'The credentials file given to `kproxy users` cannot be read.',
    action: 'Check the path; `kproxy users add` creates the file.'
  },
  KPROXY_ERR_USERS_UNKNOWN: {
    gist: '`kproxy users` names a user (or a mechanism of a user) the file does not have.',
    action: '`kproxy users list --file FILE` shows who is there.'
  },
  KPROXY_ERR_USERS_WRITE: {
    gist: 'The credentials file cannot be written; it was not changed.',
    action: 'Check that the directory exists and is writable.'
  },
  // the sandbox and operations (docs/sandbox.md, docs/operations.md)
  KPROXY_ERR_SANDBOX_BROKER_DIED: {
    gist: 'A sandbox broker JVM died too often to restart (or once, with --no-restart); its last error line is in the message.',
    action: 'Read the reason (out of memory: raise --broker-heap); the sandbox exits 1.'
  },
  KPROXY_ERR_HAPROXY_MISSING: {
    gist: '`kproxy sandbox up --replicas N` needs HAProxy, which is not installed.',
    action: 'Install Debian\'s haproxy package (scripts/setup.sh does).'
  },
  KPROXY_ERR_NOT_READY: {
    gist: '`kproxy wait-ready`: the admin API answered, but kproxy did not become ready in time.',
    action: 'Read the reason /ready gives (upstream unreachable, workers not listening); exit code 1.'
  },
  KPROXY_ERR_ADMIN_UNREACHABLE: {
    gist: "A command that talks to a running kproxy's admin API (top, status, clients, wait-ready) got no answer.",
    action: 'Check that `kproxy serve` runs with an admin address (`--admin HOST:PORT` or `admin:` in the config) and pass that address to the command; wait-ready exits 3.'
  },
  // the admin API and the commands that use it (docs/admin-api.md)
  KPROXY_ERR_ADMIN_TOKEN: {
    gist: 'The admin token (admin.token or KPROXY_ADMIN_TOKEN) is unusable: too short, or with characters a header cannot carry.',
    action: 'Use a token of at least 16 printable characters without spaces.'
  },
  KPROXY_ERR_ADMIN_DASHBOARD: {
    gist: "The dashboard's static files (or the chart library in node_modules) cannot be read.",
    action: 'Reinstall the dependencies (`./dev setup`); the rest of the admin API works.'
  },
  KPROXY_ERR_ADMIN_ADDRESS: {
    gist: 'A command got an admin address it cannot use.',
    action: 'Give --admin HOST:PORT (or a port for 127.0.0.1).'
  },
  KPROXY_ERR_ADMIN_UNAUTHORIZED: {
    gist: 'The admin API refused the command: it needs the admin token.',
    action: 'Pass --token or set KPROXY_ADMIN_TOKEN to the admin token of that kproxy.'
  },
  KPROXY_ERR_ADMIN_RESPONSE: {
    gist: 'The admin API answered something the command cannot read (an error status or not JSON).',
    action: 'Check that the address is a kproxy admin API of the same version.'
  },
  KPROXY_WARN_ADMIN_NO_TOKEN: {
    gist: 'The admin API listens beyond loopback without a token: anyone who reaches it can read the config, change the log level and reload.',
    action: 'Set admin.token (or KPROXY_ADMIN_TOKEN), or listen on 127.0.0.1.'
  },
  KPROXY_WARN_STATS_OVERFLOW: {
    gist: 'More distinct label values (or flows) than the stats cap: the rest are counted under "other".',
    action: 'Raise stats.maxLabelValues / stats.maxFlows if Prometheus can take it, or turn the label off.'
  },
  // filters (docs/filters.md)
  KPROXY_ERR_FILTER_CONFIG: {
    gist: 'A filter entry of the config names no filter kproxy has, or the filter refuses its `config:` block.',
    action: 'Fix the entry the message names (file, key, filter); `kproxy check-config FILE` checks it without starting.'
  },
  KPROXY_ERR_FILTER_MODULE: {
    gist: 'A filter module cannot be loaded, or does not export a filter.',
    action: 'Check the path (relative to the config file) and that the module exports `default` (or `filter`) with a name and create(config, env).'
  },
  KPROXY_ERR_FILTER_CREATE: {
    gist: "A filter's create() threw or returned something that is not a filter.",
    action: "Fix the filter module; the worker (or the reload) does not start with it."
  },
  KPROXY_ERR_FILTER_API: {
    gist: 'A filter used the filter API in a way it does not allow (e.g. read a request body in onResponse that was never read in onRequest).',
    action: 'Declare the interest the message names in the filter.'
  },
  KPROXY_ERR_FILTER_FAILED: {
    gist: 'A filter threw, returned something invalid or rejected its promise; only that request got an error response.',
    action: 'Fix the filter named in the log line; kproxy answered the request with UNKNOWN_SERVER_ERROR.'
  },
  KPROXY_ERR_FILTER_TIMEOUT: {
    gist: 'A filter held a request or response longer than `brokerMode.filterHoldTimeoutMs`.',
    action: 'The request got REQUEST_TIMED_OUT; make the filter settle its promise, or raise the timeout.'
  },
  KPROXY_ERR_FILTER_FAILING: {
    gist: 'A filter failed three times on one connection (a hold past `filterHoldTimeoutMs` counts), so kproxy closed that connection instead of answering the third request.',
    action: 'Fix the filter named in the log line; other connections carry on.'
  },
  KPROXY_ERR_FILTER_CLOSED: {
    gist: 'A filter closed the connection on purpose (e.g. faultInjection with close: true).',
    action: 'Nothing, if that was intended; otherwise check the filter and its config.'
  },
  KPROXY_ERR_RECORD_BATCH: {
    gist: 'A record batch is malformed or its compressed records are corrupt.',
    action: 'The producer or the stored batch is damaged; check the producer and the broker\'s log segment.'
  },
  KPROXY_ERR_RECORD_BATCH_CRC: {
    gist: 'A record batch fails its CRC-32C check.',
    action: 'The data was corrupted in transit or on disk; check the network path and the broker\'s disks.'
  },
  KPROXY_ERR_RECORD_BATCH_TOO_LARGE: {
    gist: 'Compressed records expand beyond the decompression limit.',
    action: 'Raise the limit if such batches are expected; otherwise the batch is hostile or corrupt.'
  },
  KPROXY_ERR_UNSUPPORTED_COMPRESSION: {
    gist: 'Records use a compression codec kproxy cannot read or write here.',
    action: 'Use one of the codecs the message lists.'
  },
  // broker mode and the upstream cluster
  KPROXY_ERR_BROKER_PORT_UNMAPPED: {
    gist: 'A response names an upstream broker that has no local port.',
    action: 'Add the broker to `brokerMode.brokerPorts.ports` (or use `base`) so clients can reach it through kproxy.'
  },
  KPROXY_ERR_MESH_UNSUPPORTED_API: {
    gist: 'A client sent mesh mode a request of an API it does not offer in its ApiVersions answer (e.g. ConsumerGroupHeartbeat, share groups, SASL).',
    action: 'Use what the ApiVersions answer lists; for consumer groups the classic protocol (group.protocol=classic). See docs/mesh.md.'
  },
  KPROXY_ERR_UNKNOWN_BROKER: {
    gist: 'A client connected to the port of a broker the upstream cluster no longer lists.',
    action: 'The broker left the cluster or the upstream is unreachable; clients recover after their next Metadata.'
  },
  KPROXY_ERR_UPSTREAM_CONNECT: {
    gist: 'kproxy cannot reach an upstream broker.',
    action: 'Check that Kafka runs and that `brokerMode.upstream` points at it.'
  },
  KPROXY_ERR_UPSTREAM_CLOSED: {
    gist: 'An upstream broker closed the connection with requests in flight.',
    action: 'Look at the broker\'s log (restart, request too large, authentication); the client retries.'
  },
  KPROXY_ERR_UPSTREAM_SOCKET: {
    gist: 'An upstream connection failed at socket level.',
    action: 'Check the network to the brokers.'
  },
  KPROXY_ERR_UPSTREAM_PROTOCOL: {
    gist: 'An upstream broker answered out of order.',
    action: 'The upstream is not a Kafka broker or is broken; check what `brokerMode.upstream` points at.'
  },
  KPROXY_ERR_UPSTREAM_TLS: {
    gist: 'The TLS handshake with an upstream broker failed.',
    action: 'Check `brokerMode.upstreamTls` (CA, client certificate, serverName) against the broker\'s certificate.'
  },
  KPROXY_ERR_UPSTREAM_AUTH_REQUIRED: {
    gist: 'The upstream requires SASL before Metadata, so kproxy cannot learn the brokers by itself.',
    action: 'Nothing to do: kproxy learns the brokers from its clients\' authenticated Metadata responses.'
  },
  KPROXY_WARN_BROKER_PORT_CLOSED: {
    gist: 'An upstream broker refuses connections, so its local port stops listening until it is back.',
    action: 'Clients are refused as by the broker itself; bring the broker back or let clients fail over.'
  },
  KPROXY_WARN_MESH_CLUSTER_DOWN: {
    gist: 'A cluster of the mesh did not answer at start-up; its topics get retriable errors until it answers, the other clusters are served.',
    action: 'Check that cluster and its bootstrap servers in mesh.clusters.'
  },
  KPROXY_WARN_MESH_TRANSACTION_CROSSES_CLUSTERS: {
    gist: 'A transactional producer added a partition (or committed offsets) of a cluster other than its transactional id\'s home cluster; the request was refused with INVALID_TXN_STATE.',
    action: 'Keep a transaction on one cluster, or route its transactional id (mesh.transactions) to the cluster of its topics.'
  },
  KPROXY_WARN_MESH_PRODUCER_ID_FAILED: {
    gist: 'kproxy could not get a producer id of its own on a cluster for an idempotent producer whose id another cluster allocated; that producer\'s partitions on that cluster got a retriable error (its other partitions were written).',
    action: 'Check that cluster (the log line names it and the error); the client retries, and the next batch asks again.'
  },
  KPROXY_WARN_MESH_PRODUCER_IDS_FULL: {
    gist: 'A worker holds as many producer id mappings (client producer id and epoch -> kproxy\'s producer id on another cluster) as it may; the least recently used are dropped before they went idle. Logged at most once a minute.',
    action: 'Expected only with more than 10,000 idempotent producers per worker writing across clusters: add workers or replicas, or route each producer\'s topics to one cluster.'
  },
  KPROXY_WARN_MESH_PRODUCER_ID_LOG_FULL: {
    gist: 'A worker read more producer id mappings from the shared producer id log (mesh.producerIdLog) than it keeps in memory; the oldest were dropped, and from now on a mapping not in memory is looked for in the whole log before a new producer id is taken. Logged once per worker.',
    action: 'Expected only with more than 200,000 mappings written within the log\'s retention: shorten mesh.producerIdLog.retentionMs (keep it above producer.id.expiration.ms), or route each producer\'s topics to one cluster.'
  },
  KPROXY_WARN_MESH_PRODUCER_ID_LOG_RECORD: {
    gist: 'The shared producer id log (mesh.producerIdLog) held a batch kproxy cannot read, and it was skipped (every replica skips it alike), or the log was shorter than what kproxy had read (deleted or truncated), and it is read again from its start.',
    action: 'Keep other writers out of the log topic; if it was deleted on purpose, nothing to do (the mappings are taken again; retries across that change may be written twice on the clusters other than the producer\'s own).'
  },
  KPROXY_WARN_BOOTSTRAP_SERVER_SKIPPED: {
    gist: 'An upstream bootstrap server refused a connection, dropped it or left its first requests unanswered, so new bootstrap connections try the other servers first for 30 s.',
    action: 'Check that broker (a stopped or overloaded JVM answers TCP but not Kafka); clients are served by the other bootstrap servers meanwhile.'
  },
  KPROXY_WARN_SASL_V0_PASSTHROUGH: {
    gist: 'A client used SaslHandshake v0, so its connection became an opaque byte relay (no policy, no address rewriting).',
    action: 'Use a client that sends SaslHandshake v1 (every client of the last years does).'
  },
  KPROXY_WARN_ACL_UNCHECKABLE: {
    gist: 'With policy.acl on, a request the ACL filter cannot check was refused: an API key without ACL checks, or SaslHandshake v0 (which would turn the connection into an opaque relay past every filter).',
    action: 'Use a client that sends SaslHandshake v1; an API kproxy has no ACL checks for needs a newer kproxy.'
  },
  // TLS
  KPROXY_ERR_TLS_FILE: {
    gist: 'A TLS file named in the config cannot be read or used.',
    action: 'Check the path, that kproxy may read it, and that it holds what the key says (certificate, key, CA).'
  },
  KPROXY_ERR_TLS_HANDSHAKE: {
    gist: 'A client\'s TLS handshake was refused (the reason is in tls_handshake_failures).',
    action: 'See docs/tls.md, "Refusals", for each reason and its fix.'
  },
  KPROXY_ERR_TLS_UNKNOWN_SNI: {
    gist: 'SNI routing: the server name a client asked for is neither the bootstrap nor a broker name.',
    action: 'Configure the client with the bootstrap name (`brokerMode.sni.bootstrapName`).'
  },
  KPROXY_ERR_PRINCIPAL_RULE: {
    gist: 'A principal mapping rule is invalid.',
    action: 'Write it as RULE:regex/replacement/[LU], SAN:regex/replacement/[LU] or DEFAULT (docs/tls.md).'
  },
  // certificates
  KPROXY_ERR_CERT_CA: {
    gist: 'The CA certificate or key is not a readable RSA PEM.',
    action: 'Pass the CA made by `kproxy certs init`, or an RSA CA in PEM.'
  },
  KPROXY_ERR_CERT_KEY_SIZE: {
    gist: 'An RSA key size is not supported.',
    action: 'Use one of the sizes the message lists.'
  },
  KPROXY_ERR_CERT_OPTIONS: {
    gist: 'A certificate request is incomplete.',
    action: 'Give the certificate a non-empty name.'
  },
  KPROXY_ERR_CERT_SAN: {
    gist: 'A subject alternative name is not valid.',
    action: 'Write it as DNS:host.name, IP:address or URI:scheme:rest.'
  },
  KPROXY_ERR_CERTS_CA_EXPIRED: {
    gist: 'The CA certificate has expired.',
    action: 'Make a new CA with `kproxy certs init` and reissue the certificates.'
  },
  KPROXY_ERR_CERTS_CA_KEY: {
    gist: 'The CA key is not an RSA key.',
    action: 'Use an RSA CA (kproxy signs with RSA CA keys only).'
  },
  KPROXY_ERR_CERTS_CA_MISSING: {
    gist: 'There is no CA certificate or key in the given directory.',
    action: 'Create a CA with `kproxy certs init`.'
  },
  KPROXY_ERR_CERTS_CA_UNREADABLE: {
    gist: 'The CA certificate is not a PEM certificate.',
    action: 'Pass a directory made by `kproxy certs init`.'
  },
  KPROXY_ERR_CERTS_NOT_CA: {
    gist: 'The given certificate is not a CA certificate.',
    action: 'Pass a directory made by `kproxy certs init` (its certificate has CA:true).'
  },
  KPROXY_ERR_CERTS_DAYS: {
    gist: '--days is not a whole number of days in range.',
    action: 'Give a whole number of days in the range the message names.'
  },
  KPROXY_ERR_CERTS_KEY_SIZE: {
    gist: '--key-size is not a supported RSA key size.',
    action: 'Use one of the sizes the message lists.'
  },
  KPROXY_ERR_CERTS_NAME: {
    gist: 'No certificate name was given.',
    action: 'Give at least one certificate name.'
  },
  KPROXY_ERR_CERTS_SAN: {
    gist: 'A subject alternative name on the command line is not valid.',
    action: 'Write DNS:host.name or IP:address, several separated by commas.'
  },
  KPROXY_ERR_CERTS_USAGE: {
    gist: 'A certificate was asked for neither server nor client use.',
    action: 'Pass --server, --client or both.'
  },
  KPROXY_ERR_CERTS_EXISTS: {
    gist: 'An output file already exists.',
    action: 'Pass --force to overwrite it, or choose another directory.'
  },
  KPROXY_ERR_CERTS_WRITE: {
    gist: 'The certificate files cannot be written.',
    action: 'Check the output directory exists and is writable; the message says what was written.'
  },
  KPROXY_ERR_CERTS_ISSUE: {
    gist: 'Issuing a certificate failed in a worker thread.',
    action: 'Read the cause in the message; report it if it is not about your input.'
  },
  // the real-Kafka sandbox and the code generator
  KPROXY_ERR_SANDBOX_OPTIONS: {
    gist: 'A sandbox option is out of range.',
    action: 'Use the values the message names (a sandbox has 1 or 3 brokers).'
  },
  KPROXY_ERR_SANDBOX_START: {
    gist: 'A sandbox Kafka node or kproxy process failed to start.',
    action: 'Read the log tail in the message (ports in use, Java too old).'
  },
  KPROXY_ERR_SANDBOX_STATE: {
    gist: 'A sandbox command does not fit the sandbox\'s state (no such broker, not running).',
    action: 'Use a broker id the sandbox has (1, or 1 to 3).'
  },
  KPROXY_ERR_SANDBOX_TIMEOUT: {
    gist: 'A sandbox node or process did not become ready in time.',
    action: 'Read the log tail in the message; the machine may be too loaded.'
  },
  KPROXY_ERR_JAVA_MISSING: {
    gist: 'No Java runtime found for the sandbox.',
    action: 'Install Java 17 or newer (the message says how).'
  },
  KPROXY_ERR_MAVEN_MISSING: {
    gist: 'Maven is needed once to download the Kafka jars.',
    action: 'Install Maven (apt-get install maven) and retry.'
  },
  KPROXY_ERR_KAFKA_MISSING: {
    gist: 'The pinned Kafka jars are not in the cache.',
    action: 'Run `kproxy sandbox fetch` (the message names the command).'
  },
  KPROXY_ERR_KAFKA_DOWNLOAD: {
    gist: 'Downloading the Kafka jars with Maven failed.',
    action: 'Read Maven\'s error in the message (network, repository) and retry.'
  },
  KPROXY_ERR_KAFKA_CHECKSUM: {
    gist: 'The Kafka jars do not match the lock file\'s checksums.',
    action: 'Delete the cache directory the message names and fetch again.'
  },
  KPROXY_ERR_KAFKA_JAR_MISSING: {
    gist: 'The kafka-clients jar the code generator reads does not exist.',
    action: 'Fetch the Kafka jars first (the message names the command).'
  },
  KPROXY_ERR_JAR: {
    gist: 'A jar file cannot be read.',
    action: 'Delete it and fetch it again (the message names the command).'
  },
  KPROXY_ERR_GENERATOR: {
    gist: 'The protocol code generator met message definitions it does not understand.',
    action: 'Check that the jar is the pinned kafka-clients release; report it if it is.'
  },
  // benchmarks
  KPROXY_ERR_BENCH_USAGE: {
    gist: 'A bench option or combination is not valid.',
    action: 'Follow the message; `kproxy bench --help` lists the options.'
  },
  KPROXY_ERR_BENCH_CONNECT: {
    gist: 'The benchmark cannot connect to its target.',
    action: 'Check that the target is running at the address given.'
  },
  KPROXY_ERR_BENCH_CONNECTION: {
    gist: 'A benchmark connection failed during the run.',
    action: 'Check the target\'s log; the run is invalid.'
  },
  KPROXY_ERR_BENCH_CONNECTIONS: {
    gist: 'Opening many benchmark connections failed, most likely at the target\'s open-files limit.',
    action: 'Raise the target\'s open-files limit or lower --count.'
  },
  KPROXY_ERR_BENCH_PROTOCOL: {
    gist: 'The benchmark target sent a response to no request.',
    action: 'The target is broken or not Kafka; check what the benchmark points at.'
  },
  KPROXY_ERR_BENCH_RUN: {
    gist: 'A load-generator thread exited without a result.',
    action: 'Read the error logged before it and rerun.'
  },
  KPROXY_ERR_BENCH_SETUP: {
    gist: 'Preparing the benchmark (topics, target processes) failed.',
    action: 'Read the cause in the message.'
  },
  KPROXY_ERR_BENCH_TARGET: {
    gist: 'A benchmark target (a peer proxy, Java) is not available.',
    action: 'Install what the message names (`pnpm bench:peers`) or leave that target out.'
  },
  KPROXY_ERR_BENCH_TIMEOUT: {
    gist: 'The benchmark target did not answer in time.',
    action: 'Check the target; raise the timeout if it is just slow.'
  }
} as const satisfies Record<string, ErrorCodeSpec>

export type KproxyCode = keyof typeof ERROR_CODES
export type KproxyErrorCode = Extract<KproxyCode, `KPROXY_ERR_${string}`>
export type KproxyWarnCode = Extract<KproxyCode, `KPROXY_WARN_${string}`>

export function isKproxyCode (code: string): code is KproxyCode {
  return Object.hasOwn(ERROR_CODES, code)
}
