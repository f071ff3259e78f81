// ratios of targets to a reference in bench:compare results.json files; geometric mean over files
import { readFileSync } from 'node:fs'
const [ref, ...dirs] = process.argv.slice(2)
const acc = {}
for (const d of dirs) {
  const t = Object.fromEntries(JSON.parse(readFileSync(d + '/results.json')).table.map(r => [r.target, r]))
  const line = [d]
  for (const [name, r] of Object.entries(t)) {
    if (name === ref) continue
    const tp = r.throughput / t[ref].throughput, cpu = r.cpuSecondsPerGB / t[ref].cpuSecondsPerGB
    line.push(`${name}: ${tp.toFixed(3)}x thr, ${cpu.toFixed(3)}x cpu (${r.cpuSecondsPerGB.toFixed(3)} vs ${t[ref].cpuSecondsPerGB.toFixed(3)})`)
    ;(acc[name] ??= []).push([tp, cpu])
  }
  console.log(line.join('\n  '))
}
for (const [name, v] of Object.entries(acc)) {
  const gm = i => Math.exp(v.reduce((s, x) => s + Math.log(x[i]), 0) / v.length)
  console.log(`gm ${name}/${ref}: thr ${gm(0).toFixed(3)}, cpu ${gm(1).toFixed(3)}`)
}
