/**
 * The protobuf encoder of the send path: writes an Envelope straight into a caller's buffer, with
 * no intermediate buffers. It writes the bytes protobufjs's generated encoder writes for the same
 * message (fields by number, proto3 defaults left out, sub-messages length-delimited), which a
 * property test checks over every message type of the schema; it exists because protobufjs
 * encodes into a writer of its own, then copies out, and framing copied once more: in the
 * profile of `make bench-hotpath --tcp` encoding was 8% of the CPU of a routed get.
 *
 * A plan per message type is built once from the schema's reflection and compiled into two
 * functions (see `compile`): `measure` computes every (sub-)message's length and checks every
 * field's JavaScript type, so that `write` cannot fail half way through a frame. The schema may
 * only use the field kinds below (uint32, bool, double, string, bytes, message, repeated message;
 * no maps, enums or packed scalars); `planFor` refuses anything else, and codec.ts then keeps
 * protobufjs for that type.
 */
import type protobuf from 'protobufjs';
import { ErrorCode, RingwireError } from '../errors/errors.js';

const enum Kind {
  Uint32,
  Bool,
  Double,
  String,
  Bytes,
  Message,
  Messages,
}

interface FieldPlan {
  readonly name: string;
  readonly kind: Kind;
  /** The field's key (number << 3 | wire type) as a varint. */
  readonly key: number;
  readonly keyBytes: number;
  /** For message fields. */
  sub: TypePlan | null;
}

type MeasureFn = (m: object, depth: number) => number;
type WriteFn = (m: object, buf: Buffer, pos: number) => number;

/** How to encode one message type: its fields in field-number order, and its compiled passes. */
export interface TypePlan {
  readonly name: string;
  readonly fields: readonly FieldPlan[];
  /** The encoded length of a message's fields (without its own key and length); records sub-message lengths. */
  measure: MeasureFn;
  /** Writes a message's fields at `pos` (measured just before); returns the position after them. */
  write: WriteFn;
}

const notCompiled = (): never => {
  throw new RingwireError(ErrorCode.INTERNAL, 'encoder plan used before compilePlans');
};

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_DELIMITED = 2;

const SCALARS: Readonly<Record<string, { kind: Kind; wire: number }>> = {
  uint32: { kind: Kind.Uint32, wire: WIRE_VARINT },
  bool: { kind: Kind.Bool, wire: WIRE_VARINT },
  double: { kind: Kind.Double, wire: WIRE_FIXED64 },
  string: { kind: Kind.String, wire: WIRE_DELIMITED },
  bytes: { kind: Kind.Bytes, wire: WIRE_DELIMITED },
};

/**
 * The plan for `type` and every type it contains, or null when any field is of a kind this
 * encoder does not write (the caller keeps protobufjs for it). `plans` caches by type name and
 * lets recursive schemas resolve.
 */
export function planFor(type: protobuf.Type, plans: Map<string, TypePlan | null> = new Map()): TypePlan | null {
  const known = plans.get(type.fullName);
  if (known !== undefined) return known;
  const fields: FieldPlan[] = [];
  const plan: TypePlan = { name: type.name, fields, measure: notCompiled, write: notCompiled };
  plans.set(type.fullName, plan);
  for (const field of [...type.fieldsArray].sort((a, b) => a.id - b.id)) {
    field.resolve();
    if (field.map || field.partOf !== null || field.required || field.delimited) return refuse(plans, type);
    const resolved = field.resolvedType;
    let kind: Kind;
    let wire: number;
    if (resolved === null) {
      const scalar = SCALARS[field.type];
      if (scalar === undefined || field.repeated || field.hasPresence) return refuse(plans, type);
      kind = scalar.kind;
      wire = scalar.wire;
    } else if ('fieldsArray' in resolved) {
      kind = field.repeated ? Kind.Messages : Kind.Message;
      wire = WIRE_DELIMITED;
    } else {
      return refuse(plans, type); // an enum
    }
    const key = ((field.id << 3) | wire) >>> 0;
    fields.push({ name: field.name, kind, key, keyBytes: varintBytes(key), sub: null });
    if (resolved !== null) {
      const sub = planFor(resolved as protobuf.Type, plans);
      if (sub === null) return refuse(plans, type);
      fields[fields.length - 1]!.sub = sub;
    }
  }
  return plan;
}

