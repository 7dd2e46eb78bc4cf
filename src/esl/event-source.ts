/**
 * EslEventSource: the egress side's inbound event socket. Subscribes with `event plain <caller's
 * subscription>` and hands out, per socket read, the raw text of every event (the body of each
 * `text/event-plain` message), unparsed: the worker pool parses, filters and encrypts.
 *
 * Why our own ESL client instead of modesl (the project's declared ESL dependency): measured with
 * bench/esl-framing.ts (node 20, this 2-core box, 64 KB reads), modesl 1.2.1's Parser handles
 * ~40k events/s on 1.3 KB events and ~12k/s on 6 KB events, because it URL-decodes every header
 * of every event into objects (its header list is searched linearly per header: quadratic in the
 * header count) and re-concatenates its buffer on every read. EslFramer hands out the raw text at
 * ~5M events/s (1.3 KB) and ~3M/s (6 KB), zero-copy. modesl cannot be hooked cleanly: its
 * Connection creates the Parser itself, which subscribes to the socket's 'data' on construction,
 * so every event would still be parsed; keeping modesl for the commands only would mean running
 * two parsers over one stream. It also lacks types, reconnect and a fatal auth error. The command
 * layer it would provide (auth, event, api, sendevent) is a few lines over the framer, so the
 * bridge uses its own client everywhere (src/esl/connection.ts); modesl remains the benchmark
 * baseline (types in src/esl/modesl.d.ts).
 *
 * The switch name is not a global variable (`api global_getvar switchname` answers
 * `-ERR no reply`); every event carries it as `FreeSWITCH-Switchname`. It is read from the first
 * event of each connection; at first start a probe (`sendevent CUSTOM` with subclass
 * fs_event_multicast::probe, subscribed just for it) makes sure such an event arrives at once.
 * The probe's echo is not passed on.
 */
import { EslConnection, EslFatalError, EslNotConnectedError, type EslReply } from './connection.js';
import { assertSingleLine, positiveInteger, resolveEndpoint, type EslEndpointOptions, type EslLogger } from './options.js';
import { urlDecodeBytes } from '../wire/url.js';
import { plainHeaderValue } from '../wire/plain-header.js';
import { PROBE_SUBCLASS } from '../config/bindings.js';


export interface EslEventSourceOptions extends EslEndpointOptions {
  /** What follows `event plain `, e.g. `HEARTBEAT CUSTOM sofia::register` (one line). */
  subscription: string;
  /** Raw event texts of one socket read, in order. Called synchronously: keep it cheap, drop rather than block. */
  onEvents(texts: Buffer[]): void;
  /** The switch name, when first learned and whenever a new connection reports a different one. */
  onSwitchName?(name: string): void;
  /** Wrong password, ACL rejection or a subscription FreeSWITCH refuses: the source has stopped for good. */
  onFatal?(error: EslFatalError): void;
  /** Connected (subscribed) or disconnected. */
  onConnectionChange?(connected: boolean): void;
  /** Fire the startup probe so the switch name is learned at once (default true). */
  probeSwitchName?: boolean;
  /** How long the probe's echo is waited for before relying on ordinary events (default 5000 ms). */
  probeTimeoutMs?: number;
  /** Time limit of api() (default 10000 ms). */
  apiTimeoutMs?: number;
  /** Called with each api() command line just before it is sent (FreeSWITCH raises an API event for it). */
  onApiCommand?(command: string): void;
}

export interface EslEventSourceStats {
  connected: boolean;
  reconnects: number;
  eventsReceived: number;
  readBatches: number;
  switchName: string | undefined;
}

const SWITCHNAME_HEADER = Buffer.from('FreeSWITCH-Switchname:', 'latin1');
/** How the probe echo's subclass header reads in plain event text (`:` is URL-encoded). */
const PROBE_SUBCLASS_LINE = Buffer.from(`Event-Subclass: ${PROBE_SUBCLASS.replaceAll(':', '%3A')}\n`, 'latin1');

