import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BATCH_SUBCLASS, MAX_BATCH_EVENTS, batchCommand, decodeBatchBody, encodeBatchBody, parseSendeventForBatch, type BatchRecord,
} from '../../src/esl/batch-command.js';
import { parseHead } from '../../src/testing/esl-command-reader.js';
import { fixtureSendevents } from '../../testkit/batch-equality.js';

const UUID = '0f0e0d0c-0b0a-4908-8706-050403020100';

/** What mod_event_socket adds for a command, as the simulated switch's reader (read_packet's rules) sees it. */
function expectedPairs(command: Buffer): [string, string][] {
  const headEnd = command.indexOf('\n\n');
  const { line, headers } = parseHead(command.toString('latin1', 0, headEnd + 2));
  return [['Command', line], ...headers, ['Event-UUID', UUID]];
}

function record(command: Buffer): BatchRecord {
  const r = parseSendeventForBatch(command, UUID);
  assert.ok(r.ok, r.ok ? '' : r.reason);
  return r.record;
}

function cmd(head: string, body?: Buffer): Buffer {
  if (body === undefined) return Buffer.from(`${head}\n`, 'latin1');
  return Buffer.concat([Buffer.from(`${head}Content-Length: ${body.length}\n\n`, 'latin1'), body]);
}

const BASE = 'sendevent CUSTOM\nEvent-Subclass: multicast::event\nMulticast: yes\n';

test('every captured event: the batch carries exactly the (name, value) pairs and body sendevent would give FreeSWITCH', () => {
  const commands = fixtureSendevents();
  assert.ok(commands.length >= 100, `fixtures found (${commands.length})`);
  const decoded = decodeBatchBody(encodeBatchBody(commands.slice(0, MAX_BATCH_EVENTS).map((c) => record(c.command))));
  assert.ok(decoded.ok, decoded.ok ? '' : decoded.reason);
  decoded.events.forEach((ev, i) => {
    const { name, command } = commands[i]!;
    const pairs = ev.pairs.map(([n, v]): [string, string] => [n.toString('latin1'), v.toString('latin1')]);
    assert.deepEqual(pairs, expectedPairs(command), name);
    assert.equal(ev.subclass, 'multicast::event', name);
    const headEnd = command.indexOf('\n\n');
    const body = command.subarray(headEnd + 2);
    assert.deepEqual(ev.body, body.length === 0 ? null : body, name);
  });
});

test('hostile bodies and values cannot bend the framing: newlines, framing look-alikes, non-UTF-8, 60 KB, NUL', () => {
  const fake = Buffer.from('\nE 1 0 0\n7 3\nCommandabc\nfs_event_multicast batch 1\nP 00\n', 'latin1');
  const nonUtf8 = Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x0a, 0x0a, 0x80]);
  const huge = Buffer.alloc(60_000, 0x41);
  const inputs = [
    cmd(`${BASE}Orig-Note: 12 34\n`, fake),
    cmd(`${BASE}Orig-Weird: ${Buffer.from([0xe2, 0x82, 0xac, 0xff]).toString('latin1')}%0A%00\n`, nonUtf8),
    cmd(`${BASE}Orig-Big: ${'x'.repeat(60_000)}\n`, huge),
    cmd(`${BASE}Orig-Empty:\nOrig-Spaces:    lead\nno colon line\n`),
  ];
  const decoded = decodeBatchBody(encodeBatchBody(inputs.map(record)));
  assert.ok(decoded.ok, decoded.ok ? '' : decoded.reason);
  assert.equal(decoded.events.length, inputs.length);
  assert.deepEqual(decoded.events[0]!.body, fake);
  assert.deepEqual(decoded.events[1]!.body, nonUtf8);
  assert.deepEqual(decoded.events[1]!.pairs[3]![1], Buffer.from([0xe2, 0x82, 0xac, 0xff, 0x25, 0x30, 0x41, 0x25, 0x30, 0x30]));
  assert.equal(decoded.events[2]!.pairs[3]![1].length, 60_000);
  assert.deepEqual(decoded.events[2]!.body, huge);
  // read_packet: an empty value is still added (FreeSWITCH then drops it), leading spaces skipped, a line without ':' is no header.
  assert.deepEqual(
    decoded.events[3]!.pairs.map(([n, v]) => `${n.toString()}=${v.toString()}`),
    ['Command=sendevent CUSTOM', 'Event-Subclass=multicast::event', 'Multicast=yes', 'Orig-Empty=', 'Orig-Spaces=lead', `Event-UUID=${UUID}`],
  );
  assert.equal(decoded.events[3]!.body, null);
});

