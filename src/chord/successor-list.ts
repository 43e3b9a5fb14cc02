/**
 * Pure operations on a successor list: the r peers that follow a peer clockwise, nearest first.
 *
 * Lists are treated as immutable values (every operation returns a new array), so the peer can
 * hand its current list to a reply or a listener without copying, and a concurrent step that
 * still holds the old list never sees it change under it. The list never contains the owning peer
 * itself, except as the single entry [self] of a peer that is alone: in a ring smaller than r+1,
 * a successor's list wraps around to us, and everything from us onward is already ours.
 */
import type { PeerRef } from '../protocol/messages.js';
import { samePeer, samePeerAndAddr } from './peer-ref.js';

/** Index of `peer` (by id) in `list`, or -1. */
export function indexOfPeer(list: readonly PeerRef[], peer: PeerRef): number {
  for (let i = 0; i < list.length; i++) if (samePeer(list[i], peer)) return i;
  return -1;
}

/**
 * The list stabilize and join adopt: `head` (a successor that just answered) followed by the
 * list it reported, stopping where that list wraps back to `self`, skipping duplicates, and
 * truncated to `r`. A head equal to self yields [self] (the peer is alone).
 */
export function mergeSuccessors(self: PeerRef, head: PeerRef, tail: readonly PeerRef[], r: number): PeerRef[] {
  if (samePeer(head, self)) return [self];
  const out: PeerRef[] = [head];
  for (let i = 0; i < tail.length && out.length < r; i++) {
    const p = tail[i]!;
    if (samePeer(p, self)) break;
    if (indexOfPeer(out, p) < 0) out.push(p);
  }
  return out;
}

/**
 * `list` without `peer`. A list that empties becomes [self]: a peer always has a successor, and
 * pointing at itself is the one choice that never routes to a dead peer.
 */
export function withoutPeer(self: PeerRef, list: readonly PeerRef[], peer: PeerRef): readonly PeerRef[] {
  const i = indexOfPeer(list, peer);
  if (i < 0) return list;
  const out = list.slice(0, i).concat(list.slice(i + 1));
  return out.length === 0 ? [self] : out;
}

/**
 * The list after `leaver` (at `index`) announced a graceful leave with its own successor list:
 * the leaver is replaced, in place, by its successors, so the entries up to the leaver stay in
 * front and the ring order is kept; duplicates, self and the leaver are skipped; truncated to r.
 */
export function spliceLeaver(
  self: PeerRef,
  list: readonly PeerRef[],
  index: number,
  leaverSuccessors: readonly PeerRef[],
  r: number,
): PeerRef[] {
  const leaver = list[index]!;
  const out: PeerRef[] = list.slice(0, index);
  const add = (p: PeerRef): boolean => {
    if (out.length >= r) return false;
    if (samePeer(p, self)) return false;
    if (!samePeer(p, leaver) && indexOfPeer(out, p) < 0) out.push(p);
    return true;
  };
  for (const p of leaverSuccessors) if (!add(p)) break;
  for (let i = index + 1; i < list.length; i++) if (!add(list[i]!)) break;
  return out.length === 0 ? [self] : out;
}

/** Same peers with the same addresses in the same order (decides whether a change is reported). */
export function sameList(a: readonly PeerRef[], b: readonly PeerRef[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!samePeerAndAddr(a[i]!, b[i]!)) return false;
  return true;
}
