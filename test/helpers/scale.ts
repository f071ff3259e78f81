// How big the longest acceptance tests run. `pnpm test` (CI) runs them smaller; `pnpm test:full`
// runs them at the size their issues name (100,000 records per producer, 500 topics) — the same
// code and assertions, only the counts differ. The test files that import this are the ones
// `pnpm test:full` runs (scripts/test-full.ts finds them).
export const FULL_SCALE = process.env.KPROXY_TEST_SCALE === 'full'

export function scaled (full: number, ci: number): number {
  return FULL_SCALE ? full : ci
}

// 100000 -> "100,000", for test names
export function count (n: number): string {
  return n.toLocaleString('en-US')
}
