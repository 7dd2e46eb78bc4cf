/**
 * Egress: FreeSWITCH's events, read from the event socket, go to the pool (filter, frame,
 * encrypt) and come back as datagrams for every destination (fan-out.ts). The main thread only
 * counts, applies back-pressure toward FreeSWITCH, and sends.
 */
import { apiCommandKey, type OwnApiCommands } from '../esl/own-api-commands.js';
import type { EslEventSource } from '../esl/event-source.js';
import type { LocationService } from '../location/location-service.js';
import { EGRESS_NOT_BOUND, EGRESS_OWN_COMMAND, EGRESS_SENT, EGRESS_TOO_LARGE, EGRESS_UNREADABLE, SIGNAL_RELOADXML, type EgressResult } from '../pool/tasks.js';
import { fanOutEgress } from './fan-out.js';
import { destinationsOf, type LiveParts } from './live-parts.js';

/** Egress queue depths (events) at which the event socket is paused and resumed. */
export const EGRESS_PAUSE_AT = 8192;
export const EGRESS_RESUME_AT = 2048;
/** The longest a read pause lasts (FreeSWITCH buffers meanwhile; it cuts a reader 100000 events behind). */
export const EGRESS_PAUSE_MAX_MS = 500;

export interface EgressPathOptions {
  /** The bridge's own `api` commands, whose API events are never sent. */
  ownApi: OwnApiCommands;
  location: LocationService;
  /** FreeSWITCH fired RELOADXML: re-read the configuration. */
  onReloadXml(): void;
  /** The switch name seen in an event (before FreeSWITCH answered the probe). */
  onSwitchName(name: string): void;
  /** True until the switch name is known. */
  nameUnknown(): boolean;
}

export class EgressPath {
  private readPause: { source: EslEventSource; timer: NodeJS.Timeout } | null = null;

  constructor(
    private readonly p: LiveParts,
    private readonly o: EgressPathOptions,
  ) {}

  /** Event texts from the event socket, in FreeSWITCH's order. */
  passOn(texts: Buffer[]): void {
    this.p.counters.egress.events += texts.length;
    const pool = this.p.pool;
    for (const t of texts) pool.egress(t);
    if (pool.egressQueued >= EGRESS_PAUSE_AT && this.readPause === null) this.pauseReading();
  }

  /** A pool's egress result, in order. */
  onResult(r: EgressResult): void {
    if (this.readPause !== null && this.p.pool.egressQueued <= EGRESS_RESUME_AT) this.resumeReading();
    if (r.apiEvents !== undefined) this.dropOwnApiEvents(r);
    if (r.registrations !== undefined) this.o.location.local(r.registrations, this.p.switchname());
    const e = this.p.counters.egress;
    e.datagrams += fanOutEgress(r, destinationsOf(this.p));
    for (let i = 0; i < r.ends.length; i++) {
      const outcome = r.outcome[i];
      if (outcome === EGRESS_NOT_BOUND) e.notBound++;
      else if (outcome === EGRESS_OWN_COMMAND) e.ownCommand++;
      else if (outcome === EGRESS_UNREADABLE) e.unreadable++;
      else if (outcome === EGRESS_TOO_LARGE) e.tooLarge++;
      if (r.signals[i]! & SIGNAL_RELOADXML) this.o.onReloadXml();
    }
    for (const big of r.tooLarge) {
      this.p.logger.warn({ event: big.event, bytes: big.bytes, maxDatagram: this.p.config.maxDatagram }, 'event too large for one datagram: not sent');
    }
    if (r.switchname !== null && this.o.nameUnknown()) this.o.onSwitchName(r.switchname);
  }

  /** Stop: no pause outlives the bridge. */
  stop(): void {
    if (this.readPause !== null) clearTimeout(this.readPause.timer);
    this.readPause = null;
  }

  /** The API events raised by the bridge's own `api` commands are never sent (own-api-commands.ts). */
  private dropOwnApiEvents(r: EgressResult): void {
    for (const a of r.apiEvents!) {
      if (r.outcome[a.index] === EGRESS_SENT && this.o.ownApi.claim(apiCommandKey(a.command, a.argument))) r.outcome[a.index] = EGRESS_OWN_COMMAND;
    }
  }

  /**
   * Backpressure toward FreeSWITCH: while the egress queue is full, stop reading the event
   * socket so FreeSWITCH buffers instead of the bridge reading and dropping (which burns the CPU
   * the workers need). A pause never outlasts EGRESS_PAUSE_MAX_MS: FreeSWITCH cuts a listener
   * 100000 events behind, so past that the bridge reads again and drops the oldest.
   */
  private pauseReading(): void {
    const source = this.p.source;
    source.pause();
    this.p.counters.egress.readPauses++;
    this.readPause = { source, timer: setTimeout(() => this.resumeReading(), EGRESS_PAUSE_MAX_MS) };
    this.readPause.timer.unref();
  }

  private resumeReading(): void {
    const pause = this.readPause;
    if (pause === null) return;
    this.readPause = null;
    clearTimeout(pause.timer);
    pause.source.resume();
  }
}
