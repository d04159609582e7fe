import type { Writable } from 'node:stream';
import type { ChannelModel } from 'amqplib';

/** The two members of amqplib's frame multiplexer (`connection.muxer`) this relies on. */
interface FrameMux {
  _readIncoming: () => void;
  readonly out: Writable;
}

function frameMuxOf(model: ChannelModel): FrameMux | undefined {
  const muxer = (model as unknown as { connection?: { muxer?: Partial<FrameMux> } }).connection
    ?.muxer;
  if (typeof muxer?._readIncoming !== 'function' || typeof muxer.out?.cork !== 'function') {
    return undefined;
  }
  return muxer as FrameMux;
}

/**
 * Makes one of amqplib's write passes leave in one socket write. amqplib gathers the frames of
 * every channel once per turn of the event loop, then writes them to the socket one by one; with
 * `noDelay` (which the component sets for latency, as Dapr's client does) each is a system call
 * of its own: one per publish and one per ack, the largest cost of
 * `pubsub.rabbitmq` under load (bench/pubsub). Holding the socket for the pass turns them into
 * one `writev`. Frames, their order and flow control are unchanged. Returns false, leaving the
 * connection as it is, when this amqplib version is laid out differently.
 */
export function batchFrameWrites(model: ChannelModel): boolean {
  const mux = frameMuxOf(model);
  if (mux === undefined) return false;
  const writePass = mux._readIncoming.bind(mux);
  const socket = mux.out;
  mux._readIncoming = () => {
    socket.cork();
    try {
      writePass();
    } finally {
      socket.uncork();
    }
  };
  return true;
}
