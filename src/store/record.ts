/**
 * Records and their last-writer-wins order. Every copy of a key converges on the same record
 * because merging is a pure, total order: replicas that saw writes in any order, through any mix
 * of replication, repair and hand-off, end up keeping the same winner.
 */
import type { StoredRecord } from '../protocol/messages.js';

/** Bytes a record is assumed to take on the wire beyond its key and value (framing, version, flags). */
export const RECORD_OVERHEAD_BYTES = 32;

/**
 * The version an owner gives a new write of a key: the clock, but always above the version it
 * already holds (and at least 1). A peer that becomes owner with a slower clock, or a burst of
 * writes within one millisecond, therefore never produces a version that loses to an older write.
 */
export function nextVersion(nowMs: number, existing: StoredRecord | undefined): number {
  const floor = existing ? existing.version + 1 : 1;
  return Math.max(Math.floor(nowMs), floor);
}

/** Byte-wise comparison of two arrays (shorter prefix first): the last tie-break between records. */
export function compareBytes(a: Uint8Array, b: Uint8Array): -1 | 0 | 1 {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  }
  if (a.length === b.length) return 0;
  return a.length < b.length ? -1 : 1;
}

/**
 * Orders two records of the same key: 1 when `a` wins, -1 when `b` wins, 0 when they are identical.
 * Higher version wins; on equal versions a tombstone beats a value (a delete is never undone by a
 * concurrent copy), then the byte-wise larger value wins, so every peer picks the same winner.
 */
export function compareRecords(a: StoredRecord, b: StoredRecord): -1 | 0 | 1 {
  if (a.version !== b.version) return a.version > b.version ? 1 : -1;
  if (a.deleted !== b.deleted) return a.deleted ? 1 : -1;
  return compareBytes(a.value, b.value);
}

/**
 * True when `incoming` should replace `existing` (nothing held counts as losing). Identical records
 * do not replace each other, so a merge that changes nothing can be detected and not counted.
 */
export function supersedes(incoming: StoredRecord, existing: StoredRecord | undefined): boolean {
  return existing === undefined || compareRecords(incoming, existing) > 0;
}

/** A tombstone for `key` at `version`: an empty value marked deleted. */
export function tombstone(key: Uint8Array, version: number): StoredRecord {
  return { key, value: new Uint8Array(0), version, deleted: true };
}

/** Approximate encoded size of a record, used to bound replication batches. */
export function recordSizeBytes(record: StoredRecord): number {
  return record.key.length + record.value.length + RECORD_OVERHEAD_BYTES;
}

/** An independent copy of a record, so callers and the store never share mutable byte arrays. */
export function copyRecord(record: StoredRecord): StoredRecord {
  return { key: record.key.slice(), value: record.value.slice(), version: record.version, deleted: record.deleted };
}
