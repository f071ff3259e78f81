// Entry of a generator worker thread: runs its lanes and posts the ThreadResult back.
import { parentPort, workerData } from 'node:worker_threads'
import { LoadRun } from './generator.ts'
import type { Lane } from './generator.ts'
import type { BenchOptions } from './options.ts'

const data = workerData as { options: BenchOptions, lanes: Lane[], requestLimit: number | null }
const run = new LoadRun(data.options, data.lanes, data.requestLimit ?? Infinity)
const result = await run.execute()
parentPort!.postMessage(result)
