/**
 * The PSK mode's cipher, as mod_event_multicast uses it: Blowfish-CBC with PKCS#7 padding,
 * key = the PSK's bytes at their own length (not padded to 16), IV = 8 bytes the caller points
 * at (the first 8 characters of the datagram's UUID text). The key schedule is computed once
 * per PSK here, where the C module (a fresh OpenSSL cipher per packet) redoes it every time.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { Blowfish, BLOWFISH_BLOCK_BYTES, BLOWFISH_MAX_KEY_BYTES } from './blowfish.js';

const BLOCK = BLOWFISH_BLOCK_BYTES;

export class PskCipher {
  /** Private field: never enumerable, never serialized. */
  readonly #blowfish: Blowfish;
  /** The last, padded plaintext block of encryptInto (so encrypting never allocates). */
  readonly #lastBlock = new Uint8Array(BLOCK);
  /**
   * How many trailing PSK bytes have no effect: OpenSSL (and so the C module) uses only the
   * first 72 bytes of a longer key. 0 for any PSK of 72 bytes or less; lets the config warn.
   */
  readonly ignoredKeyBytes: number;

  /** `psk` as a string is taken as its UTF-8 bytes (what FreeSWITCH reads from its XML config). */
  constructor(psk: string | Uint8Array) {
    let key: Uint8Array;
    if (typeof psk === 'string') key = Buffer.from(psk, 'utf8');
    else if (psk instanceof Uint8Array) key = psk;
    else throw new TypeError('PskCipher: the PSK must be a string or a Uint8Array');
    if (key.length === 0) {
      throw new RangeError('PskCipher: the PSK is empty; it must hold at least 1 byte');
    }
    this.#blowfish = new Blowfish(key);
    this.ignoredKeyBytes = Math.max(0, key.length - BLOWFISH_MAX_KEY_BYTES);
    // Do not leave a copy of the key we made ourselves lying around in memory.
    if (key !== psk) key.fill(0);
  }

  /** Ciphertext length for `plainLength` bytes: PKCS#7 always adds 1..8 bytes. */
  static paddedLength(plainLength: number): number {
    if (!Number.isInteger(plainLength) || plainLength < 0) {
      throw new RangeError(`PskCipher.paddedLength: plainLength must be a non-negative integer, got ${plainLength}`);
    }
    return plainLength - (plainLength % BLOCK) + BLOCK;
  }

  /**
   * PKCS#7-pads and encrypts `plain` with CBC into `out` at `outOffset`; returns the bytes written
   * (= paddedLength(plain.length)). The IV is iv[ivOffset..ivOffset+8]. `out` may be the very
   * bytes of `plain` (in-place, same start) with room for the padding; any other overlap is wrong.
   * Throws RangeError only for caller mistakes (IV or output out of range); never allocates.
   */
  encryptInto(iv: Uint8Array, ivOffset: number, plain: Uint8Array, out: Uint8Array, outOffset: number): number {
    const tail = plain.length % BLOCK;
    const whole = plain.length - tail;
    const total = whole + BLOCK;
    if (!Number.isInteger(outOffset) || outOffset < 0 || outOffset + total > out.length) {
      throw new RangeError(
        `PskCipher.encryptInto: ${total} output bytes needed at offset ${outOffset}, but out holds ${out.length}`,
      );
    }
    if (!Number.isInteger(ivOffset) || ivOffset < 0 || ivOffset + BLOCK > iv.length) {
      throw new RangeError(`PskCipher.encryptInto: the IV needs 8 bytes at offset ${ivOffset}, iv holds ${iv.length}`);
    }
    const blowfish = this.#blowfish;
    if (whole > 0) blowfish.encryptCbc(iv, ivOffset, plain, 0, whole, out, outOffset);
    // Build the final block (the plaintext's tail + padding) before it can be overwritten in place.
    const last = this.#lastBlock;
    const pad = BLOCK - tail;
    for (let i = 0; i < tail; i++) last[i] = plain[whole + i];
    for (let i = tail; i < BLOCK; i++) last[i] = pad;
    // CBC chains on the previous ciphertext block, or on the IV when there is none.
    if (whole > 0) blowfish.encryptCbc(out, outOffset + whole - BLOCK, last, 0, BLOCK, out, outOffset + whole);
    else blowfish.encryptCbc(iv, ivOffset, last, 0, BLOCK, out, outOffset);
    return total;
  }

  /**
   * Decrypts CBC and checks/strips PKCS#7. Returns the plaintext as a subarray of a NEW Buffer
   * owned by the caller, or null when the ciphertext is empty or not a whole number of 8-byte
   * blocks, when the IV bytes are not all there, or when the padding is invalid (wrong PSK,
   * corrupted or truncated packet). Never throws on bad input.
   */
  decrypt(iv: Uint8Array, ivOffset: number, cipher: Uint8Array): Buffer | null {
    if (!this.#decryptable(iv, ivOffset, cipher.length)) return null;
    const out = Buffer.allocUnsafe(cipher.length);
    const plainLength = this.#decryptChecked(iv, ivOffset, cipher, out, 0);
    return plainLength < 0 ? null : out.subarray(0, plainLength);
  }

  /**
   * decrypt() without allocating: writes the decrypted blocks (padding included) to `out` at
   * `outOffset` and returns the plaintext length, or -1 for the cases where decrypt() gives null.
   * `out` needs cipher.length bytes from outOffset (RangeError otherwise: a caller mistake);
   * it may be the same bytes as `cipher` (in-place).
   */
  decryptInto(iv: Uint8Array, ivOffset: number, cipher: Uint8Array, out: Uint8Array, outOffset: number): number {
    if (!Number.isInteger(outOffset) || outOffset < 0 || outOffset + cipher.length > out.length) {
      throw new RangeError(
        `PskCipher.decryptInto: ${cipher.length} output bytes needed at offset ${outOffset}, but out holds ${out.length}`,
      );
    }
    if (!this.#decryptable(iv, ivOffset, cipher.length)) return -1;
    return this.#decryptChecked(iv, ivOffset, cipher, out, outOffset);
  }

  #decryptable(iv: Uint8Array, ivOffset: number, cipherLength: number): boolean {
    return (
      cipherLength > 0 &&
      cipherLength % BLOCK === 0 &&
      Number.isInteger(ivOffset) &&
      ivOffset >= 0 &&
      ivOffset + BLOCK <= iv.length
    );
  }

  /** Decrypts (lengths already checked) and returns the plaintext length, or -1 on bad padding. */
  #decryptChecked(iv: Uint8Array, ivOffset: number, cipher: Uint8Array, out: Uint8Array, outOffset: number): number {
    const length = cipher.length;
    this.#blowfish.decryptCbc(iv, ivOffset, cipher, 0, length, out, outOffset);
    const end = outOffset + length;
    const pad = out[end - 1];
    // Look at every padding byte without early exit (no timing hint about where it went wrong).
    let bad = pad === 0 || pad > BLOCK ? 1 : 0;
    const from = end - (bad ? 1 : pad);
    for (let i = from; i < end; i++) bad |= out[i] ^ pad;
    return bad === 0 ? length - pad : -1;
  }

  /** Logged or serialized, a PskCipher shows that a key exists, never the key or its schedule. */
  toJSON(): { cipher: string; key: string } {
    return { cipher: 'bf-cbc', key: '[hidden]' };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'PskCipher { cipher: bf-cbc, key: [hidden] }';
  }
}

