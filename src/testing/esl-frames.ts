/**
 * The byte shapes mod_event_socket writes to a client, exactly as the captures show them.
 */

export const AUTH_REQUEST = Buffer.from('Content-Type: auth/request\n\n', 'latin1');

/** The message FreeSWITCH sends before closing after `exit` or a failed `auth`. */
export const GOODBYE_MESSAGE = 'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';
/** The message sent to every listener when the event socket shuts down. */
export const SHUTDOWN_MESSAGE = 'The system is being shut down.\n';

export function commandReply(replyText: string): Buffer {
  return Buffer.from(`Content-Type: command/reply\nReply-Text: ${replyText}\n\n`, 'utf8');
}

export function bgapiReply(jobUuid: string): Buffer {
  return Buffer.from(`Content-Type: command/reply\nReply-Text: +OK Job-UUID: ${jobUuid}\nJob-UUID: ${jobUuid}\n\n`, 'latin1');
}

export function apiResponse(body: string): Buffer {
  const b = Buffer.from(body, 'utf8');
  return Buffer.concat([Buffer.from(`Content-Type: api/response\nContent-Length: ${b.length}\n\n`, 'latin1'), b]);
}

export function disconnectNotice(message: string): Buffer {
  const b = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`Content-Type: text/disconnect-notice\nContent-Length: ${b.length}\n\n`, 'latin1'), b]);
}

/** `Content-Length: <len>\nContent-Type: text/event-<kind>\n\n<text>` */
export function eventFrame(text: Buffer, kind: 'plain' | 'json' = 'plain'): Buffer {
  const head = Buffer.from(`Content-Length: ${text.length}\nContent-Type: text/event-${kind}\n\n`, 'latin1');
  return Buffer.concat([head, text], head.length + text.length);
}
