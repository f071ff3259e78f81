// Partitions of a topic named by a rule: single numbers, closed ranges and open ranges.
//   partitions: [0-3, 7]        a YAML list of numbers and 'lo-hi' / 'lo-' strings
//   partitions: "0-3, 7, 10-"   the same as one string (brackets optional)
// Kept as sorted, merged ranges; `hi` is Infinity for an open range.

export interface PartitionSet {
  readonly ranges: ReadonlyArray<readonly [number, number]>
  readonly text: string
}

// The largest partition index Kafka can have (int32); beyond it nothing is named.
export const MAX_PARTITION = 0x7fffffff

export function partitionSetHas (set: PartitionSet, partition: number): boolean {
  for (const [lo, hi] of set.ranges) {
    if (partition < lo) return false
    if (partition <= hi) return true
  }
  return false
}

// Parses the value of `partitions:`; returns the set or what is wrong with it.
export function parsePartitionSet (value: unknown): PartitionSet | string {
  let items: unknown[]
  if (typeof value === 'number') items = [value]
  else if (typeof value === 'string') {
    const inner = value.trim().replace(/^\[(.*)\]$/s, '$1').trim()
    items = inner === '' ? [] : inner.split(',').map(s => s.trim())
  } else if (Array.isArray(value)) items = value
  else return 'expected a list like [0-3, 7] or a string like "0-3, 7, 10-"'
  if (items.length === 0) return 'the list is empty; leave partitions out to mean every partition'
  const ranges: Array<[number, number]> = []
  for (const item of items) {
    const r = parseItem(item)
    if (typeof r === 'string') return r
    ranges.push(r)
  }
  ranges.sort((a, b) => a[0] - b[0])
  const merged: Array<[number, number]> = []
  for (const r of ranges) {
    const last = merged[merged.length - 1]
    if (last !== undefined && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1])
    else merged.push([r[0], r[1]])
  }
  return { ranges: merged, text: merged.map(([lo, hi]) => lo === hi ? `${lo}` : hi === Infinity ? `${lo}-` : `${lo}-${hi}`).join(', ') }
}

function parseItem (item: unknown): [number, number] | string {
  if (typeof item === 'number') return index(item, String(item)) ?? [item, item]
  if (typeof item !== 'string') return `'${String(item)}' is not a partition number or range`
  const m = /^(\d+)\s*(?:(-)\s*(\d+)?)?$/.exec(item.trim())
  if (m === null) return `'${item}' is not a partition number or range; write 7, 0-3 or 10- (10 and above)`
  const lo = Number(m[1])
  const bad = index(lo, item)
  if (bad !== null) return bad
  if (m[2] === undefined) return [lo, lo]
  if (m[3] === undefined) return [lo, Infinity]
  const hi = Number(m[3])
  const badHi = index(hi, item)
  if (badHi !== null) return badHi
  if (hi < lo) return `'${item}' is an empty range (its end is below its start)`
  return [lo, hi]
}

function index (n: number, text: string): string | null {
  return Number.isInteger(n) && n >= 0 && n <= MAX_PARTITION ? null : `'${text}' is not a partition number (0 to ${MAX_PARTITION})`
}
