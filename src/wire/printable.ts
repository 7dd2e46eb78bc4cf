/**
 * Text from the network (peer names, header values) made safe to show on a terminal. A raw ESC
 * or BEL drives the operator's terminal, a raw line break lets a name forge a whole output line
 * ("Peer trusted-hub-1 UP"), and bidi overrides make a line read differently from its bytes.
 *
 * Escaped: C0 controls (U+0000..U+001F), DEL, C1 controls (U+0080..U+009F), the line and
 * paragraph separators (U+2028, U+2029) and the bidi controls (U+061C, U+200E, U+200F,
 * U+202A..U+202E, U+2066..U+2069). Everything else, other scripts included, passes as is.
 */

/** True for a character that must never reach a terminal raw. */
function isUnsafe(code: number): boolean {
  if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
  if (code < 0x061c) return false;
  return (
    code === 0x061c ||
    code === 0x200e ||
    code === 0x200f ||
    code === 0x2028 ||
    code === 0x2029 ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

const UNSAFE_ANYWHERE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

function hex(code: number, width: number): string {
  return code.toString(16).toUpperCase().padStart(width, '0');
}

/**
 * One value (a peer name...) for one line of text: every unsafe character as `\xHH` (below
 * U+0100) or `\u{HHHH}`, and `\` itself as `\\`, so what is shown tells the bytes apart.
 */
export function printable(value: string): string {
  if (!UNSAFE_ANYWHERE.test(value) && !value.includes('\\')) return value;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code === 0x5c) out += '\\\\';
    else if (isUnsafe(code)) out += code < 0x100 ? `\\x${hex(code, 2)}` : `\\u{${hex(code, 4)}}`;
    else out += value[i];
  }
  return out;
}

/**
 * A whole text for a terminal (a status page, several lines): line feeds and tabs are kept, as
 * the layout needs them; every other unsafe character is escaped as in printable(). Backslashes
 * stay as they are, so text already made printable shows the same.
 */
export function printableText(text: string): string {
  if (!UNSAFE_ANYWHERE.test(text)) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code !== 0x0a && code !== 0x09 && isUnsafe(code)) out += code < 0x100 ? `\\x${hex(code, 2)}` : `\\u{${hex(code, 4)}}`;
    else out += text[i];
  }
  return out;
}

/**
 * JSON text for a terminal: every unsafe character but the line feed as `\uHHHH`. JSON.stringify
 * escapes only C0 controls; C1 controls, separators and bidi controls pass it raw. Inside a JSON
 * string `\uHHHH` means the same character, so valid JSON stays valid and equal when parsed.
 */
export function jsonPrintable(json: string): string {
  if (!UNSAFE_ANYWHERE.test(json)) return json;
  let out = '';
  for (let i = 0; i < json.length; i++) {
    const code = json.charCodeAt(i);
    if (code !== 0x0a && isUnsafe(code)) out += `\\u${hex(code, 4)}`;
    else out += json[i];
  }
  return out;
}
