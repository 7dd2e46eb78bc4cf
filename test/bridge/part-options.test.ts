import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/config.js';
import { codecSettingsOf, eslEndpointOf, replayGuardFor, udpOptionsOf, udpWanted } from '../../src/bridge/part-options.js';
import { createLogger } from '../../src/util/log.js';
import { PassThrough } from 'node:stream';

const conf = (given: Record<string, string>) => {
  const params = { port: '4242', ...given };
  const xml = `<configuration name="event_multicast.conf"><settings>${Object.entries(params)
    .map(([k, v]) => `<param name="${k}" value="${v}"/>`)
    .join('')}</settings></configuration>`;
  return loadConfig({ xmlText: xml, file: 'test.conf.xml', flags: {}, env: {} }).config;
};

test('UDP destinations carry the wire format they are configured for: address → legacy, compact-address → compact', () => {
  const c = conf({ address: '127.0.0.2', 'compact-address': '127.0.0.3', port: '4242', psk: 'k' });
  assert.deepEqual(
    udpOptionsOf(c).destinations.map((d) => [d.address, d.format]),
    [
      ['127.0.0.2', 'legacy'],
      ['127.0.0.3', 'compact'],
    ],
  );
  assert.equal(udpWanted(c), true);
});

test('the workers get the PSK itself; the ESL endpoint gets the password itself (both kept as Secrets elsewhere)', () => {
  const c = conf({ address: '127.0.0.2', psk: 'cluster-key', 'esl-password': 'Sesame' });
  assert.equal(codecSettingsOf(c).psk, 'cluster-key');
  assert.equal(codecSettingsOf(c).compact?.send, false);
  assert.equal(codecSettingsOf(c).compact?.legacy, true);
  const logger = createLogger({ level: 'silent', format: 'json', destination: new PassThrough() });
  assert.equal(eslEndpointOf(c, logger).password, 'Sesame');
});

test('replay protection exists only in PSK mode with a window', () => {
  assert.equal(replayGuardFor(conf({ address: '127.0.0.2' })), null);
  assert.notEqual(replayGuardFor(conf({ address: '127.0.0.2', psk: 'k' })), null);
  assert.equal(replayGuardFor(conf({ address: '127.0.0.2', psk: 'k', 'replay-window': '0' })), null);
});
