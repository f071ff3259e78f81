// The Apache Kafka release kproxy is built and tested against. Everything that depends on the
// release — the generated codecs, the sandbox's jars, the interop fixtures — reads it from here.
//
// 4.3.1 is the newest release whose broker classpath resolves completely from Maven Central:
// kafka_2.13:4.4.0 is published but depends on kafka-tools-api:4.4.0, which is not.
export const KAFKA_VERSION = '4.3.1'
export const KAFKA_SCALA_VERSION = '2.13'
