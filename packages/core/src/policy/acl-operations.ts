// Kafka's ACL vocabulary: operations, resource types, which operations each resource type
// supports (AclEntry.supportedOperations; kafka-acls refuses the rest), and the operations an
// ALLOW implies (StandardAuthorizerData: Read, Write, Delete or Alter allow Describe;
// AlterConfigs allows DescribeConfigs; All allows everything). A DENY implies nothing but
// itself, except that a DENY of All denies everything. Checked against the 4.3.1 jars (javap of
// AclOperation, AclEntry and StandardAuthorizerData).

export const ACL_OPERATIONS = [
  'Read', 'Write', 'Create', 'Delete', 'Alter', 'Describe', 'ClusterAction', 'DescribeConfigs', 'AlterConfigs',
  'IdempotentWrite', 'CreateTokens', 'DescribeTokens', 'TwoPhaseCommit'
] as const
export type AclOperation = typeof ACL_OPERATIONS[number]
// 'All' is written in rules but is never what a request asks for.
export type AclRuleOperation = AclOperation | 'All'

// One bit per operation, for masks that cost no allocation to test.
export const OP_BIT: Readonly<Record<AclOperation, number>> = Object.fromEntries(ACL_OPERATIONS.map((op, i) => [op, 1 << i])) as Record<AclOperation, number>
export const ALL_OPS_MASK = (1 << ACL_OPERATIONS.length) - 1

export const RESOURCE_TYPES = ['topic', 'group', 'transactionalId', 'cluster', 'user', 'delegationToken'] as const
export type AclResourceType = typeof RESOURCE_TYPES[number]

export const SUPPORTED_OPERATIONS: Readonly<Record<AclResourceType, readonly AclOperation[]>> = {
  topic: ['Read', 'Write', 'Create', 'Describe', 'Delete', 'Alter', 'DescribeConfigs', 'AlterConfigs'],
  group: ['Read', 'Describe', 'Delete', 'DescribeConfigs', 'AlterConfigs'],
  cluster: ['Create', 'ClusterAction', 'DescribeConfigs', 'AlterConfigs', 'IdempotentWrite', 'Alter', 'Describe'],
  transactionalId: ['Describe', 'Write', 'TwoPhaseCommit'],
  delegationToken: ['Describe'],
  user: ['CreateTokens', 'DescribeTokens']
}

// The name Kafka gives the one cluster resource.
export const CLUSTER_NAME = 'kafka-cluster'

export function isAclOperation (name: string): name is AclOperation {
  return (ACL_OPERATIONS as readonly string[]).includes(name)
}

// The operations an ALLOW of `op` grants, as a mask.
export function allowMask (op: AclRuleOperation): number {
  if (op === 'All') return ALL_OPS_MASK
  let mask = OP_BIT[op]
  if (op === 'Read' || op === 'Write' || op === 'Delete' || op === 'Alter') mask |= OP_BIT.Describe
  if (op === 'AlterConfigs') mask |= OP_BIT.DescribeConfigs
  return mask
}

// The operations a DENY of `op` refuses, as a mask.
export function denyMask (op: AclRuleOperation): number {
  return op === 'All' ? ALL_OPS_MASK : OP_BIT[op]
}
