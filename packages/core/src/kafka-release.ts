// The Apache Kafka release kproxy is built and tested against. Everything that depends on the
// release — the generated codecs, the sandbox's jars, the interop fixtures — reads it from here.
//
// 4.3.1 is the newest release whose broker classpath resolves completely from Maven Central:
// kafka_2.13:4.4.0 is published but depends on kafka-tools-api:4.4.0, which is not.
export const KAFKA_VERSION = '4.3.1'
export const KAFKA_SCALA_VERSION = '2.13'

// The last Kafka 3.x release. Kafka 4 dropped the protocol versions that older clients use
// (KIP-896); kproxy's codecs also cover the versions this release had and KAFKA_VERSION dropped,
// so that the version bridge can decode them. Its kafka-clients jar is fetched and verified like
// the broker's jars (packages/cli/src/sandbox/kafka-3.9.2.lock.json). 3.9.2 is the newest 3.9.x
// on Maven Central.
export const BRIDGE_KAFKA_VERSION = '3.9.2'

// Old Java clients (kafka-clients from Maven Central) the version bridge is accepted with: they
// speak only protocol versions and message formats Kafka 4 dropped. Fetched and verified like the
// broker's jars (packages/cli/src/sandbox/kafka-<version>.lock.json), each on its own classpath.
export const OLD_CLIENT_VERSIONS: readonly string[] = ['0.10.2.2', '0.11.0.3']
