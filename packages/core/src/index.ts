export { KproxyError, isKproxyError } from './kproxy-error.ts'
export { ERROR_CODES, isKproxyCode } from './errors/error-codes.ts'
export type { ErrorCodeSpec, KproxyCode, KproxyErrorCode, KproxyWarnCode } from './errors/error-codes.ts'
export { createCa, issueCertificate, pemKeystore } from './certs/x509.ts'
export type { CertificateAuthority, CreateCaOptions, IssueCertificateOptions, IssuedCertificate } from './certs/x509.ts'
export { generateRsaKeyPair, RSA_KEY_SIZES, DEFAULT_RSA_KEY_SIZE } from './certs/keys.ts'
export type { RsaKeyPair } from './certs/keys.ts'
export { FrameReader, frameHead, frameToBuffer, DEFAULT_MAX_FRAME_SIZE } from './protocol/frame-reader.ts'
export type { Frame, FrameReaderOptions } from './protocol/frame-reader.ts'
export { crc32c, crc32cChunks } from './protocol/crc32c.ts'
export {
  COMPRESSION_NONE, COMPRESSION_GZIP, COMPRESSION_SNAPPY, COMPRESSION_LZ4, COMPRESSION_ZSTD, COMPRESSION_NAMES,
  DEFAULT_MAX_UNCOMPRESSED_SIZE, compress, compressionName, decompress
} from './protocol/compression.ts'
export {
  RECORD_BATCH_HEADER_SIZE, RECORD_BATCH_LOG_OVERHEAD, RECORD_BATCH_MAGIC, ATTR_COMPRESSION_MASK, ATTR_LOG_APPEND_TIME,
  ATTR_TRANSACTIONAL, ATTR_CONTROL, ATTR_DELETE_HORIZON, readBatchHeader, readBatches, countBatches, computeBatchCrc,
  verifyBatchCrc, batchCompression, isTransactionalBatch, isControlBatch
} from './protocol/record-batch.ts'
export type { RecordBatchHeader, RecordBatchView, PartialBatch, RecordBatchList } from './protocol/record-batch.ts'
export {
  decodeRecordBatch, decodeRecords, recordOffset, recordTimestamp, readControlRecord, CONTROL_ABORT, CONTROL_COMMIT
} from './protocol/record-batch-records.ts'
export type { KafkaRecord, RecordHeader, DecodeRecordsOptions, DecodedBatch, ControlRecord } from './protocol/record-batch-records.ts'
export { encodeRecordBatch } from './protocol/record-batch-encode.ts'
export type { RecordBatchInput, RecordInput, RecordHeaderInput } from './protocol/record-batch-encode.ts'
export {
  chunksLength, decodableApi, decodeRequest, decodeResponse, encodeRequest, encodeResponse, getApi, hasApi, rewriteResponse, supportedApi,
  ErrorCode, errorByCode, errorByName, KAFKA_ERRORS
} from './protocol/codec.ts'
export type { ApiKeyNumber, DecodedRequest, DecodedResponse, KafkaErrorInfo, VersionScope } from './protocol/codec.ts'
export {
  peekRequestHeader, readRequestHeader, readResponseHeader, requestHeaderVersion, responseHeaderVersion, writeRequestHeader,
  writeResponseHeader
} from './protocol/headers.ts'
export type { PeekedRequestHeader, ReadRequestHeader, RequestHeader, ResponseHeader } from './protocol/headers.ts'
export {
  API_TABLE, ApiKey, apiByKey, apiByName, BRIDGED_APIS, BRIDGED_FROM_KAFKA_VERSION, decodableVersions, intersectVersions, supportedVersions
} from './protocol/api-keys.ts'
export type { ApiSpec, BridgedApi, RequestBodies, ResponseBodies, VersionRange } from './protocol/api-keys.ts'
export { Reader, ZERO_UUID, EMPTY_BUFFER } from './protocol/primitives/reader.ts'
export type { TaggedField } from './protocol/primitives/reader.ts'
export { Writer } from './protocol/primitives/writer.ts'
export type { FieldSchema, MessageCodec, MessageSchema } from './protocol/primitives/message-codec.ts'
