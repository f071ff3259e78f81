// The whole config file: the sections put together. A new section is one file next to this one
// (its keys and its resolver) and one line here; see docs/configuration.md, "Adding a section".
import type { Static } from 'typebox'
import { BROKER_MODE } from './broker-mode-schema.ts'
import { COMMON_KEYS } from './common-schema.ts'
import { group, key } from './schema-kit.ts'
import { POLICY } from './policy-schema.ts'
import { STATS } from './stats-schema.ts'
import { MESH } from './mesh-schema.ts'

export const KPROXY_SCHEMA = group({
  ...COMMON_KEYS,
  brokerMode: key(BROKER_MODE, { doc: 'Broker mode: one local port per upstream broker, addresses rewritten in responses.' }),
  policy: key(POLICY, { live: true, doc: 'Identity, ACLs, quotas and the identity carried to the brokers (docs/policy.md).' }),
  mesh: key(MESH, { doc: 'Mesh mode: one endpoint in front of several clusters, topics routed by name (docs/mesh.md); exclusive with brokerMode.' }),
  stats: key(STATS, { doc: 'What kproxy records and exports beyond its fixed counters (docs/observability.md).' })
}, {
  // Top-level keys starting with x- are left alone: a place for YAML anchors (x-defaults: &d ...)
  // that other keys merge in with <<: *d, as in docker-compose files.
  patternProperties: { '^x-': {} }
})

// The config file as written (after validation), every key optional.
export type KproxyFile = Static<typeof KPROXY_SCHEMA>
