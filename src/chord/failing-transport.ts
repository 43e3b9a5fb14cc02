import { ErrorCode, RingwireError } from '../errors/errors.js';
import type { Request, Response } from '../protocol/messages.js';
import type { Transport } from './transport.js';

/** A transport where every peer is unreachable: for testing how the core behaves cut off. */
export class FailingTransport implements Transport {
  async request(addr: string, req: Request): Promise<Response> {
    throw new RingwireError(ErrorCode.UNREACHABLE, `${addr} unreachable (failing transport, ${req.type})`);
  }
}