test('a body with a NUL is cut there, as sendevent cuts it ("%s"); the Content-Length header keeps the sent length; the batch body holds no NUL', () => {
  const body = Buffer.from('abc\0def', 'latin1');
  const r = record(cmd(BASE, body));
  assert.deepEqual(r.body, Buffer.from('abc'));
  assert.deepEqual(r.pairs.find(([n]) => n.toString() === 'Content-Length')?.[1], Buffer.from('7'));
  const leadingNul = record(cmd(BASE, Buffer.from('\0rest', 'latin1')));
  assert.deepEqual(leadingNul.body, Buffer.alloc(0), 'an empty body is still a body (add_body is called)');
  const encoded = encodeBatchBody([r, leadingNul]);
  assert.equal(encoded.indexOf(0), -1);
  const d = decodeBatchBody(encoded);
  assert.ok(d.ok);
  assert.deepEqual(d.events[1]!.body, Buffer.alloc(0));
});

test('commands a batch cannot reproduce are refused with a reason (the injector sends them alone)', () => {
  const cases: [string, Buffer][] = [
    ['not a sendevent', Buffer.from('api status\n\n')],
    ['not a CUSTOM event', Buffer.from('sendevent HEARTBEAT\nEvent-Subclass: multicast::event\n\n')],
    ['a CR or NUL byte in the head', Buffer.from(`${BASE}Orig-X: a\r\n\n`, 'latin1')],
    ['a CR or NUL byte in the head', Buffer.from(`${BASE}Orig-X: a\0b\n\n`, 'latin1')],
    ['unique-id', Buffer.from(`${BASE}Unique-ID: 1234\n\n`)],
    ['not a multicast:: subclass', Buffer.from('sendevent CUSTOM\nEvent-Subclass: sofia::register\n\n')],
    ['not a multicast:: subclass', Buffer.from('sendevent CUSTOM\nMulticast: yes\n\n')],
    ['Content-Length', Buffer.from(`${BASE}Content-Length: 5x\n\nhello`)],
    ['Content-Length', Buffer.from(`${BASE}Content-Length: 9\n\nhello`)],
    ['no blank line', Buffer.from(`${BASE}Orig-X: a\n`)],
  ];
  for (const [why, command] of cases) {
    const r = parseSendeventForBatch(command, UUID);
    assert.equal(r.ok, false, why);
    assert.match((r as { reason: string }).reason, new RegExp(why.replace(/[()]/g, '.')), why);
  }
});

test('the decoder refuses every cut-short or altered batch as a whole, never throws, never returns part of an event', () => {
  const good = encodeBatchBody(fixtureSendevents((f) => f.includes('sofia__register') || f.includes('weird')).slice(0, 12).map((c) => record(c.command)));
  let refused = 0;
  for (let cut = 0; cut < good.length; cut += 7) {
    const d = decodeBatchBody(good.subarray(0, cut));
    if (!d.ok) refused++;
  }
  assert.ok(refused > 0);
  for (const bad of [
    'fs_event_multicast batch 2\n',
    'fs_event_multicast batch 1\nE 0 0 0\n',
    'fs_event_multicast batch 1\nE 1 0 5\n',
    'fs_event_multicast batch 1\nE 1 0 0\n999999999 1\nx',
    'fs_event_multicast batch 1\nE 1 0 0\n0 1\nx',
    'fs_event_multicast batch 1\nE 1 0 0\n14 9\nEvent-Subclasssofia::re',
    'fs_event_multicast batch 1\nP XYZ\n',
  ]) {
    const d = decodeBatchBody(Buffer.from(bad, 'latin1'));
    assert.equal(d.ok, false, bad);
  }
});

test('batch command: a short head (what FreeSWITCH reads byte by byte) and the events in the body', () => {
  const body = encodeBatchBody([record(cmd(BASE))], 'abc123');
  const command = batchCommand(body);
  const head = command.subarray(0, command.indexOf('\n\n') + 2).toString('latin1');
  assert.equal(head, `sendevent CUSTOM\nEvent-Subclass: ${BATCH_SUBCLASS}\nContent-Length: ${body.length}\n\n`);
  const d = decodeBatchBody(command.subarray(head.length));
  assert.ok(d.ok);
  assert.equal(d.probeToken, 'abc123');
  assert.throws(() => encodeBatchBody([], 'NOT-HEX'), /probe token/);
});

