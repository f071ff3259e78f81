// A command is a name, a one-line summary for `kproxy --help`, and a run function that returns
// the process exit code. Commands load lazily so that `kproxy --help` stays fast.
export interface Command {
  readonly name: string
  readonly summary: string
  readonly usage: string
  run (argv: string[]): Promise<number>
}
