// A raw Kafka connection for tests: writes encoded frames and hands back the frames that arrive,
// in order, as contiguous payloads (without the size prefix). Slow-path code: clarity over speed.
import { connect, type Socket } from 'node:net'
import { FrameReader, frameToBuffer } from '@kproxy/core/protocol/frame-reader'

export class WireConnection {
  private readonly socket: Socket
  private readonly frames: Buffer[] = []
  private waiting: ((frame: Buffer | null) => void) | null = null
  private closed = false
  private failure: Error | null = null

  private constructor (socket: Socket) {
    this.socket = socket
    const reader = new FrameReader({
      onFrame: frame => this.deliver(frameToBuffer(frame)),
      onError: err => { this.failure = err; socket.destroy() }
    })
    socket.on('data', chunk => reader.push(chunk))
    socket.on('error', err => { this.failure ??= err })
    socket.on('close', () => {
      this.closed = true
      this.deliver(null)
    })
  }

  static open (host: string, port: number, timeoutMs = 10_000): Promise<WireConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port })
      const timer = setTimeout(() => { socket.destroy(); reject(new Error(`connect to ${host}:${port} timed out`)) }, timeoutMs)
      socket.once('connect', () => { clearTimeout(timer); socket.setNoDelay(true); resolve(new WireConnection(socket)) })
      socket.once('error', err => { clearTimeout(timer); reject(err) })
    })
  }

  send (chunks: readonly Buffer[]): void {
    for (const c of chunks) this.socket.write(c)
  }

  // The next frame, or null when the peer closed the connection first (or the timeout passed).
  nextFrame (timeoutMs = 15_000): Promise<Buffer | null> {
    const queued = this.frames.shift()
    if (queued !== undefined) return Promise.resolve(queued)
    if (this.closed) return Promise.resolve(null)
    return new Promise(resolve => {
      const timer = setTimeout(() => { this.waiting = null; resolve(null) }, timeoutMs)
      this.waiting = frame => { clearTimeout(timer); resolve(frame) }
    })
  }

  get error (): Error | null { return this.failure }
  get isClosed (): boolean { return this.closed }

  close (): void {
    this.socket.destroy()
  }

  private deliver (frame: Buffer | null): void {
    const waiting = this.waiting
    if (waiting !== null) {
      this.waiting = null
      waiting(frame)
    } else if (frame !== null) {
      this.frames.push(frame)
    }
  }
}
