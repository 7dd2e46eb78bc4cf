/**
 * The NATS client's error classes (@nats-io 3.x) mapped to the causes the bridge names: the
 * stable codes of the 2.x client, which ones are retried in the background, one-line
 * descriptions, and nothing of a secret in them. The real server's answers (wrong token,
 * refused connection, no JetStream) are checked end to end in nats-transport and nats-state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JetStreamApiError } from '@nats-io/jetstream';
import { credsAuthenticator, errors, nkeyAuthenticator } from '@nats-io/transport-node';
import { describeNatsError, isJetStreamMissing, isUnreachable, natsErrorCode } from '../../src/transport/nats/errors.js';

function socketError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

function thrownBy(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  assert.fail('expected a throw');
}

test('refused credentials: the 2.x codes, fatal (not retried), the server\'s words kept', () => {
  const violation = errors.AuthorizationError.parse('Authorization Violation');
  assert.ok(violation);
  assert.equal(natsErrorCode(violation), 'AUTHORIZATION_VIOLATION');
  assert.equal(isUnreachable(violation), false);
  assert.equal(describeNatsError(violation), 'AUTHORIZATION_VIOLATION: Authorization Violation');
  assert.equal(natsErrorCode(errors.AuthorizationError.parse('Authentication Timeout')), 'AUTHENTICATION_TIMEOUT');
  assert.equal(natsErrorCode(errors.AuthorizationError.parse('Account Authentication Expired')), 'ACCOUNT_EXPIRED');
  assert.equal(natsErrorCode(new errors.UserAuthenticationExpiredError('User Authentication Expired')), 'AUTHENTICATION_EXPIRED');
  assert.equal(natsErrorCode(new errors.PermissionViolationError("Permissions Violation for Publish to 'x'", 'publish', 'x')), 'PERMISSIONS_VIOLATION');
});

test('not there (yet): refused, timed out or reset connections are retried, and the socket\'s error is named', () => {
  const refused = new errors.ConnectionError('connection refused', { cause: socketError('connect ECONNREFUSED 127.0.0.1:4222', 'ECONNREFUSED') });
  assert.equal(natsErrorCode(refused), 'CONNECTION_REFUSED');
  assert.equal(isUnreachable(refused), true);
  assert.equal(describeNatsError(refused), 'CONNECTION_REFUSED: connection refused (connect ECONNREFUSED 127.0.0.1:4222)');
  // The client's own "no server left" error has no socket error under it.
  assert.equal(natsErrorCode(new errors.ConnectionError('connection refused')), 'CONNECTION_REFUSED');
  const timeout = new errors.TimeoutError();
  assert.equal(natsErrorCode(timeout), 'TIMEOUT');
  assert.equal(isUnreachable(timeout), true);
  for (const code of ['ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']) {
    const e = socketError(`connect ${code} 127.0.0.9:4222`, code);
    assert.equal(isUnreachable(e), true, code);
    assert.equal(describeNatsError(e), `connect ${code} 127.0.0.9:4222`, 'a message that names its code is not prefixed again');
  }
});

test('a TLS failure is a connection error but not "unreachable": start fails and says why', () => {
  const tls = new errors.ConnectionError('Hostname/IP does not match certificate\'s altnames', { cause: socketError('altnames', 'ERR_TLS_CERT_ALTNAME_INVALID') });
  assert.equal(isUnreachable(tls), false);
  assert.match(describeNatsError(tls), /does not match certificate/);
});

test('JetStream missing on the server is named as such; other JetStream API errors give their err_code', () => {
  const noResponders = new errors.RequestError("no responders: '$JS.API.INFO'", { cause: new errors.NoRespondersError('$JS.API.INFO') });
  const missing = new Error('jetstream is not enabled', { cause: noResponders });
  assert.equal(isJetStreamMissing(missing), true);
  assert.equal(natsErrorCode(missing), 'JETSTREAM_NOT_ENABLED');
  assert.equal(describeNatsError(missing), "JETSTREAM_NOT_ENABLED: jetstream is not enabled (no responders: '$JS.API.INFO')");
  assert.equal(isUnreachable(missing), false);
  const notForAccount = new Error('jetstream not enabled for account', { cause: new JetStreamApiError({ code: 503, err_code: 10039, description: 'jetstream not enabled for account' }) });
  assert.equal(natsErrorCode(notForAccount), 'JETSTREAM_NOT_ENABLED');
  const inUse = new JetStreamApiError({ code: 400, err_code: 10058, description: 'stream name already in use with a different configuration' });
  assert.equal(isJetStreamMissing(inUse), false);
  assert.equal(describeNatsError(inUse), '10058: stream name already in use with a different configuration');
});

test('bad credential files are named without quoting the secret', () => {
  const seed = 'SUAnot-a-real-Seed-xyz';
  const badSeed = thrownBy(() => nkeyAuthenticator(new TextEncoder().encode(seed))('nonce'));
  assert.equal(describeNatsError(badSeed), 'nkeys: invalid encoded key', 'the decoder\'s detail (it quotes a character of the seed) is left out');
  assert.equal(isUnreachable(badSeed), false);
  const creds = 'garbage-Creds-Secret-xyz';
  const badCreds = thrownBy(() => credsAuthenticator(new TextEncoder().encode(creds))('nonce'));
  assert.equal(natsErrorCode(badCreds), 'BAD_CREDS');
  assert.equal(describeNatsError(badCreds), 'BAD_CREDS: unable to parse credentials');
  for (const e of [badSeed, badCreds]) assert.ok(!describeNatsError(e).includes(seed) && !describeNatsError(e).includes(creds));
});

test('anything else: its own message, no invented code', () => {
  assert.equal(natsErrorCode(new Error('odd')), undefined);
  assert.equal(describeNatsError(new Error('odd')), 'odd');
  assert.equal(describeNatsError('a string'), 'a string');
  assert.equal(isUnreachable(null), false);
});
