/**
 * A bound on what waits to be sent on a UDP socket. When the kernel's send buffer is full,
 * libuv keeps every further datagram in its own queue without limit; past this bound the
 * datagram is dropped and counted instead, so a stalled network cannot grow memory.
 */
export interface SendQueueProbe {
  getSendQueueSize(): number;
  getSendQueueCount(): number;
}

export interface SendQueueLimits {
  /** Most bytes waiting in libuv's queue (default 8 MiB). */
  maxBytes: number;
  /** Most datagrams waiting (default 4096). */
  maxCount: number;
}

export const DEFAULT_SEND_QUEUE_LIMITS: SendQueueLimits = Object.freeze({ maxBytes: 8 << 20, maxCount: 4096 });

/** The errno-like code counted for a datagram dropped because the send queue is full. */
export const SEND_QUEUE_FULL = 'ESENDQUEUEFULL';

/** True when one more datagram would go past the bound. */
export function sendQueueFull(socket: SendQueueProbe, limits: SendQueueLimits = DEFAULT_SEND_QUEUE_LIMITS): boolean {
  return socket.getSendQueueCount() >= limits.maxCount || socket.getSendQueueSize() >= limits.maxBytes;
}
