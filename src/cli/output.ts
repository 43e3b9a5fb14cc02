/**
 * The CLI's only printing helpers: stdout for results (one line each), stderr for errors and logs.
 */
import type { PeerRef } from '../protocol/messages.js';
import { idToHex } from '../ring/index.js';

/** Exit codes of every command (DESIGN.md). */
export const ExitCode = Object.freeze({ OK: 0, ERROR: 1, USAGE: 2, NOT_FOUND: 3 });

export function printLine(line: string): void {
  process.stdout.write(line + '\n');
}

export function printJson(value: unknown): void {
  printLine(JSON.stringify(value));
}

export function printError(message: string): void {
  process.stderr.write(`chord: ${message}\n`);
}

/** A peer as JSON: `{"id": 40 hex digits, "addr": "host:port"}`. */
export function peerJson(peer: PeerRef | null): { id: string; addr: string } | null {
  return peer ? { id: idToHex(peer.id), addr: peer.addr } : null;
}
