/**
 * The protobuf codec: turns the tagged TypeScript messages of src/protocol/messages.ts into Envelope
 * bytes and back, using protobufjs reflection over proto/ringwire.proto (the single source of the
 * wire format). The mapping is generic: a message's `type` is the name of the Envelope oneof field
 * that carries it, so adding a message to the .proto and to messages.ts needs no glue here.
 *
 * Decoding is cheap on purpose: the decoded protobufjs sub-message instance is returned as is, with
 * `type` set on it, instead of being copied by `toObject`. Its prototype supplies the proto3
 * defaults (0, false, '', null for an unset message field, an empty Uint8Array for unset bytes).
 * Consequence for callers: fields at their default value are inherited, not own properties, so
 * read fields by name; do not rely on `{...msg}`, `Object.keys` or `JSON.stringify` to see them.
 */
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { ErrorCode, RingwireError } from '../errors/errors.js';
import type { Message } from '../protocol/messages.js';
import { compilePlans, measureEnvelope, planFor, writeEnvelope, type TypePlan } from './encoder.js';

/** Re-exported here because handlers reach for it next to the codec; it lives in address.ts. */
export { validatePeerRef } from './address.js';

/**
 * Where the .proto lives relative to this module once compiled (dist/src/wire/codec.js ->
 * proto/ringwire.proto at the package root), so it resolves the same in a checkout and in an
 * installed package, whatever the working directory.
 */
const PROTO_URL = new URL('../../../proto/ringwire.proto', import.meta.url);

/** A shared zero-length buffer: the default of every unset bytes field (it cannot be mutated). */
const EMPTY_BYTES: Uint8Array = Buffer.alloc(0);

/** The largest request id (uint32 on the wire). */
export const MAX_REQ_ID = 0xffff_ffff;

interface Body {
  /** Its Envelope field's key (field number, wire type 2). */
  key: number;
  type: protobuf.Type;
  /** How encoder.ts writes it; null: protobufjs does (a field kind encoder.ts does not write). */
  plan: TypePlan | null;
}

interface Schema {
  envelope: protobuf.Type;
  /** Per body type name. */
  bodies: ReadonlyMap<string, Body>;
}

/**
 * The decoder assigns the oneof's virtual property (`body`) after each member it reads, and
 * protobufjs's setter then deletes every *other* member from the instance: 40-odd deletes per
 * decoded envelope, about 5% of a busy host's CPU in profiles, and it leaves the object in slow
 * dictionary mode. Decoded envelopes are fresh instances and our encoder takes plain objects, so
 * remembering the last member set gives the same answer ("last one wins", as protobuf says)
 * without the deletes. Installed before any message class is generated; this codec is the only
 * protobufjs user in the process.
 */
function rememberOneofMembers(): void {
  const util = protobuf.util as unknown as { oneOfGetter: unknown; oneOfSetter: unknown };
  util.oneOfGetter = () =>
    function (this: Record<string, unknown>) {
      return this['$oneof'];
    };
  util.oneOfSetter = () =>
    function (this: Record<string, unknown>, name: unknown) {
      this['$oneof'] = name;
    };
}

/** Strict like protobufjs's own (invalid UTF-8 is refused, not replaced). */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The Reader fields and methods the string reader below uses (protobufjs does not type them). */
interface RawReader {
  buf: Uint8Array;
  pos: number;
  len: number;
  size(): number;
}

/**
 * proto3 strings are read with `stringVerify`, which for strings under 64 bytes builds the result
 * one `+=` at a time (8 characters, then each of the rest singly): a 15-character address was 8
 * string allocations, and decoding addresses was the largest allocator after the handlers' own
 * frames in the bench-hotpath heap profile. This reads an ASCII string in one allocation and hands
 * anything else to the same strict decoder, so the same strings are accepted and refused.
 */
