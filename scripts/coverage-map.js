// tap's coverage map: a test file under packages/<pkg>/test covers packages/<pkg>/src.
// Integration tests under test/ and bench/ are not counted toward package coverage.
export default function coverageMap (testFile) {
  const m = /^packages\/([^/]+)\/test\//.exec(testFile.replaceAll('\\', '/'))
  return m ? [`packages/${m[1]}/src/`] : null
}
