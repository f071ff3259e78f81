// kproxy.yaml lines for a broker-mode listener that requires client certificates and takes the
// principal from the certificate's CN (CN=alice is User:alice), as the policy tests set it up.
export function mtlsBrokerModeLines (server: { crt: string, key: string }, caFile: string): string[] {
  return [
    'brokerMode:',
    '  tls:',
    `    cert: ${server.crt}`,
    `    key: ${server.key}`,
    `    ca: ${caFile}`,
    '    clientAuth: require',
    '    principalMappingRules:',
    "      - 'RULE:^CN=([^,]+)$/$1/'",
    '      - DEFAULT'
  ]
}
