import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { EslTestClient, header } from './esl-test-client.js';

const MAIN = fileURLToPath(new URL('../../src/testing/fake-freeswitch-main.js', import.meta.url));

/** The process, and a reader of its stdout JSON lines. */
function launch(args: string[]): { child: ChildProcessWithoutNullStreams; nextLine: () => Promise<Record<string, unknown>> } {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let wake: (() => void) | null = null;
  createInterface({ input: child.stdout }).on('line', (l) => {
    lines.push(l);
    wake?.();
  });
  const nextLine = async (): Promise<Record<string, unknown>> => {
    const deadline = Date.now() + 10_000;
    while (lines.length === 0) {
      if (Date.now() > deadline) throw new Error('no output line from the process');
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 100);
      });
    }
    return JSON.parse(lines.shift()!) as Record<string, unknown>;
  };
  return { child, nextLine };
}

function exitCode(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

test('the server process: ready line, control commands over stdin, exits when stdin ends', async () => {
  const { child, nextLine } = launch(['--port', '0', '--switchname', 'fs-proc', '--password', 'pw1']);
  const exited = exitCode(child);
  try {
    const ready = await nextLine();
    assert.equal(ready.ready, true);
    const port = Number(ready.port);
    assert.ok(port > 0);

    const c = await EslTestClient.connect(port);
    await c.next();
    c.send('auth pw1\n\nevent plain HEARTBEAT\n\n');
    await c.take(2);

    child.stdin.write('{"cmd":"heartbeat","id":1}\n');
    assert.deepEqual(await nextLine(), { id: 1, cmd: 'heartbeat', ok: true });
    assert.match((await c.next()).body!.toString(), /^Event-Name: HEARTBEAT\n[\s\S]*FreeSWITCH-Switchname: fs-proc\n/);

    child.stdin.write('{"cmd":"pump","count":1000,"maxSeconds":5}\n');
    const pumped = await nextLine();
    assert.equal(pumped.ok, true);
    assert.equal(pumped.sent, 1000);
    assert.equal((await c.take(1000)).length, 1000);

    c.send('sendevent CUSTOM\nEvent-Subclass: proc::test\nK: v\n\n');
    assert.match(header(await c.next(), 'Reply-Text')!, /^\+OK /);
    child.stdin.write('{"cmd":"stats"}\n');
    const stats = await nextLine();
    assert.equal(stats.sendevents, 1);
    assert.equal(stats.connections, 1);
    child.stdin.write('{"cmd":"sendevents","last":5}\n');
    const list = await nextLine();
    assert.deepEqual(list.sendevents, [{ eventName: 'CUSTOM', headers: [['Event-Subclass', 'proc::test'], ['K', 'v']], body: null }]);

    child.stdin.write('{"cmd":"restart"}\n');
    assert.equal((await nextLine()).port, port);
    await c.closed;
    child.stdin.write('{"cmd":"bogus"}\n');
    const bad = await nextLine();
    assert.equal(bad.ok, false);
    assert.match(String(bad.error), /unknown cmd "bogus"/);

    child.stdin.end();
    assert.equal(await exited, 0);
  } finally {
    child.kill('SIGTERM');
  }
});

test('the server process exits on SIGTERM', async () => {
  const { child, nextLine } = launch(['--port', '0']);
  const exited = exitCode(child);
  await nextLine();
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});

test('a bad flag is refused with the flag name, exit code 2', async () => {
  const { child } = launch(['--port', 'abc']);
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  assert.equal(await exitCode(child), 2);
  assert.match(err, /--port must be an integer 0\.\.65535/);
});