// The Lua hook itself, run by a stock Lua 5.3 with a stand-in for mod_lua's freeswitch API. Skips without lua5.3.
const LUA = ['lua5.3', 'lua'].find((bin) => spawnSync(bin, ['-v']).status === 0);
const SCRIPT = resolve(fileURLToPath(new URL('../../../conf/freeswitch/scripts/fs_event_multicast_batch.lua', import.meta.url)));

function runHook(batchBody: Buffer, doneMark: string | null = null): { fired: { subclass: string; headers: [string, string][]; body: string | null }[]; log: string; globals: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), 'fsem-lua-'));
  const bodyFile = join(dir, 'body.bin');
  writeFileSync(bodyFile, batchBody);
  // The stand-in records each call, then prints every fired event as length-prefixed fields.
  const harness = `
    local f = assert(io.open(${JSON.stringify(bodyFile)}, "rb")); local BODY = f:read("a"); f:close()
    local fired, globals, log = {}, {}, {}
    local Ev = {}; Ev.__index = Ev
    function Ev:addHeader(n, v) if v == "" then self:delHeader(n) else self.h[#self.h + 1] = { n, v } end end
    function Ev:delHeader(n) local k = {}; for _, p in ipairs(self.h) do if p[1]:lower() ~= n:lower() then k[#k + 1] = p end end; self.h = k end
    function Ev:getHeader(n) for _, p in ipairs(self.h) do if p[1]:lower() == n:lower() then return p[2] end end; return nil end
    function Ev:addBody(b) self.body = b end
    function Ev:fire() fired[#fired + 1] = self end
    freeswitch = {
      -- Like switch_event_create_subclass for CUSTOM: stamped at creation (no FreeSWITCH-IPv6 here), then Event-Subclass.
      Event = function(t, sub)
        assert(t == "CUSTOM")
        local h = {}
        for _, n in ipairs({ "Event-Name", "Core-UUID", "FreeSWITCH-Hostname", "FreeSWITCH-Switchname", "FreeSWITCH-IPv4", "Event-Date-Local",
          "Event-Date-GMT", "Event-Date-Timestamp", "Event-Calling-File", "Event-Calling-Function", "Event-Calling-Line-Number", "Event-Sequence" }) do
          h[#h + 1] = { n, "stamp-" .. n }
        end
        h[#h + 1] = { "Event-Subclass", sub }
        return setmetatable({ sub = sub, h = h }, Ev)
      end,
      consoleLog = function(level, text) log[#log + 1] = level .. ":" .. text end,
      setGlobalVariable = function(n, v) globals[n] = v end,
    }
    local DONE_MARK = ${doneMark === null ? 'nil' : JSON.stringify(doneMark)}
    event = { getBody = function() return BODY end, getHeader = function(_, n) if n == "Batch-Done-Seq" then return DONE_MARK end return nil end }
    dofile(${JSON.stringify(SCRIPT)})
    local out = {}
    local function put(s) out[#out + 1] = #s .. ":" .. s end
    for _, e in ipairs(fired) do put("EVENT"); put(e.sub); for _, p in ipairs(e.h) do put(p[1]); put(p[2]) end; put(e.body and ("B" .. e.body) or "N") end
    for n, v in pairs(globals) do put("GLOBAL"); put(n); put(v) end
    for _, l in ipairs(log) do put("LOG"); put(l) end
    io.write(table.concat(out))`;
  const r = spawnSync(LUA!, ['-'], { input: harness, maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr.toString());
  const out = r.stdout;
  const fields: Buffer[] = [];
  for (let pos = 0; pos < out.length; ) {
    const colon = out.indexOf(0x3a, pos);
    const len = Number(out.toString('latin1', pos, colon));
    fields.push(out.subarray(colon + 1, colon + 1 + len));
    pos = colon + 1 + len;
  }
  const fired: { subclass: string; headers: [string, string][]; body: string | null }[] = [];
  const globals: Record<string, string> = {};
  let log = '';
  for (let i = 0; i < fields.length; ) {
    const tag = fields[i++]!.toString('latin1');
    if (tag === 'EVENT') {
      const ev = { subclass: fields[i++]!.toString('latin1'), headers: [] as [string, string][], body: null as string | null };
      while (i < fields.length) {
        const f = fields[i]!.toString('latin1');
        if (f === 'N' || f.startsWith('B')) {
          ev.body = f === 'N' ? null : f.slice(1);
          i++;
          break;
        }
        ev.headers.push([f, fields[i + 1]!.toString('latin1')]);
        i += 2;
      }
      fired.push(ev);
    } else if (tag === 'GLOBAL') {
      globals[fields[i]!.toString('latin1')] = fields[i + 1]!.toString('latin1');
      i += 2;
    } else log += fields[i++]!.toString('latin1');
  }
  return { fired, log, globals };
}

