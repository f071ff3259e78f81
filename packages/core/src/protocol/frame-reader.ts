// Splits a Kafka byte stream into frames. Wire grammar (both directions, every API):
//   frame := size:int32 (big-endian, bytes that follow) payload:byte[size]
// Socket chunks arrive at arbitrary boundaries; a frame may span many chunks and a chunk may
// hold many frames, or end inside a 4-byte size prefix.
//
// Hot path rules this file keeps:
// - Payload bytes are never copied: a frame is the list of subarrays of the pushed chunks that
//   hold its payload. Only a size prefix split across chunks is assembled, in a 4-byte scratch.
// - Nothing is allocated in proportion to a declared size before those bytes have arrived: a
//   peer claiming 2 GiB and sending 10 bytes costs 10 bytes (the references to its chunks).
// - Callbacks, not promises; no closure per frame.
//
// Zero-length frames: a Kafka request or response always has a header, so by default a size of 0
// is reported as KPROXY_ERR_FRAME_INVALID_SIZE. The raw SASL tokens that follow a SaslHandshake v0
// are size-prefixed without a header and may legitimately be empty (GSSAPI); the owner of the
// connection sets `allowEmptyFrames` during that phase.
//
// After an error the reader ignores all further input: the owner is expected to close the
// connection. An exception thrown by onFrame propagates out of push() and also stops the reader,
// because the rest of that chunk was not consumed.
import { KproxyError } from '../kproxy-error.ts'

export interface Frame {
  // payload length in bytes (the size prefix itself is not included)
  size: number
  // the payload, in order, as subarrays of the pushed chunks; empty for a zero-length frame
  chunks: Buffer[]
  // the 4 size-prefix bytes as they arrived: a subarray of the chunk that held them (so that a
  // relay writing prefix + chunks writes the original, adjacent bytes), or a copy when the prefix
  // was split across chunks. Set on every frame a FrameReader emits.
  prefix?: Buffer
}

export interface FrameReaderOptions {
  // largest accepted payload in bytes; default 100 MiB
  maxFrameSize?: number
  allowEmptyFrames?: boolean
  onFrame: (frame: Frame) => void
  onError: (err: KproxyError) => void
}

export const DEFAULT_MAX_FRAME_SIZE = 100 * 1024 * 1024

const EMPTY = Buffer.alloc(0)

export class FrameReader {
  readonly maxFrameSize: number
  allowEmptyFrames: boolean
  #onFrame: (frame: Frame) => void
  #onError: (err: KproxyError) => void
  // size prefix bytes gathered so far when it is split across chunks (0..3)
  readonly #sizeScratch = Buffer.alloc(4)
  #sizeHave = 0
  // payload bytes still missing for the current frame; -1 while reading a size prefix
  #need = -1
  #size = 0
  #prefix: Buffer = EMPTY
  #chunks: Buffer[] = []
  #received = 0
  #stopped = false

