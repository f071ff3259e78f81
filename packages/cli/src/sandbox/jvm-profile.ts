// Which JIT and collector the sandbox's JVMs use, from KPROXY_SANDBOX_JVM:
//   default  brokers with G1 and the full tiered JIT (DEFAULT_JVM_ARGS in cluster.ts), tools with
//            the JVM's defaults: what benchmarks need, where a broker runs for minutes at its peak
//   lean     brokers and Kafka's tools with C1 only, one compiler thread and the serial collector:
//            what a test suite needs, where dozens of short-lived clusters and tools start on two
//            cores and the C2 compiler's work never pays back. Measured on this 2-core machine
//            (1 node; 300,000 x 1,000 B records produced with ProducerPerformance, read back with
//            the console consumer; CPU seconds of each JVM): broker start 3.4 -> 1.6 s,
//            broker during the workload 15.9 -> 6.2 s, the two tools 17.1 -> 8.7 s, idle broker
//            0.91 -> 0.69 s per 30 s.
// The test runner (scripts/test.ts) sets lean; `kproxy sandbox up` and the bench run the default.
import { KproxyError } from '@kproxy/core/kproxy-error'

export const JVM_PROFILES = ['default', 'lean'] as const
export type JvmProfile = typeof JVM_PROFILES[number]

export const LEAN_JIT_ARGS: readonly string[] = ['-XX:TieredStopAtLevel=1', '-XX:CICompilerCount=1', '-XX:+UseSerialGC']

export function jvmProfile (env: NodeJS.ProcessEnv): JvmProfile {
  const value = env.KPROXY_SANDBOX_JVM
  if (value === undefined || value === '') return 'default'
  if ((JVM_PROFILES as readonly string[]).includes(value)) return value as JvmProfile
  throw new KproxyError('KPROXY_ERR_SANDBOX_OPTIONS', `KPROXY_SANDBOX_JVM is ${JSON.stringify(value)}; use ${JVM_PROFILES.join(' or ')}.`)
}

// Flags for a Kafka tool or client JVM (before the main class): none for the default profile.
export function toolJvmArgs (profile: JvmProfile): readonly string[] {
  return profile === 'lean' ? LEAN_JIT_ARGS : []
}
