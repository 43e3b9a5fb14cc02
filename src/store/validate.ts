/**
 * Checks on keys, values and records, applied to user calls and to everything that arrives from
 * the wire. A peer must not store what a buggy or hostile sender makes up (empty keys, huge
 * values, NaN versions), because bad records would then spread through replication.
 */
import { ErrorCode, RingwireError } from '../errors/errors.js';
import type { StoredRecord } from '../protocol/messages.js';

/** The size limits a store enforces. */
export interface StoreLimits {
  maxKeyBytes: number;
  maxValueBytes: number;
}

/** Throws INVALID_REQUEST unless `key` is 1..maxKeyBytes bytes. */
export function checkKey(key: unknown, limits: StoreLimits): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array)) {
    throw new RingwireError(ErrorCode.INVALID_REQUEST, 'key must be bytes');
  }
  if (key.length === 0) throw new RingwireError(ErrorCode.INVALID_REQUEST, 'key must not be empty');
  if (key.length > limits.maxKeyBytes) {
    throw new RingwireError(
      ErrorCode.INVALID_REQUEST,
      `key is ${key.length} bytes, the limit is ${limits.maxKeyBytes} bytes`,
    );
  }
}

/** Throws VALUE_TOO_LARGE (naming the size and the limit) unless `value` fits. */
export function checkValue(value: unknown, limits: StoreLimits): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new RingwireError(ErrorCode.INVALID_REQUEST, 'value must be bytes');
  }
  if (value.length > limits.maxValueBytes) {
    throw new RingwireError(
      ErrorCode.VALUE_TOO_LARGE,
      `value is ${value.length} bytes, the limit is ${limits.maxValueBytes} bytes`,
    );
  }
}

/** Throws INVALID_REQUEST / VALUE_TOO_LARGE unless `record` is a record this store could have written. */
export function checkRecord(record: unknown, limits: StoreLimits): asserts record is StoredRecord {
  if (typeof record !== 'object' || record === null) {
    throw new RingwireError(ErrorCode.INVALID_REQUEST, 'record must be an object');
  }
  const r = record as Partial<StoredRecord>;
  checkKey(r.key, limits);
  checkValue(r.value, limits);
  if (typeof r.version !== 'number' || !Number.isFinite(r.version) || r.version < 0) {
    throw new RingwireError(ErrorCode.INVALID_REQUEST, `record version must be a finite number >= 0, got ${String(r.version)}`);
  }
  if (typeof r.deleted !== 'boolean') {
    throw new RingwireError(ErrorCode.INVALID_REQUEST, 'record deleted flag must be a boolean');
  }
  if (r.deleted && r.value.length > 0) {
    throw new RingwireError(ErrorCode.INVALID_REQUEST, 'a tombstone must carry an empty value');
  }
}

/** Throws unless `records` is an array of at most `maxRecords` valid records. */
export function checkRecords(records: unknown, limits: StoreLimits, maxRecords: number): asserts records is StoredRecord[] {
  if (!Array.isArray(records)) throw new RingwireError(ErrorCode.INVALID_REQUEST, 'records must be a list');
  if (records.length > maxRecords) {
    throw new RingwireError(ErrorCode.INVALID_REQUEST, `${records.length} records in one message, the limit is ${maxRecords}`);
  }
  for (const r of records) checkRecord(r, limits);
}
