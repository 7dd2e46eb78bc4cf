/** Constants of the C module's datagram layout (spec §4). */

/** The 21-byte validation string that ends every packet's plaintext. */
export const MAGIC: Buffer = Buffer.from([
  226, 132, 177, 197, 152, 198, 142, 211, 172, 197, 158, 208, 169, 208, 135, 197, 166, 207, 154, 196, 166,
]);

/** Plain packets carry this many zero bytes after MAGIC: the module sizes its buffer for the PSK case and sends all of it. */
export const PLAIN_TRAILING_ZEROS = 272;

/** PSK packets: a 36-character UUID text, zero-filled to this many bytes, then the ciphertext. */
export const PSK_PREFIX_BYTES = 256;
export const UUID_TEXT_BYTES = 36;
/** The IV is the first 8 bytes of the UUID text. */
export const IV_BYTES = 8;

/** Largest UDP payload over IPv4; larger events are lost by the C module (EMSGSIZE). */
export const MAX_IPV4_DATAGRAM = 65507;
