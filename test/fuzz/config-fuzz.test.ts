/**
 * Configuration fuzzing: random mutations of the shipped conf/ examples (malformed XML, unknown
 * and renamed params, bad addresses, ports, ttl and numbers) give a Config or a ConfigError with
 * precise problems; never another exception, never a secret in a message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { PARAM_SPECS } from '../../src/config/params.js';
import { prng } from '../../testkit/fixtures.js';

const CONF = new URL('../../../conf/', import.meta.url);
const SECRET = 'ZqSecretPsk9';
const PSK_LINE = `<param name="psk" value="${SECRET}"/>`;

/** The examples, each with a PSK param added so that secret handling is fuzzed too. */
const EXAMPLES: string[] = [
  readFileSync(fileURLToPath(new URL('event_multicast.conf.xml', CONF)), 'utf8'),
  ...readdirSync(fileURLToPath(new URL('examples/', CONF)))
    .filter((f) => f.endsWith('.xml'))
    .map((f) => readFileSync(fileURLToPath(new URL(`examples/${f}`, CONF)), 'utf8')),
].map((x) => x.replace('<settings>', `<settings>\n    ${PSK_LINE}`));

/** Bad values per param: each must give a ConfigError naming the param (ttl and loopback: a warning, as the C module does). */
const BAD_VALUES: Record<string, string[]> = {
  address: ['', 'example.com', '300.1.1.1', '225.1.1.1,,x', '::g', '10.0.0.1/24', ' , '],
  port: ['0', '65536', '-1', 'http', '42.5', '', '1e3'],
  'source-address': ['::1', 'localhost', '1.2.3', '999.0.0.1'],
  'source-address-ipv6': ['127.0.0.1', 'fe80::1%eth0%', 'zz::'],
  bindings: ['NOT_AN_EVENT', 'sofia::register CUSTOM', 'ALL BOGUS'],
  'esl-port': ['0', '70000', 'x'],
  'esl-host': ['bad host', '-x', '!'],
  workers: ['65', '-1', 'many', '1.5'],
  'status-listen': ['0.0.0.0', 'relative/path', 'host:99999', 'nohost:80:90', '[::1]'],
  injectors: ['0', '65', 'two'],
  'peer-timeout': ['0', '86401', 'x'],
  'max-datagram': ['511', '65508', 'big'],
  'batch-size': ['0', '4097'],
  'batch-delay-us': ['-5', '1000001'],
  'multicast-interface': ['eth0', '::1', '1.2.3'],
  'log-level': ['verbose', '9'],
  'max-headers': ['0', '100001', 'lots'],
  'max-header-bytes': ['15', '65508', 'x'],
  'replay-window': ['-1', '86401', '5m'],
  'max-event-age': ['-1', '86401', '1h'],
  switchname: ['', 'a\u0001b'],
  psk: [''],
};
const WARN_VALUES: Record<string, string[]> = { ttl: ['256', '-1', 'x', '1.5', ''], loopback: ['maybe', 'ja'] };

const XML_NOISE = ['<', '>', '&', '"', "'", '/', '=', ' ', '\n', '\u0000', '<!--', '-->', '&amp;', '&bogus;', '<param', '/>', ']]>', '\uFFFF', 'é'];

function mutateText(text: string, rnd: () => number): string {
  const at = Math.floor(rnd() * text.length);
  const len = 1 + Math.floor(rnd() * 40);
  switch (Math.floor(rnd() * 5)) {
    case 0:
      return text.slice(0, at) + text.slice(at + len); // delete
    case 1:
      return text.slice(0, at) + XML_NOISE[Math.floor(rnd() * XML_NOISE.length)] + text.slice(at); // insert
    case 2:
      return text.slice(0, at) + text.slice(at, at + len) + text.slice(at); // duplicate
    case 3:
      return text.slice(0, at); // truncate
    default:
      return text.slice(0, at) + String.fromCharCode(text.charCodeAt(at) ^ (1 << Math.floor(rnd() * 7))) + text.slice(at + 1); // flip
  }
}

/** Sets one param's value in the XML: a line added last in <settings> (the last one wins, as in FreeSWITCH). */
function withParam(text: string, display: string, value: string): string {
  const esc = value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  return text.replace('</settings>', `  <param name="${display}" value="${esc}"/>\n  </settings>`);
}

function load(text: string): { ok: true; warnings: string[] } | { ok: false; problems: readonly string[]; message: string } {
  try {
    const r = loadConfig({ xmlText: text, flags: {}, env: {} });
    return { ok: true, warnings: r.warnings };
  } catch (e) {
    if (e instanceof ConfigError) return { ok: false, problems: e.problems, message: e.message };
    throw new Error(`not a ConfigError: ${String(e)}\n--- input ---\n${text}`);
  }
}

