/**
 * A secret string (PSK, event-socket password) that cannot leak by accident: String(),
 * template literals, JSON.stringify and util.inspect all give `[redacted]`. The value is in a
 * private field, so it is not enumerable and not copied by spreading or structured cloning;
 * pass `reveal()` explicitly where the bytes are needed (e.g. to a pool worker).
 */
const REDACTED = '[redacted]';

export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
    Object.freeze(this);
  }

  /** The secret itself. Call only where it is used, never to log or format it. */
  reveal(): string {
    return this.#value;
  }

  /** Length in UTF-8 bytes (Blowfish uses the PSK's bytes at their own length). */
  get byteLength(): number {
    return Buffer.byteLength(this.#value, 'utf8');
  }

  /** Same secret value (for deciding whether a reload changed it). */
  sameAs(other: Secret | null): boolean {
    return other !== null && other.#value === this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return REDACTED;
  }
}
