/**
 * The requests a peer sends to check its neighbours: ping (is it alive?) and getState (its
 * predecessor and successor list). Every reply is validated here, so nothing unchecked from the
 * wire reaches the ring state, and every answer clears the peer from the recently-gone memory.
 */
import { ErrorCode, RingwireError } from '../errors/errors.js';
import { expectReply, type PeerRef, type Request, type Response } from '../protocol/messages.js';
import type { GoneCache } from './gone-cache.js';
import { checkOptionalPeerRef, checkPeerList, checkPeerRef, describePeer, samePeer } from './peer-ref.js';
import type { Transport } from './transport.js';

/** Longest peer list accepted in a reply or a leave notice. */
export const MAX_WIRE_LIST = 256;

/** A neighbour's state as getState reports it, validated. */
export interface NeighbourState {
  predecessor: PeerRef | null;
  successors: readonly PeerRef[];
}

/** Sends the peer's own requests with its timeout. */
export class Probe {
  private readonly transport: Transport;
  private readonly timeoutMs: number;
  private readonly gone: GoneCache;

  constructor(components: { transport: Transport }, init: { timeoutMs: number; gone: GoneCache }) {
    this.transport = components.transport;
    this.timeoutMs = init.timeoutMs;
    this.gone = init.gone;
  }

  /** Any request, with the peer's timeout. */
  request(addr: string, req: Request): Promise<Response> {
    return this.transport.request(addr, req, { timeoutMs: this.timeoutMs });
  }

  /** True when `peer` answers a ping: the check behind every pointer we adopt. Never throws. */
  async answers(peer: PeerRef): Promise<boolean> {
    try {
      expectReply(await this.request(peer.addr, { type: 'ping' }), 'pong');
      this.gone.alive(peer.addr);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * `peer`'s predecessor and successor list. Throws what the transport throws; a reply that is
   * malformed, or comes from another id at that address (a restarted peer), is PROTOCOL_ERROR,
   * which counts as a peer failure: the peer we meant is gone.
   */
  async getState(peer: PeerRef): Promise<NeighbourState> {
    const res = expectReply(await this.request(peer.addr, { type: 'getState' }), 'state');
    const code = ErrorCode.PROTOCOL_ERROR;
    const self = checkPeerRef(res.self, 'state.self', code);
    if (!samePeer(self, peer)) throw new RingwireError(code, `${peer.addr} is now ${describePeer(self)}, not ${describePeer(peer)}`);
    const state = {
      predecessor: checkOptionalPeerRef(res.predecessor, 'state.predecessor', code),
      successors: checkPeerList(res.successors, 'state.successors', MAX_WIRE_LIST, code),
    };
    this.gone.alive(peer.addr);
    return state;
  }
}
