/**
 * The longest `Multicast-Sender` accepted. FreeSWITCH's switch name is a host-like name, so a
 * longer one is no real box: in plain mode it is anyone filling the peer table and the logs
 * (1,000 names of 60 KB cost 114 MB), and the event is dropped as `sender-too-long`.
 */
export const MAX_SENDER_BYTES = 255;

/** The UTF-8 length of `name` is over `max` (not encoded in the usual short case). */
export function senderTooLong(name: string, max = MAX_SENDER_BYTES): boolean {
  if (name.length > max) return true;
  if (name.length * 3 <= max) return false;
  return Buffer.byteLength(name, 'utf8') > max;
}
