// HOST:PORT as written in flags and the config file: "127.0.0.1:9092", "localhost:9092",
// "[::1]:9092". Returns a reason instead of throwing so the schema can collect every error.
import type { HostPort } from './proxy-config.ts'

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/

export function parseHostPort (text: string): HostPort | string {
  let host: string
  let portText: string
  if (text.startsWith('[')) {
    const end = text.indexOf(']')
    if (end < 0 || text[end + 1] !== ':') return 'an IPv6 address must look like [::1]:9092'
    host = text.slice(1, end)
    portText = text.slice(end + 2)
    if (!/^[0-9a-fA-F:.]+$/.test(host) || !host.includes(':')) return `'${host}' is not an IPv6 address`
  } else {
    const colon = text.lastIndexOf(':')
    if (colon < 0) return 'expected HOST:PORT'
    host = text.slice(0, colon)
    portText = text.slice(colon + 1)
    if (host.includes(':')) return 'an IPv6 address needs brackets: [::1]:9092'
    if (!HOSTNAME.test(host)) return `'${host}' is not a valid host name or IPv4 address`
  }
  if (!/^\d{1,5}$/.test(portText)) return `'${portText}' is not a port number`
  const port = Number(portText)
  if (port < 1 || port > 65535) return `port ${port} is outside 1..65535`
  return { host, port }
}

export function formatHostPort (hp: HostPort): string {
  return hp.host.includes(':') ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`
}
