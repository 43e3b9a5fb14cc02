/**
 * A worker thread hosting some of the baseline's relays: listens on `count` OS-assigned ports,
 * reports them, takes the full address list, then serves until told to close.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Relay, type FrameLink } from './relay.js';

type Command = { type: 'peers'; peers: Array<{ host: string; port: number }>; indices: number[] } | { type: 'close' };

const { count, host } = workerData as { count: number; host: string };
const relays: Relay[] = [];
const shared = new Map<number, FrameLink>(); // one connection per target for the whole worker
for (let i = 0; i < count; i++) relays.push(new Relay(shared));
const ports = await Promise.all(relays.map((r) => r.listen(host)));
parentPort!.postMessage({ type: 'listening', ports });
parentPort!.on('message', (cmd: Command) => {
  if (cmd.type === 'peers') {
    relays.forEach((r, i) => r.setPeers(cmd.peers, cmd.indices[i]!));
    parentPort!.postMessage({ type: 'ready' });
  } else {
    void Promise.all(relays.map((r) => r.close())).then(() => {
      parentPort!.postMessage({ type: 'closed' });
      parentPort!.close();
    });
  }
});
