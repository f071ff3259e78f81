// Writes the Prometheus text exposition (format 0.0.4) family by family, through a stats
// selection: a family's HELP/TYPE lines appear when the family is selected or when one of its
// series is; a series appears when the selection keeps it (stats-selection.ts).
import { SELECT_ALL } from './stats-selection.ts'
import type { StatsSelection } from './stats-selection.ts'

// Label values: backslash, double quote and newline are escaped.
export function escapeLabel (value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

export function labelText (pairs: Readonly<Record<string, string | number>>): string {
  const parts = Object.entries(pairs).map(([k, v]) => `${k}="${escapeLabel(String(v))}"`)
  return parts.length === 0 ? '' : `{${parts.join(',')}}`
}

export class PrometheusWriter {
  readonly #out: string[] = []
  readonly #selection: StatsSelection
  #family = ''
  #header: [string, string] | null = null

  constructor (selection: StatsSelection = SELECT_ALL) {
    this.#selection = selection
  }

  family (name: string, type: string, help: string): void {
    this.#family = name
    const header: [string, string] = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`]
    if (this.#selection.family(name)) {
      this.#out.push(...header)
      this.#header = null
    } else {
      this.#header = header
    }
  }

  // One series of the current family; `name` differs from the family for a summary's _sum/_count.
  sample (name: string, labels: Readonly<Record<string, string | number>>, value: number): void {
    const series = name + labelText(labels)
    if (!this.#selection.series(this.#family, series)) return
    if (this.#header !== null) {
      this.#out.push(...this.#header)
      this.#header = null
    }
    this.#out.push(`${series} ${value}`)
  }

  // A family with one unlabelled series.
  single (name: string, type: string, help: string, value: number): void {
    this.family(name, type, help)
    this.sample(name, {}, value)
  }

  text (): string {
    return this.#out.length === 0 ? '' : this.#out.join('\n') + '\n'
  }
}
