/**
 * The bridge's NATS side in one object: the transport made from the config, the origin tags of
 * what it receives, the hub relay's window, the log lines and the status figures. What is
 * published is decided by the bridge's fan-out (src/bridge/fan-out.ts).
 */
import type { Logger } from '../../util/log.js';
import type { NatsConfig } from '../../config/nats-config.js';
import { ORIGIN_NATS, ORIGIN_NONE, ORIGIN_UDP } from '../../wire/origin.js';
import { RelayWindow, type RelayStats } from './relay-window.js';
import { NatsTransport, type NatsTransportEvent, type NatsTransportStats } from './transport.js';

/** The relay window: a datagram is relayed at most once in this long (as long as the default replay-window). */
const RELAY_WINDOW_MS = 300_000;
const RELAY_WINDOW_ENTRIES = 200_000;

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

  /** Publishes one datagram; `state`: to the state subject (JetStream), else the live one. */
  publish(datagram: Buffer, state: boolean): void {
    this.transport.send(datagram, state);
  }

  /** Hub relay (nats-relay on): true the first time these bytes (by digest) are offered within the window. */
  admitRelay(digest: string): boolean {
    return this.window !== null && this.window.admit(digest);
  }

  /** Counts a relayed datagram, or one that had no transport to go to. */
  countRelay(what: 'toNats' | 'toUdp' | 'noTarget'): void {
    if (this.window !== null) this.window.stats[what]++;
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
