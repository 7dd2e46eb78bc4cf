/**
 * Issue 15.11: no secret in any configuration message. Each secret-bearing param given a bad
 * value that holds the secret (from the file, a flag or the environment): the error text, the
 * warnings and the stack never contain it. Before, `nats://user:secret@host` was rejected with
 * the URL quoted, password and all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { readModuleXml, XmlConfigError } from '../../src/config/xml.js';
import { moduleXml } from '../../testkit/bridge-harness.js';

const S = 'Hush-9f3Secret';
const BASE = { address: '127.0.0.9', port: '4242', bindings: 'HEARTBEAT' };
const NATS = { 'nats-servers': 'nats://127.0.0.1:4222' };

/** Every message a load gives: the problems, the error text and stack, or the warnings and notices. */
function messages(params: Record<string, string>, flags: Record<string, string> = {}, env: Record<string, string> = {}): { failed: boolean; text: string } {
  try {
    const r = loadConfig({ xmlText: moduleXml(params), flags, env });
    return { failed: false, text: [...r.warnings, ...r.notices].join('\n') };
  } catch (e) {
    if (e instanceof ConfigError) return { failed: true, text: [e.message, String(e.stack), ...e.problems].join('\n') };
    if (e instanceof Error) return { failed: true, text: `${e.message}\n${String(e.stack)}` };
    throw e;
  }
}

/** Bad values holding the secret, per secret-bearing param, and the params they need beside them. */
const CASES: Array<{ key: string; value: string; with?: Record<string, string> }> = [
  { key: 'psk', value: `${S}\n` },
  { key: 'psk', value: `\0${S}` },
  { key: 'esl-password', value: `${S}\r\nx` },
  { key: 'nats-token', value: `${S}\n`, with: NATS },
  { key: 'nats-password', value: `${S}\0`, with: { ...NATS, 'nats-user': 'fsem' } },
  { key: 'nats-user', value: `${S} with spaces`, with: { ...NATS, 'nats-password': 'pw-ok-1' } },
  { key: 'nats-password', value: S, with: NATS }, // without nats-user
  { key: 'nats-token', value: S, with: { ...NATS, 'nats-user': 'u', 'nats-password': 'p' } }, // two kinds at once
  { key: 'nats-servers', value: `nats://fsem:${S}@127.0.0.1:4222` },
  { key: 'nats-servers', value: `nats://127.0.0.1:4222,nats://fsem:${S}@10.0.0.2:4222` },
  { key: 'nats-servers', value: `nats://fsem:${S.slice(0, 5)},${S.slice(5)}@h:4222` }, // a comma in the password
  { key: 'nats-servers', value: `nats://fsem:${S}@bad host:4222` },
  { key: 'nats-servers', value: `http://fsem:${S}@h:4222` },
  { key: 'nats-servers', value: `fsem:${S}@h` },
  { key: 'nats-servers', value: `nats://${S}@h:4222` }, // a token in the URL
];

test('each secret-bearing param with a bad value: rejected, and the secret is in no message (file, flag, env)', () => {
  for (const c of CASES) {
    const display = c.key;
    // From the file.
    const f = messages({ ...BASE, ...c.with, [display]: c.value });
    assert.ok(f.failed, `${display}=${JSON.stringify(c.value)} accepted`);
    assert.ok(f.text.includes(display), `${display}: the message names the param: ${f.text}`);
    for (const part of [S, S.slice(0, 5), S.slice(5)]) assert.ok(!f.text.includes(part), `file ${display}=${JSON.stringify(c.value)}: ${f.text}`);
    // From a flag.
    const g = messages({ ...BASE, ...c.with }, { [display]: c.value });
    assert.ok(g.failed && !g.text.includes(S), `flag ${display}: ${g.text}`);
  }
  // From the environment (the secrets that have a variable).
  for (const [name, extra] of [
    ['FS_EVENT_MULTICAST_PSK', {}],
    ['FS_EVENT_MULTICAST_ESL_PASSWORD', {}],
    ['FS_EVENT_MULTICAST_NATS_TOKEN', NATS],
    ['FS_EVENT_MULTICAST_NATS_PASSWORD', { ...NATS, 'nats-user': 'u' }],
  ] as const) {
    const e = messages({ ...BASE, ...extra }, {}, { [name]: `${S}\n` });
    assert.ok(e.failed && !e.text.includes(S), `${name}: ${e.text}`);
  }
});

test('a secret pasted into another param, or in a typo of a secret param, is not echoed in the message about it', () => {
  // A PSK in ttl: a warning that quotes ttl's value, scrubbed.
  const ttl = messages({ ...BASE, psk: S, ttl: S });
  assert.equal(ttl.failed, false);
  assert.match(ttl.text, /ttl '\[redacted\]' is invalid/);
  assert.ok(!ttl.text.includes(S));
  // A secret in a non-secret param next to an error elsewhere.
  const port = messages({ ...BASE, 'esl-password': S, port: S });
  assert.ok(port.failed && !port.text.includes(S), port.text);
  // The value of a misspelt psk / esl password, quoted by another message (a switchname here).
  const typo = messages({ ...BASE, pks: S, switchname: `\u0001${S}` });
  assert.ok(typo.failed && !typo.text.includes(S), typo.text);
  // A FreeSWITCH variable in a secret or in a URL: the warning names the param, not the value.
  const vars = messages({ ...BASE, ...NATS, 'nats-user': `${S}\${x}`, 'nats-password': `${S}\${y}` });
  assert.ok(!vars.failed && vars.text.includes('nats-user uses a FreeSWITCH variable') && !vars.text.includes(S), vars.text);
});

test('an XML syntax error on a line holding a secret param (any spelling) or a URL with credentials does not quote the line', () => {
  // The validator quotes the text after a closing quote: "Attribute '<it>' has no space in starting".
  for (const line of [`<param name="nats-token" value="${S}"${S}/>`, `<param name="pks" value="${S}"${S}/>`, `<param name="x" value="nats://u:${S}@h"${S}@h/>`, `<param name="nats-user" value="${S}"${S}/>`]) {
    assert.throws(
      () => readModuleXml(`<configuration name="event_multicast.conf"><settings>\n${line}\n</settings></configuration>`),
      (e: unknown) => e instanceof XmlConfigError && !e.message.includes(S) && /withheld|malformed/.test(e.message),
      line,
    );
  }
});