export class EslEventSource {
  private readonly connection: EslConnection;
  private readonly logger: EslLogger;
  private readonly subscription: string;
  private readonly probeEnabled: boolean;
  private readonly probeTimeoutMs: number;
  private readonly apiTimeoutMs: number;
  private name: string | undefined;
  /** The first event of each connection is read for the switch name. */
  private checkNameOnNextEvent = false;
  private probeDeadline = 0;
  private up = false;
  private resolveName!: (name: string) => void;
  private rejectName!: (error: Error) => void;
  /** Resolves with the switch name once learned; rejects if the source stops first. */
  readonly switchName: Promise<string>;
  private resolveSubscribed!: () => void;
  private rejectSubscribed!: (error: Error) => void;
  /** Resolves once the subscription is live (FreeSWITCH acknowledged it); rejects if the source stops first. */
  readonly subscribed: Promise<void>;

  constructor(private readonly options: EslEventSourceOptions) {
    const owner = 'EslEventSource';
    const endpoint = resolveEndpoint(options, owner);
    if (typeof options.subscription !== 'string' || options.subscription.trim().length === 0) {
      throw new TypeError(`${owner}: option 'subscription' must be a non-empty string of event names (what follows 'event plain ')`);
    }
    assertSingleLine(options.subscription, `${owner}: option 'subscription'`);
    if (typeof options.onEvents !== 'function') throw new TypeError(`${owner}: option 'onEvents' must be a function`);
    this.probeTimeoutMs = options.probeTimeoutMs ?? 5000;
    this.apiTimeoutMs = options.apiTimeoutMs ?? 10_000;
    positiveInteger(this.probeTimeoutMs, `${owner}: option 'probeTimeoutMs'`);
    positiveInteger(this.apiTimeoutMs, `${owner}: option 'apiTimeoutMs'`);
    this.subscription = options.subscription.trim();
    this.probeEnabled = options.probeSwitchName ?? true;
    this.logger = endpoint.logger;
    this.switchName = new Promise<string>((resolve, reject) => {
      this.resolveName = resolve;
      this.rejectName = reject;
    });
    this.switchName.catch(() => {}); // a caller that never asks must not see an unhandled rejection
    this.subscribed = new Promise<void>((resolve, reject) => {
      this.resolveSubscribed = resolve;
      this.rejectSubscribed = reject;
    });
    this.subscribed.catch(() => {});
    this.connection = new EslConnection(endpoint, {
      label: 'events',
      setup: (connection) => this.subscribe(connection),
      onReady: () => {
        this.up = true;
        this.resolveSubscribed();
        options.onConnectionChange?.(true);
      },
      onEvents: (texts) => this.deliver(texts),
      onDown: () => {
        this.probeDeadline = 0;
        if (!this.up) return; // a failed retry while already down: nothing changed
        this.up = false;
        options.onConnectionChange?.(false);
      },
      onFatal: (error) => {
        this.rejectName(error);
        this.rejectSubscribed(error);
        if (options.onFatal !== undefined) options.onFatal(error);
        else this.logger.error({ esl: 'events', reason: error.reason }, error.message);
      },
    });
  }

  start(): void {
    this.connection.start();
  }

  get connected(): boolean {
    return this.connection.ready;
  }

  /** What is wrong with the event socket now (see EslConnection.problem), or null. */
  get problem(): string | null {
    return this.connection.problem;
  }

  /** The switch name if already learned. */
  get currentSwitchName(): string | undefined {
    return this.name;
  }

  /** Stops reading events for a while (see EslConnection.pauseReading); the caller bounds how long. */
  pause(): void {
    this.connection.pauseReading();
  }

  resume(): void {
    this.connection.resumeReading();
  }

  /** Runs `api <command>`; resolves with the response text as FreeSWITCH wrote it (it may start with -ERR). */
  async api(command: string): Promise<string> {
    assertSingleLine(command, 'EslEventSource.api: command');
    if (!this.connection.ready) throw new EslNotConnectedError('EslEventSource.api: not connected to FreeSWITCH');
    this.options.onApiCommand?.(command);
    const reply = await withTimeout(this.connection.request(`api ${command}`), this.apiTimeoutMs, `api ${command.split(' ')[0]}`);
    return reply.body !== null ? reply.body.toString('utf8') : (reply.replyText ?? '');
  }

  stats(): EslEventSourceStats {
    return {
      connected: this.connection.ready,
      reconnects: this.connection.reconnects,
      eventsReceived: this.connection.eventsReceived,
      readBatches: this.connection.readBatches,
      switchName: this.name,
    };
  }