/** Blowfish-CBC through OpenSSL, one fresh cipher per call, as the C module does per packet. */
export interface OpenSslBfCbc {
  encrypt(key: Uint8Array, iv: Uint8Array, plain: Uint8Array): Buffer;
  /** Throws (like OpenSSL) when the padding is invalid. */
  decrypt(key: Uint8Array, iv: Uint8Array, cipher: Uint8Array): Buffer;
}

/**
 * The naive design the C module uses (a new OpenSSL cipher per packet): for the benchmark baseline
 * and the cross-check tests only. Returns null when this Node cannot do bf-cbc, i.e. OpenSSL 3
 * without the legacy provider (run node with --openssl-legacy-provider).
 */
export function openSslBfCbc(): OpenSslBfCbc | null {
  try {
    createCipheriv('bf-cbc', Buffer.alloc(7, 1), Buffer.alloc(BLOCK)).final();
  } catch {
    return null;
  }
  return {
    encrypt(key, iv, plain) {
      const cipher = createCipheriv('bf-cbc', key, iv);
      return Buffer.concat([cipher.update(plain), cipher.final()]);
    },
    decrypt(key, iv, data) {
      const decipher = createDecipheriv('bf-cbc', key, iv);
      return Buffer.concat([decipher.update(data), decipher.final()]);
    },
  };
}
