// Section "brokerMode.versionBridge": serve clients that speak protocol versions or message
// formats the upstream dropped (Kafka 4: KIP-896, KIP-724) by converting their requests and the
// answers (docs/version-bridge.md). Off by default: the conversions change what an old client
// gets (record headers dropped, no timestamps in format v0, ZooKeeper-era offset commits stored by
// the group coordinator, ...), and an operator should choose that knowingly, after reading the
// readiness report (`kproxy clients`), which works with the bridge off.
import type { Static } from 'typebox'
import { group, key } from './schema-kit.ts'
import { bool, int } from './value-kinds.ts'
import { withDefaults } from './defaults.ts'

export interface VersionBridgeConfig {
  enabled: boolean
  // decompressed bytes allowed per partition's records when converting them (a bomb's bound)
  maxUncompressedBytes: number
}

export const VERSION_BRIDGE = group({
  enabled: key(bool(false), { flag: '--version-bridge', doc: 'Convert requests at versions the upstream dropped (and their answers) instead of letting the upstream refuse them.' }),
  maxUncompressedBytes: key(int(1024, 2_147_483_647, 100 * 1024 * 1024), { defaultText: '104857600 (100 MiB)', doc: "Decompressed bytes allowed per partition's records while converting them; more is answered with an error for that partition." })
})

export type VersionBridgeFile = Static<typeof VERSION_BRIDGE>

export function resolveVersionBridge (file: VersionBridgeFile | undefined): VersionBridgeConfig {
  const v = withDefaults(VERSION_BRIDGE, file ?? {})
  return { enabled: v.enabled!, maxUncompressedBytes: v.maxUncompressedBytes! }
}
