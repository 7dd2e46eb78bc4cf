/** The bridge's own counters: plain numbers on the main thread, read by the status endpoint. */
import { DROP_REASONS, type DropReason } from '../wire/types.js';

export interface Counters {
  egress: {
    /** Event texts received from the event socket. */
    events: number;
    /** Datagrams built (each is sent to every destination). */
    datagrams: number;
    /** Events the bindings do not send (the bridge subscribes to a few for itself). */
    notBound: number;
    /** API events raised by the bridge's own `api` commands: never sent (src/esl/own-api-commands.ts). */
    ownCommand: number;
    /** Events whose datagram would exceed max-datagram: not sent, logged with name and size. */
    tooLarge: number;
    /** Event texts without an Event-Name. */
    unreadable: number;
    /** Events lost to a failed worker batch or a full queue. */
    lost: number;
    /** Times the event socket was paused because the egress queue was full. */
    readPauses: number;
  };
  ingress: {
    datagrams: number;
    /** Commands handed to the sendevent injectors. */
    fired: number;
    dropped: Record<DropReason, number>;
    /** Datagrams lost to a failed worker batch or a full queue. */
    lost: number;
    /** Datagrams the kernel dropped on the bridge's sockets, receive buffer full (Linux, /proc/net/udp). */
    kernelRcvbufDrops: number;
  };
  /** peerup/peerdown fired into FreeSWITCH; eventsRefused: not fired, over the rate limit. */
  peers: { up: number; down: number; eventsRefused: number };
  reloads: { applied: number; rejected: number; unchanged: number };
  /** Worker threads that failed outside a task (replaced by the pool). */
  workerErrors: number;
}

export function newCounters(): Counters {
  return {
    egress: { events: 0, datagrams: 0, notBound: 0, ownCommand: 0, tooLarge: 0, unreadable: 0, lost: 0, readPauses: 0 },
    ingress: {
      datagrams: 0,
      fired: 0,
      dropped: Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>,
      lost: 0,
      kernelRcvbufDrops: 0,
    },
    peers: { up: 0, down: 0, eventsRefused: 0 },
    reloads: { applied: 0, rejected: 0, unchanged: 0 },
    workerErrors: 0,
  };
}
