/**
 * One peer's records in memory: owned keys, replicas and tombstones alike. Each entry keeps its
 * key id (SHA-1 of the key) next to the record, because every ownership question the store asks
 * (what do I own, what must move to a new predecessor) is about key ids, and hashing once on write
 * is cheaper than hashing on every repair round.
 */
import { keyId } from '../ring/hash.js';
import type { Id } from '../ring/id.js';
import type { StoredRecord } from '../protocol/messages.js';
import { supersedes } from './record.js';

/** A held record and its key's ring position. */
export interface LocalEntry {
  readonly record: StoredRecord;
  readonly keyId: Id;
}

/** Map key for a byte key: latin1 maps each byte to one char, so distinct keys never collide. */
function mapKey(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

/**
 * The record map. Writes go through `merge`, which applies last-writer-wins, so no caller can
 * replace a newer record with an older one by accident. Records are stored as given: callers pass
 * records they no longer mutate (the store copies user bytes before they get here).
 */
export class LocalStore {
  private readonly entries = new Map<string, LocalEntry>();
  private live = 0;
  private byteCount = 0;

  /** The record held for `key`, tombstones included; undefined when nothing is held. */
  get(key: Uint8Array): StoredRecord | undefined {
    return this.entries.get(mapKey(key))?.record;
  }

  /**
   * Keeps `record` if it beats what is held (see `supersedes`); returns whether it was stored.
   * `id` may be passed when the caller already hashed the key.
   */
  merge(record: StoredRecord, id?: Id): boolean {
    const k = mapKey(record.key);
    const held = this.entries.get(k);
    if (!supersedes(record, held?.record)) return false;
    if (held && !held.record.deleted) this.live--;
    if (!record.deleted) this.live++;
    this.byteCount += record.key.byteLength + record.value.byteLength - (held ? held.record.key.byteLength + held.record.value.byteLength : 0);
    this.entries.set(k, { record, keyId: held?.keyId ?? id ?? keyId(record.key) });
    return true;
  }

  /** Every held entry, in insertion order (a snapshot, safe to use across awaits). */
  snapshot(): LocalEntry[] {
    return [...this.entries.values()];
  }

  /** Entries whose key id satisfies `pred` (a snapshot). */
  select(pred: (keyId: Id) => boolean): LocalEntry[] {
    const out: LocalEntry[] = [];
    for (const e of this.entries.values()) if (pred(e.keyId)) out.push(e);
    return out;
  }

  /** Live (non-tombstone) records whose key id satisfies `pred`. */
  countLive(pred: (keyId: Id) => boolean): number {
    let n = 0;
    for (const e of this.entries.values()) if (!e.record.deleted && pred(e.keyId)) n++;
    return n;
  }

  /** Live (non-tombstone) records held. */
  liveCount(): number {
    return this.live;
  }

  /** Bytes of keys and values held, tombstones included. */
  get bytes(): number {
    return this.byteCount;
  }

  /** Records held, tombstones included. */
  get size(): number {
    return this.entries.size;
  }
}
