// Principals as Kafka writes them, 'Type:name'. kproxy's identities are users: a SASL login, a
// certificate's mapped name, or ANONYMOUS for a plaintext client on a permissive listener.
// Quotas key on the name (Kafka's user quota entity), ACL rules on the whole string.
export const ANONYMOUS = 'User:ANONYMOUS'

export function userPrincipal (name: string): string {
  return `User:${name}`
}

// The name part ('alice' of 'User:alice'); the whole string when it has no type.
export function principalName (principal: string): string {
  const colon = principal.indexOf(':')
  return colon < 0 ? principal : principal.slice(colon + 1)
}
