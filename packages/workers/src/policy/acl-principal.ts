// The principal ACL rules are written for, from the connection's: rules name principals as Kafka
// writes them ('User:alice'), while a connection's principal is the name its identity gave (a
// certificate's mapped name, a SASL user, ANONYMOUS). Kafka's SSL and SASL principals are always
// of type User, so a name without the 'User:' prefix gets it.
const USER = 'User:'

export function aclPrincipal (principal: string): string {
  return principal.startsWith(USER) ? principal : USER + principal
}
