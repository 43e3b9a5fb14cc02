/**
 * The one request handler of a peer: chord requests to the chord core, key-value requests to the
 * store, `getInfo` answered from both. It lives with the store (the lowest layer that knows both
 * halves) so the TCP node and the simulator share it and answer every request the same way.
 */
import type { ChordPeer } from '../chord/peer.js';
import type { RequestHandler } from '../chord/transport.js';
import { ErrorCode, RingwireError } from '../errors/errors.js';
import type { Request, Response } from '../protocol/messages.js';
import type { KvStore } from './kv-store.js';

export function composeHandler(chord: ChordPeer, store: KvStore): RequestHandler {
  return (req: Request): Response | Promise<Response> => {
    if (req.type === 'getInfo') {
      return Promise.resolve({
        type: 'info',
        self: chord.self,
        predecessor: chord.predecessor,
        successors: [...chord.successors],
        fingers: chord.fingerPeers(),
        keys: store.ownedKeyCount(),
        stored: store.recordCount(),
      });
    }
    const answer = chord.handle(req) ?? store.handle(req);
    if (answer) return answer;
    return Promise.reject(new RingwireError(ErrorCode.UNKNOWN_MESSAGE, `peer does not handle ${req.type} requests`));
  };
}

/**
 * A peer's graceful leave, the part the TCP node and the simulator share: the store stops its
 * repair, chord stops its maintenance (see ChordPeer.quiesce), the store hands its records off,
 * then chord tells the neighbours. The first two steps happen before this returns its promise.
 * Throws what the hand-off or the leave threw (NOT_READY: every successor is leaving too).
 */
export async function leaveGracefully(chord: ChordPeer, store: KvStore): Promise<void> {
  store.stop();
  chord.quiesce();
  await store.handOff();
  await chord.leave();
}
