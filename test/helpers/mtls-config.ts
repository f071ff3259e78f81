// The principal is the certificate's CN (CN=alice is User:alice) unless a test maps it otherwise.
const CN_RULE = 'RULE:^CN=([^,]+)$/$1/'

// kproxy.yaml lines for a broker-mode listener that requires client certificates and maps their
// subjects to principals with `rule`, then Kafka's DEFAULT.
export function mtlsBrokerModeLines (server: { crt: string, key: string }, caFile: string, rule = CN_RULE): string[] {
  return [
    'brokerMode:',
    '  tls:',
    `    cert: ${server.crt}`,
    `    key: ${server.key}`,
    `    ca: ${caFile}`,
    '    clientAuth: require',
    '    principalMappingRules:',
    `      - '${rule}'`,
    '      - DEFAULT'
  ]
}
