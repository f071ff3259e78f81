// tap's coverage map (package.json "tap"."coverage-map"): unit tests under packages/*/test are
// measured as before (every file they load counts, so core code exercised through the workers'
// tests counts toward core's floor). Integration tests (test/, bench/test/) run without V8
// coverage, nor do the kproxy processes they start: it cost about a tenth of CI's CPU time, and
// the coverage floor (scripts/test.ts) is about packages/core/src, which the unit tests cover.
export default function coverageMap (testFile) {
  return /^packages\/[^/]+\/test\//.test(testFile.replaceAll('\\', '/')) ? [] : null
}
