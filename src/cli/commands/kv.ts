/**
 * `chord put|get|del|lookup|ring`: key-value access and inspection through any peer.
 */
import { ErrorCode, RingwireError } from '../../errors/errors.js';
import { RingClient } from '../../net/client.js';
import { idToHex } from '../../ring/index.js';
import { parseAddr, parseFlags, takePositionals } from '../args.js';
import { ExitCode, peerJson, printJson, printLine } from '../output.js';

const VIA = { via: { type: 'string' as const }, json: { type: 'boolean' as const } };

/** The shared shape of these commands: positionals by name, `--via H:P`, optional `--json`. */
function parseViaCommand(argv: string[], command: string, names: string[]): { args: string[]; via: string; json: boolean } {
  const { values, positionals } = parseFlags(argv, VIA, command);
  const args = takePositionals(command, positionals, names);
  return { args, via: parseAddr('via', values.via as string | undefined), json: values.json === true };
}

async function withClient<T>(fn: (client: RingClient) => Promise<T>): Promise<T> {
  const client = new RingClient();
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

export async function putCommand(argv: string[]): Promise<number> {
  const { args: [key, value], via, json } = parseViaCommand(argv, 'put', ['key', 'value']);
  const res = await withClient((c) => c.put(via, key!, value!));
  if (json) printJson({ key, version: res.version, copies: res.copies, hops: res.hops });
  else printLine('OK');
  return ExitCode.OK;
}

export async function getCommand(argv: string[]): Promise<number> {
  const { args: [key], via, json } = parseViaCommand(argv, 'get', ['key']);
  const res = await withClient((c) => c.get(via, key!));
  if (!res.found) throw new RingwireError(ErrorCode.NOT_FOUND, `key ${JSON.stringify(key)} not found`);
  const value = Buffer.from(res.value).toString('utf8');
  if (json) printJson({ key, value });
  else printLine(value);
  return ExitCode.OK;
}

export async function delCommand(argv: string[]): Promise<number> {
  const { args: [key], via, json } = parseViaCommand(argv, 'del', ['key']);
  const res = await withClient((c) => c.delete(via, key!));
  if (!res.found) throw new RingwireError(ErrorCode.NOT_FOUND, `key ${JSON.stringify(key)} not found (nothing deleted)`);
  if (json) printJson({ key, deleted: true, version: res.version });
  else printLine('OK');
  return ExitCode.OK;
}

export async function lookupCommand(argv: string[]): Promise<number> {
  const { args: [key], via, json } = parseViaCommand(argv, 'lookup', ['key']);
  const res = await withClient((c) => c.lookup(via, key!));
  if (json) printJson({ key, keyId: idToHex(res.keyId), owner: peerJson(res.owner), hops: res.hops, path: res.path.map(peerJson) });
  else printLine(`${key} -> ${idToHex(res.keyId)} owned by ${idToHex(res.owner.id)} at ${res.owner.addr} (${res.hops} hops)`);
  return ExitCode.OK;
}

export async function ringCommand(argv: string[]): Promise<number> {
  const { via, json } = parseViaCommand(argv, 'ring', []);
  const infos = await withClient((c) => c.walk(via));
  const rows = infos.map((i) => ({
    id: idToHex(i.self.id),
    addr: i.self.addr,
    predecessor: peerJson(i.predecessor),
    successors: i.successors.map((s) => peerJson(s)),
    keys: i.keys,
  }));
  if (json) {
    printJson(rows);
  } else {
    printLine(`${rows.length} peers, walked from ${via}`);
    for (const r of rows) {
      printLine(`${r.id.slice(0, 12)}  ${r.addr.padEnd(21)}  pred ${r.predecessor ? r.predecessor.id.slice(0, 12) : '(unknown)   '}  succ ${r.successors[0]?.id.slice(0, 12) ?? '-'}  keys ${r.keys}`);
    }
  }
  return ExitCode.OK;
}