function readStringsInOnePiece(): void {
  const proto = protobuf.Reader.prototype as unknown as { stringVerify(this: RawReader): string };
  proto.stringVerify = function (this: RawReader): string {
    const length = this.size();
    const start = this.pos;
    const end = start + length;
    if (end > this.len) throw new RangeError(`index out of range: ${start} + ${length} > ${this.len}`);
    this.pos = end;
    const buf = this.buf;
    if (length < 64) {
      let high = 0;
      for (let i = start; i < end; i++) high |= buf[i]!;
      if (high < 0x80) return buf instanceof Buffer ? buf.toString('latin1', start, end) : String.fromCharCode.apply(null, buf.subarray(start, end) as unknown as number[]);
    }
    return strictUtf8.decode(buf.subarray(start, end));
  };
}

function loadSchema(): Schema {
  let root: protobuf.Root;
  rememberOneofMembers();
  readStringsInOnePiece();
  try {
    root = protobuf.loadSync(fileURLToPath(PROTO_URL));
  } catch (err) {
    throw new RingwireError(ErrorCode.INTERNAL, `cannot load ${fileURLToPath(PROTO_URL)}: ${String(err)}`, { cause: err });
  }
  root.resolveAll();
  const envelope = root.lookupType('ringwire.Envelope');
  const body = envelope.oneofs?.['body'];
  if (body === undefined) throw new RingwireError(ErrorCode.INTERNAL, 'ringwire.Envelope has no oneof body');
  normaliseBytesDefaults(root);
  const bodies = new Map<string, Body>();
  const plans = new Map<string, TypePlan | null>();
  for (const field of body.fieldsArray) {
    if (!(field.resolvedType instanceof protobuf.Type)) throw new RingwireError(ErrorCode.INTERNAL, `Envelope.${field.name} is not a message`);
    bodies.set(field.name, { key: (field.id << 3) | 2, type: field.resolvedType, plan: planFor(field.resolvedType, plans) });
  }
  compilePlans(plans);
  return { envelope, bodies };
}


/**
 * protobufjs leaves an unset bytes field as a frozen empty *array* on the prototype; the TS types
 * promise a Uint8Array. Patching the default once per type at load time fixes every decoded
 * message for free (no per-message work). The encoder only writes own properties, so the patched
 * prototype value is never sent.
 */
function normaliseBytesDefaults(ns: protobuf.NamespaceBase): void {
  for (const nested of ns.nestedArray) {
    if (nested instanceof protobuf.Type) {
      const proto = nested.ctor.prototype as Record<string, unknown>;
      for (const field of nested.fieldsArray) {
        if (field.type === 'bytes' && !field.repeated && field.partOf === null) proto[field.name] = EMPTY_BYTES;
      }
    }
    if (nested instanceof protobuf.Namespace) normaliseBytesDefaults(nested);
  }
}

const schema = loadSchema();

/** The Envelope oneof field names, i.e. every message `type` the codec knows (for tests and tools). */
export const MESSAGE_TYPES: readonly string[] = Object.freeze([...schema.bodies.keys()]);

/**
 * The message between `measureMessage` and `writeMessage`, in module variables rather than an
 * object per message: this runs for every message sent.
 */
let measuredMsg: Message | null = null;
let measuredReqId = 0;
let measuredBody: Body | null = null;
/** Set when protobufjs encoded the body (a type encoder.ts does not write). */
let measuredBytes: Uint8Array | null = null;

/**
 * The length of the Envelope carrying `msg` under `reqId` (a uint32; 0 is reserved for the hello
 * exchange and connection-level errors), ready for `writeMessage`, which must follow with the
 * same message before anything else is measured. Throws INTERNAL for a `type` the schema does not
 * know, an out-of-range id or a field of the wrong JavaScript type: programming errors of the
 * sender, never remote input. Nothing is written until the whole message is known to encode.
 */
