import { parseArgs } from 'node:util'
import type { Command } from '../command.ts'

const usage = `Usage: kproxy acl check --principal P --op OPERATION RESOURCE [--partition N]
                        (--rules FILE | --config FILE) [--default allow|deny]

  RESOURCE is one of --topic T, --group G, --transactional-id T, --cluster, --user U,
  --delegation-token T. A principal without a type is a user (alice = User:alice).
  OPERATION is Kafka's name: Read, Write, Create, Delete, Alter, Describe, ClusterAction,
  DescribeConfigs, AlterConfigs, IdempotentWrite, CreateTokens, DescribeTokens, TwoPhaseCommit.

  Prints ALLOW or DENY and the rule that decided (file:line), or that the default decided.
  With --config, the rules are policy.acl's (inline, then its rulesFile) and its
  defaultDecision; --default overrides it (default: deny). Exit 0 for ALLOW, 3 for DENY.
  See docs/policy.md.`

function usageError (message: string): number {
  process.stderr.write(`kproxy acl: ${message}\n\n${usage}\n`)
  return 2
}

const RESOURCES = { topic: 'topic', group: 'group', 'transactional-id': 'transactionalId', cluster: 'cluster', user: 'user', 'delegation-token': 'delegationToken' } as const

async function check (argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        principal: { type: 'string' },
        op: { type: 'string' },
        topic: { type: 'string' },
        group: { type: 'string' },
        'transactional-id': { type: 'string' },
        cluster: { type: 'boolean' },
        user: { type: 'string' },
        'delegation-token': { type: 'string' },
        partition: { type: 'string' },
        rules: { type: 'string' },
        config: { type: 'string' },
        default: { type: 'string' }
      }
    }).values
  } catch (err) {
    return usageError((err as Error).message)
  }
  const principalArg = values.principal as string | undefined
  if (principalArg === undefined || principalArg === '') return usageError('check needs --principal P.')
  const principal = /^[A-Za-z][A-Za-z0-9_-]*:/.test(principalArg) ? principalArg : `User:${principalArg}`
  const { ACL_OPERATIONS } = await import('@kproxy/core/policy/acl-operations')
  const op = ACL_OPERATIONS.find(o => o.toLowerCase() === String(values.op ?? '').replace(/_/g, '').toLowerCase())
  if (op === undefined) return usageError(`--op must be one of ${ACL_OPERATIONS.join(', ')}${values.op === undefined ? '' : `, not '${String(values.op)}'`}.`)
  const given = (Object.keys(RESOURCES) as Array<keyof typeof RESOURCES>).filter(k => values[k] !== undefined && values[k] !== false)
  if (given.length !== 1) return usageError('check needs exactly one resource: --topic, --group, --transactional-id, --cluster, --user or --delegation-token.')
  const resource = RESOURCES[given[0]!]
  const name = resource === 'cluster' ? 'kafka-cluster' : String(values[given[0]!])
  let partition: number | undefined
  if (values.partition !== undefined) {
    if (resource !== 'topic') return usageError('--partition goes with --topic.')
    if (!/^\d+$/.test(String(values.partition)) || Number(values.partition) > 2 ** 31 - 1) return usageError(`--partition must be a partition number, not '${String(values.partition)}'.`)
    partition = Number(values.partition)
  }
  if ((values.rules === undefined) === (values.config === undefined)) return usageError('check needs exactly one of --rules FILE and --config FILE.')
  if (values.default !== undefined && values.default !== 'allow' && values.default !== 'deny') return usageError(`--default must be allow or deny, not '${String(values.default)}'.`)
  const { aclCheck } = await import('../policy/acl-check.ts')
  const result = aclCheck({
    principal,
    operation: op,
    resource,
    name,
    partition,
    rulesFile: values.rules as string | undefined,
    configFile: values.config as string | undefined,
    defaultDecision: values.default as 'allow' | 'deny' | undefined
  })
  process.stdout.write(result.lines.join('\n') + '\n')
  return result.decision.allowed ? 0 : 3
}

export const aclCommand: Command = {
  name: 'acl',
  summary: 'explain an ACL decision: which rule allows or denies an operation',
  usage,
  async run (argv) {
    const [sub, ...rest] = argv
    switch (sub) {
      case 'check': return await check(rest)
      case undefined: return usageError('missing subcommand.')
      default: return usageError(`unknown subcommand '${sub}'.`)
    }
  }
}
