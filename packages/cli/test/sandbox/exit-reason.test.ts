import t from 'tap'
import { describeExit, lastErrorLine } from '../../src/sandbox/exit-reason.ts'

const kafkaLog = `[2026-01-01 10:00:00,000] INFO [KafkaRaftServer nodeId=1] Kafka Server started (kafka.server.KafkaRaftServer)
[2026-01-01 10:00:05,000] WARN [Controller 1] something odd (org.apache.kafka.controller.QuorumController)
[2026-01-01 10:00:06,000] ERROR [ReplicaManager broker=1] Error processing append operation on partition x-0 (kafka.server.ReplicaManager)
org.apache.kafka.common.errors.KafkaStorageException: disk gone
\tat kafka.log.UnifiedLog.append(UnifiedLog.scala:1)
\t... 12 more
[2026-01-01 10:00:07,000] WARN a warning after the error (kafka.server.X)
`

t.test('the last ERROR/FATAL line of Kafka\'s log, not a stack frame', async t => {
  t.equal(lastErrorLine(kafkaLog, ''), '[2026-01-01 10:00:06,000] ERROR [ReplicaManager broker=1] Error processing append operation on partition x-0 (kafka.server.ReplicaManager): ' +
    'org.apache.kafka.common.errors.KafkaStorageException: disk gone', 'with the exception\'s message from the next line')
  t.equal(lastErrorLine('[d] ERROR one (x)\n[d] WARN two (y)\n', ''), '[d] ERROR one (x)', 'no exception line: the ERROR line alone')
})

t.test('the JVM giving up wins over what Kafka logged before', async t => {
  const out = 'Terminating due to java.lang.OutOfMemoryError: Java heap space\n'
  t.equal(lastErrorLine(kafkaLog, out), 'Terminating due to java.lang.OutOfMemoryError: Java heap space')
  const crash = '#\n# A fatal error has been detected by the Java Runtime Environment:\n#\n#  SIGSEGV (0xb) at pc=0x0\n'
  t.equal(lastErrorLine('', crash), '# A fatal error has been detected by the Java Runtime Environment:')
})

t.test('otherwise an error-like line of the JVM output, else nothing', async t => {
  t.equal(lastErrorLine('[d] INFO started (x)\n', 'Error: Could not find or load main class kafka.Kafka\n'), 'Error: Could not find or load main class kafka.Kafka')
  t.equal(lastErrorLine('[d] INFO started (x)\n[d] WARN w (y)\n', ''), null)
  t.equal(lastErrorLine('', ''), null)
})

t.test('how it ended', async t => {
  t.equal(describeExit({ code: null, signal: 'SIGKILL' }), 'was killed by SIGKILL')
  t.equal(describeExit({ code: 3, signal: null }), 'exited with code 3')
  t.equal(describeExit(null), 'exited')
})
