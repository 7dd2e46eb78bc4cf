/**
 * Types for the part of modesl 1.2.1 (untyped CommonJS) this project touches: its stream parser,
 * which bench/esl-framing.ts measures against our framer. The runtime bridge does not use modesl
 * (see the note at the top of src/esl/event-source.ts for the measurements behind that choice).
 */
declare module 'modesl/lib/esl/Parser.js' {
  import type { EventEmitter } from 'node:events';

  /** A parsed message as modesl builds it: every header URL-decoded into a list. */
  export interface ModeslEvent {
    type: string | undefined;
    subclass: string | undefined;
    body: string;
    headers: { name: string; value: string }[];
    getHeader(name: string): string | null;
  }

  /** Envelope headers as an object (Content-Length already a number). */
  export type ModeslEnvelope = Record<string, string | number>;

  /** Listens to `socket`'s 'data' events itself and emits 'esl::event' per message. */
  class Parser {
    constructor(socket: Pick<EventEmitter, 'on'>);
    on(event: 'esl::event', listener: (event: ModeslEvent, headers: ModeslEnvelope, body: string | undefined) => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
  }
  export = Parser;
}

declare module 'modesl' {
  import type { ModeslEvent } from 'modesl/lib/esl/Parser.js';

  /** Inbound connection: connects, answers auth/request, emits 'esl::ready' when authenticated. */
  export class Connection {
    constructor(host: string, port: number, password: string, onReady?: () => void);
    /** `event <format> <events>`; the callback gets the command/reply. */
    events(format: 'plain' | 'json' | 'xml', events: string, cb?: (reply: ModeslEvent) => void): void;
    api(command: string, cb?: (response: ModeslEvent) => void): void;
    /** EventEmitter2 with wildcards: e.g. 'esl::event::CUSTOM::**', 'esl::end', 'error'. */
    on(event: string, listener: (...args: unknown[]) => void): this;
    disconnect(): void;
  }
}
