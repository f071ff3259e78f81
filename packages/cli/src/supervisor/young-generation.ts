// V8 flags are per process and read when an isolate is made, so the supervisor sets this one
// before it starts any worker thread. Why: every socket read is a fresh Buffer whose memory lives
// outside the JavaScript heap and dies young. Node 24's V8 lets the young generation grow to 32 MB
// (it was 8 MB until Node 23), so those buffers pile up until the external-memory limit forces a
// full mark-compact instead of being freed by cheap scavenges (nodejs/node#61967). Measured in
// docs/performance.md ("Young generation").
import { setFlagsFromString } from 'node:v8'

export const YOUNG_GENERATION_FLAG = 'scavenger-max-new-space-capacity-mb'

// 0 leaves V8's default. Returns the flag it set, or null.
export function capYoungGeneration (mb: number): string | null {
  if (mb <= 0) return null
  const flag = `--${YOUNG_GENERATION_FLAG}=${mb}`
  setFlagsFromString(flag)
  return flag
}
