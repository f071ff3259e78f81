// Bytes that differ with their position and the seed, for checking that data arrived unchanged.
export function pattern (n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n)
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) % 251
  return b
}