  constructor (options: FrameReaderOptions) {
    const max = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(`maxFrameSize must be a positive integer, got ${max}`)
    }
    this.maxFrameSize = max
    this.allowEmptyFrames = options.allowEmptyFrames ?? false
    this.#onFrame = options.onFrame
    this.#onError = options.onError
  }

  // bytes held for the frame in progress (size prefix bytes included)
  get bufferedBytes (): number {
    return this.#sizeHave + this.#received
  }

  // true when part of a frame (even part of its size prefix) has arrived but not all of it
  get pending (): boolean {
    return this.#sizeHave > 0 || this.#need >= 0
  }

  // true after an error or end(): further input is ignored
  get stopped (): boolean {
    return this.#stopped
  }

  // the chunks held for the frame in progress (read-only view, for diagnostics and tests)
  get pendingChunks (): readonly Buffer[] {
    return this.#chunks
  }

  // the size prefix of the frame in progress when it is a view of a pushed chunk (empty when no
  // frame is in progress): an owner that reuses its read buffers must keep these bytes too
  get pendingPrefix (): Buffer {
    return this.#prefix
  }

  push (chunk: Buffer): void {
    if (this.#stopped) return
    try {
      this.#consume(chunk)
    } catch (err) {
      this.#stopped = true
      throw err
    }
  }

  // The stream is over (peer closed). Reports KPROXY_ERR_FRAME_TRUNCATED when a frame was cut
  // short, then stops the reader. Returns true when the stream ended cleanly between frames.
  end (): boolean {
    if (this.#stopped) return false
    this.#stopped = true
    if (!this.pending) return true
    const detail = this.#need >= 0
      ? `${this.#received} of the ${this.#size} payload bytes announced`
      : `${this.#sizeHave} of the 4 bytes of a frame size`
    this.#release()
    this.#onError(new KproxyError('KPROXY_ERR_FRAME_TRUNCATED',
      `The connection closed in the middle of a Kafka frame (received ${detail}); the peer ` +
      'stopped mid-message, check its logs.'))
    return false
  }

  #consume (chunk: Buffer): void {
    const len = chunk.length
    let pos = 0
    while (pos < len) {
      if (this.#need < 0) {
        let size: number
        if (this.#sizeHave === 0 && len - pos >= 4) {
          size = chunk.readInt32BE(pos)
          this.#prefix = chunk.subarray(pos, pos + 4)
          pos += 4
        } else {
          while (this.#sizeHave < 4 && pos < len) this.#sizeScratch[this.#sizeHave++] = chunk[pos++]
          if (this.#sizeHave < 4) return
          size = this.#sizeScratch.readInt32BE(0)
          this.#prefix = Buffer.from(this.#sizeScratch)
          this.#sizeHave = 0
        }
        if (size <= 0 || size > this.maxFrameSize) {
          if (size !== 0 || !this.allowEmptyFrames) {
            this.#fail(size)
            return
          }
        }
        this.#size = size
        this.#need = size
        this.#received = 0
        if (size === 0) {
          this.#emit()
          if (this.#stopped) return
        }
        continue
      }
      const take = Math.min(this.#need, len - pos)
      // a whole chunk is kept as is; otherwise a view of the part belonging to this frame
      this.#chunks.push(pos === 0 && take === len ? chunk : chunk.subarray(pos, pos + take))
      pos += take
      this.#need -= take
      this.#received += take
      if (this.#need === 0) {
        this.#emit()
        if (this.#stopped) return
      }
    }
  }

  #emit (): void {
    const frame: Frame = { size: this.#size, chunks: this.#chunks, prefix: this.#prefix }
    this.#chunks = []
    this.#prefix = EMPTY
    this.#need = -1
    this.#received = 0
    this.#onFrame(frame)
  }

  #release (): void {
    this.#chunks = []
    this.#prefix = EMPTY
    this.#need = -1
    this.#received = 0
    this.#sizeHave = 0
  }

  #fail (size: number): void {
    this.#stopped = true
    this.#release()
    this.#onError(frameSizeError(size, this.maxFrameSize))
  }
}

function frameSizeError (size: number, max: number): KproxyError {
  if (size > max) {
    return new KproxyError('KPROXY_ERR_FRAME_TOO_LARGE',
      `A frame announced ${size} bytes, more than the limit of ${max} bytes; raise the ` +
      `maxFrameSize setting if the peer really sends messages this large${peerHint(size)}.`)
  }
  return new KproxyError('KPROXY_ERR_FRAME_INVALID_SIZE',
    `A frame announced a size of ${size} bytes, which no Kafka message can have; the peer does ` +
    `not speak the Kafka protocol or the stream is corrupt${peerHint(size)}.`)
}

// A few common "wrong protocol on this port" signatures, recognisable from the first 4 bytes.
function peerHint (size: number): string {
  const top = size >>> 16
  if (top === 0x1603) return ' (these bytes start a TLS handshake: the client uses TLS on a plaintext listener)'
  if (size === 0x47455420 || size === 0x504f5354 || size === 0x48545450) {
    return ' (these bytes are HTTP: an HTTP client is talking to a Kafka port)'
  }
  return ''
}

// The first n bytes of a frame's payload (fewer when the frame is shorter) as one Buffer: a
// subarray when the first chunk holds them, otherwise a small copy. Used to peek at headers.
export function frameHead (frame: Frame, n: number): Buffer {
  const want = Math.min(n, frame.size)
  const chunks = frame.chunks
  if (want <= 0) return EMPTY
  if (chunks[0].length >= want) return chunks[0].subarray(0, want)
  const out = Buffer.allocUnsafe(want)
  let filled = 0
  for (let i = 0; filled < want; i++) {
    filled += chunks[i].copy(out, filled, 0, Math.min(chunks[i].length, want - filled))
  }
  return out
}

// The whole payload as one Buffer: the chunk itself when there is one, otherwise a copy (the
// slow path: use it only where a contiguous buffer is really needed, e.g. a full decode).
export function frameToBuffer (frame: Frame): Buffer {
  if (frame.chunks.length === 1) return frame.chunks[0]
  if (frame.chunks.length === 0) return EMPTY
  return Buffer.concat(frame.chunks, frame.size)
}

// The frame's 4-byte size prefix: the bytes the reader kept when there are any, else a new one.
export function framePrefix (frame: Frame): Buffer {
  const prefix = frame.prefix
  if (prefix !== undefined && prefix.length === 4) return prefix
  const out = Buffer.allocUnsafe(4)
  out.writeInt32BE(frame.size, 0)
  return out
}
