// The compression codecs of record batches and of v0/v1 messages (attributes bits 0-2) and how
// to run them here:
//   0 none, 1 gzip (node:zlib), 2 snappy (pure TS, xerial framing as Kafka's Java client writes
//   it; raw blocks are read too), 3 lz4 (pure TS frame format), 4 zstd (node:zlib, Node >= 22.15
//   / 23.8; message format v2 only). 5-7 are unassigned.
// Decompression is capped (maxOutput) so that a small batch cannot inflate into gigabytes.
import { gunzipSync, gzipSync, zstdCompressSync, zstdDecompressSync } from 'node:zlib'
import { KproxyError } from '../kproxy-error.ts'
import { lz4FrameDecompress } from './compression-lz4.ts'
import { lz4FrameCompress } from './compression-lz4-encode.ts'
import { snappyDecompress } from './compression-snappy.ts'
import { snappyXerialCompress } from './compression-snappy-encode.ts'

export const COMPRESSION_NONE = 0
export const COMPRESSION_GZIP = 1
export const COMPRESSION_SNAPPY = 2
export const COMPRESSION_LZ4 = 3
export const COMPRESSION_ZSTD = 4

export const COMPRESSION_NAMES: readonly string[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']

export const DEFAULT_MAX_UNCOMPRESSED_SIZE = 100 * 1024 * 1024

export function compressionName (codec: number): string {
  return COMPRESSION_NAMES[codec] ?? `unknown (${codec})`
}

function unsupported (codec: number, what: string): KproxyError {
  return new KproxyError('KPROXY_ERR_UNSUPPORTED_COMPRESSION',
    `Record batches compressed with codec ${compressionName(codec)} cannot be ${what} by kproxy; ` +
    'use none, gzip, snappy, lz4 or zstd' + (codec > COMPRESSION_ZSTD ? ' (codec ids above 4 are not defined by Kafka)' : '') + '.')
}

function fromZlib (err: unknown, codec: number, maxOutput: number): KproxyError {
  if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
    return new KproxyError('KPROXY_ERR_RECORD_BATCH_TOO_LARGE',
      `${compressionName(codec)}-compressed records expand beyond ${maxOutput} bytes; raise the ` +
      'decompression limit if such batches are expected.', { cause: err })
  }
  return new KproxyError('KPROXY_ERR_RECORD_BATCH',
    `${compressionName(codec)}-compressed records are corrupt (${(err as Error).message}); the ` +
    'producer or the stored batch is damaged.', { cause: err })
}

export function decompress (codec: number, data: Buffer, maxOutput = DEFAULT_MAX_UNCOMPRESSED_SIZE): Buffer {
  switch (codec) {
    case COMPRESSION_NONE:
      return data
    case COMPRESSION_GZIP:
    case COMPRESSION_ZSTD:
      try {
        return codec === COMPRESSION_GZIP
          ? gunzipSync(data, { maxOutputLength: maxOutput })
          : zstdDecompressSync(data, { maxOutputLength: maxOutput })
      } catch (err) {
        throw fromZlib(err, codec, maxOutput)
      }
    case COMPRESSION_SNAPPY:
      return snappyDecompress(data, maxOutput)
    case COMPRESSION_LZ4:
      return lz4FrameDecompress(data, maxOutput)
    default:
      throw unsupported(codec, 'decompressed')
  }
}

// `magic`: the message format the bytes go into. Format v0 writes lz4 with the frame-header
// checksum of Kafka before 0.10 (KAFKA-1493); zstd exists from format v2 on.
export function compress (codec: number, data: Buffer, magic = 2): Buffer {
  switch (codec) {
    case COMPRESSION_NONE:
      return data
    case COMPRESSION_GZIP:
      return gzipSync(data)
    case COMPRESSION_SNAPPY:
      return snappyXerialCompress(data)
    case COMPRESSION_LZ4:
      return lz4FrameCompress(data, magic === 0)
    case COMPRESSION_ZSTD:
      if (magic < 2) {
        throw new KproxyError('KPROXY_ERR_UNSUPPORTED_COMPRESSION',
          `zstd cannot be used in message format v${magic} (Kafka added it with format v2); write the ` +
          'messages uncompressed or with gzip, snappy or lz4.')
      }
      return zstdCompressSync(data)
    default:
      throw unsupported(codec, 'compressed')
  }
}
