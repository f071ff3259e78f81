// The broker JVM's heap (`kproxy sandbox up --broker-heap SIZE`), in Java's own syntax.
import { KproxyError } from '@kproxy/core/kproxy-error'

// Measured (docs/sandbox.md, "Broker heap"; live set = what a full GC keeps): an idle broker
// holds ~150 MiB; a 3-node sandbox with 500 topics of 6 partitions (RF 3) 220-240 MiB per broker;
// after one consumer group read all 3000 partitions 250-400 MiB (fetch state per partition). With
// the old 512 MiB maximum that is up to 78% of the heap, in constant GC and one burst from an
// OutOfMemoryError; 1 GiB leaves 2.5x the worst live set seen. Three brokers at 1 GiB fit a
// 24 GiB CI machine several times over, and the heap only grows as far as it is used.
export const DEFAULT_BROKER_HEAP = '1g'
// Below this Kafka 4.3 does not start reliably (its idle live set is about 150 MiB).
const MIN_HEAP_MIB = 192
const MAX_HEAP_MIB = 64 * 1024
// The heap starts small and grows on demand, so a large maximum costs nothing until it is used:
// the test suite runs several sandboxes side by side on a 24 GiB machine.
const INITIAL_HEAP_MIB = 256

const UNITS: Record<string, number> = { k: 1 / 1024, m: 1, g: 1024 }

// '1g', '768m', '1536M', '2G' -> MiB. Plain bytes are refused: nobody means 1073741824.
export function parseHeapSize (text: string): number {
  const m = /^(\d+)([kmg])$/i.exec(text.trim())
  if (m === null) {
    throw new KproxyError('KPROXY_ERR_SANDBOX_OPTIONS', `--broker-heap '${text}' is not a size; give a number with m or g, e.g. 768m or 2g.`)
  }
  const mib = Number(m[1]) * UNITS[m[2]!.toLowerCase()]!
  if (mib < MIN_HEAP_MIB || mib > MAX_HEAP_MIB) {
    throw new KproxyError('KPROXY_ERR_SANDBOX_OPTIONS', `--broker-heap ${text} is outside ${MIN_HEAP_MIB}m..${MAX_HEAP_MIB / 1024}g; a broker needs at least ${MIN_HEAP_MIB}m.`)
  }
  return Math.floor(mib)
}

export function heapArgs (mib: number): string[] {
  return [`-Xms${Math.min(INITIAL_HEAP_MIB, mib)}m`, `-Xmx${mib}m`]
}