/** Compiles the passes of every plan `planFor` made into `plans` (once, after all are made). */
export function compilePlans(plans: Map<string, TypePlan | null>): void {
  compile([...plans.values()].filter((p): p is TypePlan => p !== null));
}

function refuse(plans: Map<string, TypePlan | null>, type: protobuf.Type): null {
  plans.set(type.fullName, null);
  return null;
}

/** Bytes of `v` (a uint32) as a varint. */
function varintBytes(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x20_0000 ? 3 : v < 0x1000_0000 ? 4 : 5;
}

/**
 * Lengths of the sub-messages met by `measure`, in the order `write` meets them again: one array
 * for the process, reused for every message (a message is measured and written before the next).
 */
const lengths: number[] = [];
let lengthCount = 0;
let lengthRead = 0;

/** UTF-8 length of a string: its length when it is ASCII, as addresses and codes are. */
function utf8Length(s: string): number {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8');
  return s.length;
}

function writeVarint(buf: Buffer, pos: number, v: number): number {
  while (v > 0x7f) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

function writeString(buf: Buffer, pos: number, s: string): number {
  const len = utf8Length(s);
  pos = writeVarint(buf, pos, len);
  if (len === s.length) {
    for (let i = 0; i < len; i++) buf[pos + i] = s.charCodeAt(i);
  } else {
    buf.write(s, pos, len, 'utf8');
  }
  return pos + len;
}

function writeBytes(buf: Buffer, pos: number, b: Uint8Array): number {
  pos = writeVarint(buf, pos, b.length);
  buf.set(b, pos);
  return pos + b.length;
}

/** Reserves a slot for a sub-message's length (measure), in the order write will read it. */
function openSlot(): number {
  return lengthCount++;
}
function closeSlot(slot: number, len: number): number {
  lengths[slot] = len;
  return varintBytes(len) + len;
}
function nextLength(): number {
  return lengths[lengthRead++]!;
}

function badField(type: string, field: string, what: string, v: unknown): never {
  throw new RingwireError(ErrorCode.INTERNAL, `cannot encode ${type}.${field}: expected ${what}, got ${v === null ? 'null' : typeof v}`);
}

/** The helpers generated code calls, by the names it uses. */
const HELPERS = { varintBytes, utf8Length, writeVarint, writeString, writeBytes, openSlot, closeSlot, nextLength, badField } as const;

/**
 * Compiles `plan.measure` and `plan.write` for every plan in `plans`. Generated code, as
 * protobufjs's own encoder is, for one reason: a field read by a constant name (`m.token`) keeps
 * a fast inline cache, where a loop over field names reads `m[name]` through V8's megamorphic
 * path, which held a third of an interpreted encoder's time. The source is built only from the
 * schema's field names (checked to be identifiers) and numbers.
 */
function compile(plans: Iterable<TypePlan>): void {
  const all = [...plans];
  const index = new Map(all.map((p, i) => [p, i]));
  const measureSrc: string[] = [];
  const writeSrc: string[] = [];
  for (const [i, plan] of all.entries()) {
    const ms = [`function m${i}(m, d) {`, `  if (d > 32) badField(${JSON.stringify(plan.name)}, "", "a shallower message", m);`, '  let n = 0, v;'];
    const ws = [`function w${i}(m, b, p) {`, '  let v;'];
    for (const f of plan.fields) {
      if (!/^[A-Za-z_$][\w$]*$/.test(f.name)) throw new RingwireError(ErrorCode.INTERNAL, `field name ${JSON.stringify(f.name)} is not an identifier`);
      const bad = (what: string): string => `badField(${JSON.stringify(plan.name)}, ${JSON.stringify(f.name)}, ${JSON.stringify(what)}, v)`;
      const k = `${f.keyBytes}`;
      ms.push(`  v = m.${f.name};`, '  if (v !== undefined && v !== null) {');
      ws.push(`  v = m.${f.name};`, '  if (v !== undefined && v !== null) {');
      switch (f.kind) {
        case Kind.Uint32:
          ms.push(`    if (typeof v !== "number") ${bad('a number')};`, `    if (v !== 0) n += ${k} + varintBytes(v >>> 0);`);
          ws.push(`    if (v !== 0) p = writeVarint(b, writeVarint(b, p, ${f.key}), v >>> 0);`);
          break;
        case Kind.Bool:
          ms.push(`    if (v !== false) n += ${k} + 1;`);
          ws.push(`    if (v !== false) { p = writeVarint(b, p, ${f.key}); b[p++] = v ? 1 : 0; }`);
          break;
        case Kind.Double:
          ms.push(`    if (typeof v !== "number") ${bad('a number')};`, `    if (!Object.is(v, 0)) n += ${k} + 8;`);
          ws.push(`    if (!Object.is(v, 0)) p = b.writeDoubleLE(v, writeVarint(b, p, ${f.key}));`);
          break;
        case Kind.String:
          ms.push(`    if (typeof v !== "string") ${bad('a string')};`, `    if (v.length !== 0) { const len = utf8Length(v); n += ${k} + varintBytes(len) + len; }`);
          ws.push(`    if (v.length !== 0) p = writeString(b, writeVarint(b, p, ${f.key}), v);`);
          break;
        case Kind.Bytes:
          ms.push(`    if (!(v instanceof Uint8Array)) ${bad('a Uint8Array')};`, `    if (v.length !== 0) n += ${k} + varintBytes(v.length) + v.length;`);
          ws.push(`    if (v.length !== 0) p = writeBytes(b, writeVarint(b, p, ${f.key}), v);`);
          break;
        case Kind.Message: {
          const sub = index.get(f.sub!)!;
          ms.push(`    if (typeof v !== "object") ${bad('a message')};`, `    const s = openSlot(); n += ${k} + closeSlot(s, m${sub}(v, d + 1));`);
          ws.push(`    p = w${sub}(v, b, writeVarint(b, writeVarint(b, p, ${f.key}), nextLength()));`);
          break;
        }
        case Kind.Messages: {
          const sub = index.get(f.sub!)!;
          ms.push(
            `    if (!Array.isArray(v)) ${bad('an array')};`,
            '    for (let i = 0; i < v.length; i++) {',
            '      const e = v[i];',
            `      if (e === null || typeof e !== "object") badField(${JSON.stringify(plan.name)}, ${JSON.stringify(f.name)}, "messages", e);`,
            `      const s = openSlot(); n += ${k} + closeSlot(s, m${sub}(e, d + 1));`,
            '    }',
          );
          ws.push(`    for (let i = 0; i < v.length; i++) p = w${sub}(v[i], b, writeVarint(b, writeVarint(b, p, ${f.key}), nextLength()));`);
          break;
        }
      }
      ms.push('  }');
      ws.push('  }');
    }
    ms.push('  return n;', '}');
    ws.push('  return p;', '}');
    measureSrc.push(ms.join('\n'));
    writeSrc.push(ws.join('\n'));
  }
  const names = Object.keys(HELPERS);
  const body = `${measureSrc.join('\n')}\n${writeSrc.join('\n')}\nreturn [${all.map((_, i) => `[m${i}, w${i}]`).join(', ')}];`;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- see the comment above
  const made = new Function(...names, body)(...Object.values(HELPERS)) as Array<[MeasureFn, WriteFn]>;
  all.forEach((plan, i) => {
    plan.measure = made[i]![0];
    plan.write = made[i]![1];
  });
}

/**
 * Measures the Envelope `{ reqId, <bodyKey>: msg }` (reqId 0 is left out, as protobufjs leaves out
 * a default). Throws INTERNAL for a field of the wrong JavaScript type. Must be followed by
 * `writeEnvelope` with the same arguments before another message is measured.
 */
export function measureEnvelope(reqId: number, bodyKey: number, plan: TypePlan, msg: object): number {
  lengthCount = 0;
  lengthRead = 0;
  const body = plan.measure(msg, 0);
  lengths[lengthCount++] = body;
  return (reqId !== 0 ? 1 + varintBytes(reqId) : 0) + varintBytes(bodyKey) + varintBytes(body) + body;
}

/** Writes the Envelope just measured at `pos` of `buf` (room checked by the caller); returns the end. */
export function writeEnvelope(reqId: number, bodyKey: number, plan: TypePlan, msg: object, buf: Buffer, pos: number): number {
  const body = lengths[lengthCount - 1]!;
  if (reqId !== 0) pos = writeVarint(buf, writeVarint(buf, pos, 8), reqId);
  pos = writeVarint(buf, writeVarint(buf, pos, bodyKey), body);
  return plan.write(msg, buf, pos);
}