test('the Lua hook fires each event with the pairs in order, then Event-Subclass (set_subclass_name), then the creation stamp moved after them, the body kept', { skip: LUA === undefined ? 'no lua5.3 on this machine (apt-get install lua5.3)' : false }, () => {
  const commands = [
    ...fixtureSendevents((f) => f.includes('sofia__register') || f.includes('weird') || f.includes('MESSAGE_WAITING')),
    { name: 'nul body', command: cmd(BASE, Buffer.from('ab\0cd', 'latin1')) },
    { name: 'framing look-alike body', command: cmd(`${BASE}Orig-V: 1 2\n`, Buffer.from('\nE 1 0 0\n1 1\nab', 'latin1')) },
  ];
  const records = commands.map((c) => record(c.command));
  const { fired, globals, log } = runHook(encodeBatchBody(records, 'feed01'));
  assert.equal(log, '');
  assert.equal(fired.length, commands.length);
  fired.forEach((ev, i) => {
    const want = records[i]!.pairs
      .map(([n, v]): [string, string] => [n.toString('latin1'), v.toString('latin1')])
      .filter(([n]) => n.toLowerCase() !== 'event-subclass');
    const nonEmpty: [string, string][] = [];
    for (const [n, v] of want) {
      if (v === '') {
        for (let k = nonEmpty.length - 1; k >= 0; k--) if (nonEmpty[k]![0].toLowerCase() === n.toLowerCase()) nonEmpty.splice(k, 1);
      } else nonEmpty.push([n, v]);
    }
    const stamps: [string, string][] = ['Event-Name', 'Core-UUID', 'FreeSWITCH-Hostname', 'FreeSWITCH-Switchname', 'FreeSWITCH-IPv4', 'Event-Date-Local',
      'Event-Date-GMT', 'Event-Date-Timestamp', 'Event-Calling-File', 'Event-Calling-Function', 'Event-Calling-Line-Number', 'Event-Sequence'].map((n) => [n, `stamp-${n}`]);
    // sendevent's order: its headers, Event-Subclass (set_subclass_name), then the delivery stamp.
    assert.deepEqual(ev.headers, [...nonEmpty, ['Event-Subclass', 'multicast::event'], ...stamps], commands[i]!.name);
    assert.equal(ev.body, records[i]!.body === null ? null : records[i]!.body!.toString('latin1'), commands[i]!.name);
  });
  assert.deepEqual(globals, { fs_event_multicast_batch_probe: 'feed01' });
});

test('the Lua hook fires nothing of a malformed batch and logs why', { skip: LUA === undefined ? 'no lua5.3 on this machine' : false }, () => {
  const good = encodeBatchBody([record(cmd(BASE)), record(cmd(BASE))]);
  for (const bad of [good.subarray(0, good.length - 3), Buffer.concat([good, Buffer.from('E 1 0 0\n5 5\nabc')]), Buffer.from('nonsense')]) {
    const { fired, log } = runHook(bad);
    assert.equal(fired.length, 0);
    assert.match(log, /^err:fs_event_multicast_batch\.lua: batch refused, nothing fired: /);
  }
});

test('the Lua hook reports a batch done (its Batch-Done-Seq head header) after fanning it out, and after refusing it; a malformed mark is ignored', { skip: LUA === undefined ? 'no lua5.3 on this machine' : false }, () => {
  const good = encodeBatchBody([record(cmd(BASE))]);
  const head = batchCommand(good, { token: 'ab12', seq: 7 }).toString('latin1');
  const mark = /\nBatch-Done-Seq: ([^\n]*)\n/.exec(head)![1]!;
  assert.equal(mark, 'ab12 7');
  const fannedOut = runHook(good, mark);
  assert.equal(fannedOut.fired.length, 1);
  assert.deepEqual(fannedOut.globals, { fs_event_multicast_batch_done_ab12: '7' });
  const refused = runHook(Buffer.from('nonsense'), mark);
  assert.equal(refused.fired.length, 0);
  assert.deepEqual(refused.globals, { fs_event_multicast_batch_done_ab12: '7' });
  for (const bad of ['AB12 7', 'ab12', 'ab12 -1', 'ab12 7 8', `${'a'.repeat(33)} 1`]) assert.deepEqual(runHook(good, bad).globals, {}, bad);
  assert.throws(() => batchCommand(good, { token: 'AB', seq: 1 }), /token/);
});
