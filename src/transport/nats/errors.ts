/**
 * What the NATS client's errors mean to the bridge. The @nats-io 3.x client throws error classes
 * (AuthorizationError, ConnectionError with the socket error as its cause, TimeoutError,
 * JetStreamNotEnabled carrying a "no responders" RequestError...) where the 2.x client had one
 * NatsError with a string code. Operators grep logs and alert on those codes, so they are kept:
 * natsErrorCode gives the same names (AUTHORIZATION_VIOLATION, CONNECTION_REFUSED, TIMEOUT...),
 * describeNatsError puts the code first, and isUnreachable decides from it.
 *
 * No secret reaches a description: tokens and passwords only go into the CONNECT the client
 * sends, the server's -ERR never echoes them, and underlying errors are shown only when they are
 * the socket's or a request's (a seed's decoding error can quote the seed's characters).
 */
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { errors } from '@nats-io/transport-node';

/** The socket errors that mean "not there (yet)". */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** Codes that mean "keep trying in the background"; anything else (credentials) is fatal at start. */
const UNREACHABLE_CODES = new Set(['CONNECTION_REFUSED', 'TIMEOUT', ...NETWORK_CODES]);

function stringCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The server's -ERR texts for refused credentials, and the code 2.x gave each. */
const AUTHORIZATION_CODES: [RegExp, string][] = [
  [/authorization violation/i, 'AUTHORIZATION_VIOLATION'],
  [/account authentication expired/i, 'ACCOUNT_EXPIRED'],
  [/authentication timeout/i, 'AUTHENTICATION_TIMEOUT'],
];

/** JetStream is not on the server (no responders on its API) or not enabled for the account. */
export function isJetStreamMissing(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const cause = e.cause;
  if (cause instanceof errors.RequestError && cause.isNoResponders()) return true;
  return cause instanceof JetStreamApiError && cause.code === JetStreamApiCodes.JetStreamNotEnabledForAccount;
}

/** A stable name for the cause, as nats 2.x gave it where it had one; undefined when nothing specific is known. */
export function natsErrorCode(e: unknown): string | undefined {
  if (e instanceof errors.AuthorizationError) {
    return AUTHORIZATION_CODES.find(([re]) => re.test(e.message))?.[1] ?? 'AUTHORIZATION_VIOLATION';
  }
  if (e instanceof errors.UserAuthenticationExpiredError) return 'AUTHENTICATION_EXPIRED';
  if (e instanceof errors.PermissionViolationError) return 'PERMISSIONS_VIOLATION';
  if (e instanceof errors.TimeoutError) return 'TIMEOUT';
  if (e instanceof errors.ClosedConnectionError) return 'CONNECTION_CLOSED';
  if (e instanceof errors.ConnectionError) {
    const socketCode = stringCode(e.cause);
    if (socketCode === 'ECONNREFUSED' || (socketCode === undefined && /^connection refused$/i.test(e.message))) return 'CONNECTION_REFUSED';
    return socketCode;
  }
  if (isJetStreamMissing(e)) return 'JETSTREAM_NOT_ENABLED';
  if (e instanceof JetStreamApiError) return String(e.code);
  if (e instanceof Error && /^unable to parse credentials$/i.test(e.message)) return 'BAD_CREDS'; // a plain Error from credsAuthenticator
  return stringCode(e); // socket errors (ECONNRESET...), nkeys errors
}

/** Not there (yet): worth retrying in the background. */
export function isUnreachable(e: unknown): boolean {
  const code = natsErrorCode(e);
  return code !== undefined && UNREACHABLE_CODES.has(code);
}

/** Underlying errors whose text is safe and worth showing: the socket's (address, errno) and a request's (subject). */
function showableCause(e: unknown): Error | null {
  const cause = e instanceof Error ? e.cause : undefined;
  if (!(cause instanceof Error) || cause.message === '') return null;
  if (/^E[A-Z]+$/.test(stringCode(cause) ?? '') || cause instanceof errors.RequestError) return cause;
  return null; // e.g. a seed's decoding error: its text can quote the secret's characters
}

/**
 * One line naming the cause: the code, the client's message when it says more than the code,
 * and the socket's or the request's message when there is one underneath.
 */
export function describeNatsError(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const code = natsErrorCode(e);
  let line = code === undefined || message.includes(code) ? message : message === '' ? code : `${code}: ${message}`;
  const cause = showableCause(e);
  if (cause !== null && !line.includes(cause.message)) line += ` (${cause.message})`;
  return line;
}
