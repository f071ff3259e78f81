import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Command } from '../command.ts'

// The harness lives in bench/ (the @kproxy/bench workspace package), which itself depends on the
// CLI (for the sandbox), so it is loaded by path at run time rather than imported as a package.
const benchMain = new URL('../../../../bench/src/main.ts', import.meta.url)

const usage = `Usage: kproxy bench <produce|fetch|roundtrip|connections> --target HOST:PORT [options]
       kproxy bench compare --scenario NAME [--targets direct,kproxy,...] [--rounds N] [options]
       kproxy bench gate [--thresholds bench/gate.json] [--out DIR] [--json]   (pnpm bench:gate)

Load generator on kproxy's own Kafka codec (worker threads, HDR latency histograms in µs).
Run \`kproxy bench help\` for every option; docs/performance.md explains the method and
docs/releasing.md the release gate.`

export const benchCommand: Command = {
  name: 'bench',
  summary: 'load-test a Kafka endpoint (direct or through a proxy); compare targets side by side',
  usage,
  async run (argv) {
    if (!existsSync(fileURLToPath(benchMain))) {
      process.stderr.write('kproxy bench: the benchmark harness (bench/) is not in this installation; run it from a kproxy source checkout.\n')
      return 1
    }
    const mod = await import(benchMain.href) as { runBenchCli (argv: readonly string[]): Promise<number> }
    return await mod.runBenchCli(argv)
  }
}
