// Fixed-rate sending with coordinated-omission correction. A generator that waits for a slow
// response before sending the next request stops measuring exactly while the target is slow
// (Gil Tene's "coordinated omission"). Here every request has an intended send time on a fixed
// schedule, start + k * interval, and its latency is counted from that time, not from when the
// generator got round to sending it. Requests that fall due while the in-flight window is full
// wait, and that wait is part of their latency, as it would be for a real client at that rate.
export class Pacer {
  readonly intervalUs: number
  readonly startUs: number
  #k = 0

  constructor (ratePerSecond: number, startUs: number) {
    if (!(ratePerSecond > 0)) throw new RangeError(`rate must be > 0, got ${ratePerSecond}`)
    this.intervalUs = 1e6 / ratePerSecond
    this.startUs = startUs
  }

  // Intended send time of the next request not yet taken.
  get nextUs (): number { return this.startUs + this.#k * this.intervalUs }

  // Whether the next request is due at time nowUs.
  due (nowUs: number): boolean { return this.nextUs <= nowUs }

  // Takes the next request: returns its intended send time.
  take (): number {
    const t = this.nextUs
    this.#k++
    return t
  }

  get taken (): number { return this.#k }
}

// Microseconds on a monotonic clock (fractions kept; the histogram rounds).
export function nowUs (): number {
  return performance.now() * 1000
}
