// Numbers as people read them. Null (no rate yet: one sample so far) shows as a dash.
export const DASH = '–'

export function count (n) {
  if (n === null || n === undefined) return DASH
  if (Math.abs(n) >= 1e9) return (n / 1e9).toFixed(2) + ' G'
  if (Math.abs(n) >= 1e6) return (n / 1e6).toFixed(2) + ' M'
  if (Math.abs(n) >= 1e4) return (n / 1e3).toFixed(1) + ' k'
  return Number.isInteger(n) ? String(n) : n.toFixed(n < 10 ? 2 : 1)
}

export function rate (n) {
  return n === null || n === undefined ? DASH : count(n) + '/s'
}

export function bytes (n) {
  if (n === null || n === undefined) return DASH
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let i = 0
  while (Math.abs(n) >= 1024 && i < units.length - 1) { n /= 1024; i++ }
  return (i === 0 ? String(Math.round(n)) : n.toFixed(n < 10 ? 2 : 1)) + ' ' + units[i]
}

export function byteRate (n) {
  return n === null || n === undefined ? DASH : bytes(n) + '/s'
}

export function ms (n) {
  if (n === null || n === undefined) return DASH
  if (n < 1) return (n * 1000).toFixed(0) + ' µs'
  if (n < 100) return n.toFixed(n < 10 ? 2 : 1) + ' ms'
  if (n < 10000) return n.toFixed(0) + ' ms'
  return (n / 1000).toFixed(1) + ' s'
}

export function duration (seconds) {
  if (seconds < 60) return `${seconds}s`
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${seconds % 60}s`
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ${Math.floor(seconds % 3600 / 60)}m`
  return `${Math.floor(seconds / 86400)}d ${Math.floor(seconds % 86400 / 3600)}h`
}

export function percent (fraction) {
  return fraction === null || fraction === undefined ? DASH : (fraction * 100).toFixed(fraction < 0.1 ? 2 : 1) + ' %'
}
