export {}
export { startCluster, DEFAULT_JVM_ARGS } from './sandbox/cluster.ts'
export type { Cluster, SandboxInfo, SandboxBrokerInfo, SandboxTlsInfo, StartClusterOptions } from './sandbox/cluster.ts'
export { ensureKafkaJars, verifyJarDir, readLock, createLock, kproxyCacheDir, KAFKA_ARTIFACTS } from './sandbox/jars.ts'
export type { KafkaJars, KafkaLock, EnsureJarsOptions } from './sandbox/jars.ts'
export { findJava, MIN_JAVA_MAJOR } from './sandbox/java.ts'
export type { JavaRuntime } from './sandbox/java.ts'
export { runKafkaTool } from './sandbox/kafka-tool.ts'
export type { KafkaToolOptions, KafkaToolResult } from './sandbox/kafka-tool.ts'
