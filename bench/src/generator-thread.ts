// Entry of a generator worker thread: runs its lanes and posts the ThreadResult back.
import { parentPort, workerData } from 'node:worker_threads'
import { LoadRun } from './generator.ts'
import type { Lane } from './generator.ts'
import type { BenchOptions } from './options.ts'
import { useTls } from './connection.ts'
import { setClientId } from './requests.ts'

const data = workerData as { options: BenchOptions, lanes: Lane[], requestLimit: number | null }
useTls(data.options.tls ?? null)
setClientId(data.options.clientId ?? 'kproxy-bench')
const run = new LoadRun(data.options, data.lanes, data.requestLimit ?? Infinity)
const result = await run.execute()
parentPort!.postMessage(result)