export function measureMessage(reqId: number, msg: Message): number {
  measuredMsg = null;
  if (!Number.isInteger(reqId) || reqId < 0 || reqId > MAX_REQ_ID) {
    throw new RingwireError(ErrorCode.INTERNAL, `request id ${reqId} is not a uint32`);
  }
  const body = schema.bodies.get(msg.type);
  if (body === undefined) {
    throw new RingwireError(ErrorCode.INTERNAL, `cannot encode unknown message type ${JSON.stringify(msg.type)}`);
  }
  measuredBytes = null;
  if (body.plan !== null) {
    const n = measureEnvelope(reqId, body.key, body.plan, msg);
    measuredMsg = msg;
    measuredReqId = reqId;
    measuredBody = body;
    return n;
  }
  // A type encoder.ts does not write: protobufjs encodes it now, writeMessage copies the bytes.
  const w = protobuf.Writer.create();
  if (reqId !== 0) w.uint32(8).uint32(reqId);
  body.type.encode(msg as unknown as protobuf.Message, w.uint32(body.key).fork()).ldelim();
  const bytes = w.finish();
  measuredMsg = msg;
  measuredReqId = reqId;
  measuredBody = body;
  measuredBytes = bytes;
  return bytes.length;
}

/** Writes the Envelope `measureMessage` just measured into `buf` at `pos`; returns the end. */
export function writeMessage(reqId: number, msg: Message, buf: Buffer, pos: number): number {
  const body = measuredBody;
  if (measuredMsg !== msg || measuredReqId !== reqId || body === null) {
    throw new RingwireError(ErrorCode.INTERNAL, 'writeMessage without measureMessage of the same message');
  }
  measuredMsg = null;
  const bytes = measuredBytes;
  if (bytes !== null) {
    buf.set(bytes, pos);
    return pos + bytes.length;
  }
  return writeEnvelope(reqId, body.key, body.plan!, msg, buf, pos);
}

/** One message in an Envelope carrying `reqId`, as bytes of its own (see `measureMessage`). */
export function encodeMessage(reqId: number, msg: Message): Uint8Array {
  const out = Buffer.allocUnsafe(measureMessage(reqId, msg));
  writeMessage(reqId, msg, out, 0);
  return out;
}

/** Message types encoder.ts writes; any other goes through protobufjs (tests check there are none). */
export const PLANNED_TYPES: readonly string[] = Object.freeze([...schema.bodies].filter(([, b]) => b.plan !== null).map(([name]) => name));

/** A decoded Envelope: the request id and the body, tagged by `type`. */
export interface DecodedMessage {
  reqId: number;
  msg: Message;
}

/**
 * Decodes one Envelope. Validates structure only (the bytes parse as an Envelope and exactly one
 * known body is set) and throws PROTOCOL_ERROR otherwise; a body from a newer protocol (an unknown
 * field number) counts as "no body". Field contents (id lengths, addresses) are the handlers'
 * job, see `validatePeerRef`. Bytes fields are Buffers that may share memory with `bytes`: copy a
 * value before keeping it for long if `bytes` is part of a large buffer.
 */
export function decodeMessage(bytes: Uint8Array): DecodedMessage {
  let env: protobuf.Message & Record<string, unknown>;
  try {
    env = schema.envelope.decode(bytes) as protobuf.Message & Record<string, unknown>;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new RingwireError(ErrorCode.PROTOCOL_ERROR, `undecodable envelope (${bytes.length} bytes): ${why}`, { cause: err });
  }
  const body = env['body'];
  if (typeof body !== 'string') {
    throw new RingwireError(ErrorCode.PROTOCOL_ERROR, 'envelope carries no known message body');
  }
  if (!schema.bodies.has(body)) {
    throw new RingwireError(ErrorCode.PROTOCOL_ERROR, `envelope carries an unknown body ${JSON.stringify(body)}`);
  }
  const inner = env[body];
  if (inner === null || typeof inner !== 'object') {
    throw new RingwireError(ErrorCode.PROTOCOL_ERROR, `envelope body ${body} is empty`);
  }
  (inner as { type: string }).type = body;
  const reqId = env['reqId'];
  return { reqId: typeof reqId === 'number' ? reqId : 0, msg: inner as Message };
}