  async close(): Promise<void> {
    await this.connection.close();
    this.rejectSubscribed(new Error('EslEventSource closed before it was subscribed'));
    if (this.name === undefined) this.rejectName(new Error('EslEventSource closed before the switch name was learned'));
  }

  private async subscribe(connection: EslConnection): Promise<void> {
    this.checkNameOnNextEvent = true;
    const reply = await connection.request(`event plain ${this.subscription}`);
    if (!isOk(reply)) {
      throw new EslFatalError(
        'setup-rejected',
        `FreeSWITCH refused the subscription 'event plain ${this.subscription}' (${reply.replyText ?? 'no reply text'}); fix the event bindings — not retrying`,
      );
    }
    this.logger.debug({ esl: 'events', subscription: this.subscription }, 'subscribed');
    if (this.name === undefined && this.probeEnabled) await this.probe(connection);
  }

  /** Subscribes to the probe subclass and fires one; its echo carries FreeSWITCH-Switchname. */
  private async probe(connection: EslConnection): Promise<void> {
    const subscribed = await connection.request(`event plain CUSTOM ${PROBE_SUBCLASS}`);
    if (!isOk(subscribed)) {
      this.logger.warn({ esl: 'events', reply: subscribed.replyText }, 'switch-name probe not subscribed; the name will come from the first event');
      return;
    }
    this.probeDeadline = Date.now() + this.probeTimeoutMs;
    const fired = await connection.request(`sendevent CUSTOM\nEvent-Subclass: ${PROBE_SUBCLASS}`);
    if (!isOk(fired)) {
      this.probeDeadline = 0;
      this.logger.warn({ esl: 'events', reply: fired.replyText }, 'switch-name probe not fired; the name will come from the first event');
    }
  }

  /** Hot path: one branch per batch unless the name or the probe echo is still awaited. */
  private deliver(texts: Buffer[]): void {
    if (this.checkNameOnNextEvent) {
      this.checkNameOnNextEvent = false;
      const name = switchNameOf(texts[0]!);
      if (name !== undefined) this.learn(name);
      else this.checkNameOnNextEvent = true;
    }
    let out = texts;
    if (this.probeDeadline !== 0) {
      if (Date.now() > this.probeDeadline) {
        this.probeDeadline = 0;
        this.logger.warn({ esl: 'events', timeoutMs: this.probeTimeoutMs }, 'no echo of the switch-name probe; relying on ordinary events');
      } else {
        out = texts.filter((t) => !this.isOwnProbe(t));
      }
    }
    // Probes of other bridges on this switch start with the subclass line (sendevent keeps command header order).
    for (let i = 0; i < out.length; i++) {
      if (startsWith(out[i]!, PROBE_SUBCLASS_LINE)) {
        out = out.filter((t) => !startsWith(t, PROBE_SUBCLASS_LINE));
        break;
      }
    }
    if (out.length > 0) this.options.onEvents(out);
  }

  private isOwnProbe(text: Buffer): boolean {
    if (text.indexOf(PROBE_SUBCLASS_LINE) < 0) return false;
    this.probeDeadline = 0;
    const name = switchNameOf(text);
    if (name !== undefined) this.learn(name);
    return true;
  }

  private learn(name: string): void {
    if (name === this.name) return;
    if (this.name !== undefined) {
      this.logger.warn({ esl: 'events', previous: this.name, now: name }, 'FreeSWITCH switch name changed');
    } else {
      this.logger.info({ esl: 'events', switchName: name }, 'learned the FreeSWITCH switch name');
      this.resolveName(name);
    }
    this.name = name;
    this.options.onSwitchName?.(name);
  }
}

/** The URL-decoded value of the FreeSWITCH-Switchname header of a plain event text, if present. */
export function switchNameOf(text: Buffer): string | undefined {
  const raw = plainHeaderValue(text, SWITCHNAME_HEADER);
  if (raw === null) return undefined;
  let start = 0;
  let end = raw.length;
  while (start < end && raw[start] === 0x20) start++;
  if (end > start && raw[end - 1] === 0x0d) end--;
  return end === start ? undefined : urlDecodeBytes(raw, start, end).toString('utf8');
}

function startsWith(text: Buffer, prefix: Buffer): boolean {
  return text.length >= prefix.length && text.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}

function isOk(reply: EslReply): boolean {
  return (reply.replyText ?? '').startsWith('+OK');
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no reply from FreeSWITCH within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
