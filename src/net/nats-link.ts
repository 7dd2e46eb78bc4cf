/**
 * The bridge's NATS side in one object, so the bridge only calls into it: the transport made
 * from the config, what egress results publish (the datagrams the pool built: compact ones when
 * it built them for an event, else the legacy one; state events to the state subject), hub
 * relay of ingress results (see nats-relay.ts), the log lines, and the status figures.
 */
import type { Logger } from '../log.js';
import { batchItem } from '../pool/batch.js';
import { EGRESS_SENT, type EgressResult, type IngressResult } from '../pool/tasks.js';
import type { NatsConfig } from './nats-config.js';
import { ORIGIN_NATS, ORIGIN_NONE, ORIGIN_UDP, RelayWindow, type RelayStats } from './nats-relay.js';
import { NatsTransport, type NatsTransportEvent, type NatsTransportStats } from './nats-transport.js';

/** The relay window: a datagram is relayed at most once in this long (as long as the default replay-window). */
const RELAY_WINDOW_MS = 300_000;
const RELAY_WINDOW_ENTRIES = 200_000;

/** What a UDP transport must offer for NATS -> UDP relay. */
export interface UdpSender {
  send(datagram: Buffer): void;
}

export interface NatsLinkStats {
  transport: NatsTransportStats;
  relay: (RelayStats & { remembered: number }) | null;
}

export class NatsLink {
  readonly transport: NatsTransport;
  private readonly window: RelayWindow | null;

  /** `onDatagram` gets every received datagram with its relay origin (ORIGIN_NONE when it must not be relayed). */
  constructor(
    readonly config: NatsConfig,
    private readonly logger: Logger,
    onDatagram: (datagram: Buffer, origin: number) => void,
  ) {
    this.transport = new NatsTransport({
      servers: config.servers,
      subjectPrefix: config.subjectPrefix,
      credentials: config.credentials,
      maxPendingBytes: config.maxPendingBytes,
      state:
        config.state === null
          ? null
          : { stream: config.state.stream, maxAgeSeconds: config.state.maxAgeSeconds, replicas: config.state.replicas },
    });
    this.window = config.relay ? new RelayWindow(RELAY_WINDOW_MS, RELAY_WINDOW_ENTRIES) : null;
    const relay = config.relay;
    this.transport.onDatagram((datagram, from) => onDatagram(datagram, relay && !from.catchUp ? ORIGIN_NATS : ORIGIN_NONE));
    this.transport.onEvent((e) => this.log(e));
  }

  /** The origin tag for datagrams received on UDP. */
  get udpOrigin(): number {
    return this.config.relay ? ORIGIN_UDP : ORIGIN_NONE;
  }

  start(): Promise<void> {
    return this.transport.start();
  }

  setOwnName(name: string | null): void {
    if (name !== null) this.transport.setOwnName(name);
  }

  /** Publishes the datagrams of one egress result. */
  sendEgress(r: EgressResult): void {
    const compact = r.compact;
    let k = 0; // next compact datagram
    for (let i = 0; i < r.ends.length; i++) {
      const nCompact = compact?.perEvent[i] ?? 0;
      if (r.outcome[i] === EGRESS_SENT) {
        const state = r.state?.[i] === 1;
        if (nCompact > 0) {
          for (let j = 0; j < nCompact; j++) this.transport.send(batchItem(compact!, k + j), state);
        } else {
          const item = batchItem(r, i);
          if (item.length > 0) this.transport.send(item, state);
        }
      }
      k += nCompact;
    }
  }

  /** Hub relay: republishes an ingress result's relayable datagrams on the transport they did not come from. */
  relayIngress(r: IngressResult, udp: UdpSender | null): void {
    const batch = r.relay;
    const w = this.window;
    if (batch === undefined || w === null) return;
    for (let i = 0; i < batch.ends.length; i++) {
      if (!w.admit(batch.digests[i]!)) continue;
      const datagram = batchItem(batch, i);
      if (batch.origins[i] === ORIGIN_UDP) {
        this.transport.send(datagram, batch.state[i] === 1);
        w.stats.toNats++;
      } else if (batch.origins[i] === ORIGIN_NATS) {
        if (udp === null) {
          w.stats.noTarget++;
          continue;
        }
        udp.send(datagram);
        w.stats.toUdp++;
      }
    }
  }

  stats(): NatsLinkStats {
    return { transport: this.transport.stats(), relay: this.window === null ? null : { ...this.window.stats, remembered: this.window.size } };
  }

  close(): Promise<void> {
    return this.transport.close();
  }

  private log(e: NatsTransportEvent): void {
    const l = this.logger;
    switch (e.kind) {
      case 'connected':
        l.info({ nats: e.server }, 'connected to NATS');
        break;
      case 'disconnected':
        l.warn({ nats: e.server, unconfirmed: e.unconfirmed }, 'lost the NATS connection; reconnecting (datagrams wait in a bounded queue)');
        break;
      case 'reconnected':
        l.info({ nats: e.server, flushedQueued: e.flushedQueued }, 'reconnected to NATS');
        break;
      case 'unreachable':
        l.warn({ nats: this.config.servers }, e.message);
        break;
      case 'error':
        l.error({ nats: this.config.servers }, e.message);
        break;
      case 'stream':
        l.info({ stream: e.stream, action: e.action }, 'NATS JetStream state stream ready');
        break;
      case 'catch-up':
        l.info({ stream: e.stream, read: e.read, delivered: e.delivered, ms: e.ms }, 'caught up from the NATS state stream');
        break;
    }
  }
}