const NAMES = PARAM_SPECS.map((p) => p.display.toLowerCase());

test('random text mutations of the conf examples: a Config or a ConfigError whose problems name a param or a line:column; never a leaked secret', () => {
  const seen = { ok: 0, error: 0 };
  for (let i = 0; i < 4000; i++) {
    const rnd = prng(4242 + i);
    let text = EXAMPLES[i % EXAMPLES.length]!;
    for (let k = 1 + Math.floor(rnd() * 3); k > 0; k--) text = mutateText(text, rnd);
    const r = load(text);
    const messages = r.ok ? r.warnings : [r.message, ...r.problems];
    if (r.ok) seen.ok++;
    else {
      seen.error++;
      for (const p of r.problems) {
        assert.ok(p.length > 0);
        const named =
          /^configuration:\d+(:\d+)?: (malformed XML|a <param> without a name attribute)/.test(p) ||
          /^configuration: (no <configuration|<configuration name=)/.test(p) ||
          /^unknown parameter "(?:[^"\\]|\\.)*…?" in configuration line \d+( — did you mean "[^"]+"( or "[^"]+")?\?|; it is not a parameter)/.test(p) ||
          NAMES.some((n) => p.toLowerCase().startsWith(n.replace(/_/g, '_')));
        assert.ok(named, `a problem that names neither a param nor a place: ${p}`);
      }
    }
    // The secret may only show where a mutation made it a different param's value.
    if (text.includes(PSK_LINE) && text.indexOf(SECRET) === text.lastIndexOf(SECRET)) {
      for (const m of messages) assert.ok(!m.includes(SECRET), `secret in: ${m}`);
    }
  }
  assert.ok(seen.ok > 100 && seen.error > 100, JSON.stringify(seen));
});

test('every bad value of every param is a ConfigError naming the param and saying what is allowed; the secret is never quoted', () => {
  const rnd = prng(7);
  for (const [key, values] of Object.entries(BAD_VALUES)) {
    const display = PARAM_SPECS.find((p) => p.key === key)!.display;
    for (const value of values) {
      const base = EXAMPLES[Math.floor(rnd() * EXAMPLES.length)]!;
      const r = load(withParam(base, display, value));
      assert.equal(r.ok, false, `${display}=${JSON.stringify(value)} accepted`);
      if (r.ok) continue;
      const mine = r.problems.filter((p) => p.toLowerCase().startsWith(display.toLowerCase()) || (key.startsWith('source-address') && p.startsWith('source_address')));
      assert.ok(mine.length > 0, `${display}=${JSON.stringify(value)}: problems ${JSON.stringify(r.problems)}`);
      const allowedOrWhy = /allowed|not |no destination|unknown|empty|belongs|must|out of range|subclass/i;
      assert.ok(mine.every((p) => allowedOrWhy.test(p)), `imprecise: ${JSON.stringify(mine)}`);
      assert.ok(!r.message.includes(SECRET));
    }
  }
});

test('bad ttl and loopback are warnings with the default kept (as the C module does); unknown params are errors naming the closest known one', () => {
  for (const [key, values] of Object.entries(WARN_VALUES)) {
    for (const value of values) {
      const r = load(withParam(EXAMPLES[0]!, key, value));
      assert.ok(r.ok, `${key}=${value}`);
      if (r.ok) assert.ok(r.warnings.some((w) => w.startsWith(key)), `${key}=${value}: ${JSON.stringify(r.warnings)}`);
    }
  }
  const r = load(withParam(EXAMPLES[0]!, 'frobnicate', 'yes'));
  assert.ok(!r.ok && r.problems.some((p) => /^unknown parameter "frobnicate" in configuration line \d+; it is not a parameter/.test(p)));
  // Every one-letter typo of every param is caught, and the intended param is suggested.
  const rnd = prng(99);
  for (const spec of PARAM_SPECS) {
    const name = spec.display;
    const at = Math.floor(rnd() * name.length);
    const typo = name.slice(0, at) + (name[at] === 'x' ? 'q' : 'x') + name.slice(at + 1);
    const t = load(withParam(EXAMPLES[0]!, typo, 'v'));
    assert.ok(!t.ok, `${typo} accepted`);
    if (!t.ok) assert.ok(t.problems.some((p) => p.startsWith(`unknown parameter "${typo}"`) && p.includes(`"${name}"`)), `${typo}: ${JSON.stringify(t.problems)}`);
  }
});
