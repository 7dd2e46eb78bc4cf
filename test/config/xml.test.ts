import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readModuleXml, XmlConfigError } from '../../src/config/xml.js';

test('reads the params of the module element in document order, entities decoded, values untrimmed', () => {
  const { params, warnings } = readModuleXml(`<?xml version="1.0"?>
<!-- a comment -->
<configuration name="event_multicast.conf" description="Multicast Event">
  <settings>
    <!-- <param name="psk" value="commented"/> -->
    <param name="Address" value="225.1.1.1"/>
    <param name="psk" value=" a&amp;b "/>
    <param name="ttl"/>
  </settings>
</configuration>`);
  assert.deepEqual(params, [
    { name: 'Address', value: '225.1.1.1', line: 6 },
    { name: 'psk', value: ' a&b ', line: 7 },
    { name: 'ttl', value: '', line: 8 },
  ]);
  assert.deepEqual(warnings, []);
});

test('finds the module element inside a bigger FreeSWITCH document', () => {
  const { params } = readModuleXml(`<document type="freeswitch/xml">
  <section name="configuration">
    <configuration name="sofia.conf"><settings><param name="address" value="wrong"/></settings></configuration>
    <configuration name="event_multicast.conf"><settings><param name="address" value="right"/></settings></configuration>
  </section>
</document>`);
  assert.deepEqual(params, [{ name: 'address', value: 'right', line: 4 }]);
});

test('X-PRE-PROCESS lines are ignored with a warning that does not quote their data', () => {
  const { params, warnings } = readModuleXml(`<include>
  <X-PRE-PROCESS cmd="set" data="secret_thing=hunter2"/>
  <configuration name="event_multicast.conf"><settings><param name="port" value="4242"/></settings></configuration>
</include>`);
  assert.deepEqual(params, [{ name: 'port', value: '4242', line: 3 }]);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /X-PRE-PROCESS cmd="set"/);
  assert.doesNotMatch(warnings[0]!, /hunter2/);
});

test('malformed XML gives the line and column', () => {
  assert.throws(
    () => readModuleXml('<configuration name="event_multicast.conf">\n  <settings>\n  </setings>\n</configuration>', 'x.xml'),
    (e: unknown) => e instanceof XmlConfigError && e.line === 3 && /^x\.xml:3:\d+: malformed XML/.test(e.message),
  );
});

test('a syntax error on a line holding a secret does not quote the line', () => {
  assert.throws(
    () => readModuleXml('<configuration name="event_multicast.conf"><settings>\n<param name="psk" value=hunter2/>\n</settings></configuration>'),
    (e: unknown) => e instanceof XmlConfigError && e.line === 2 && !e.message.includes('hunter2') && /withheld/.test(e.message),
  );
});

test('a document without the module element is an error', () => {
  assert.throws(() => readModuleXml('<configuration name="sofia.conf"><settings/></configuration>'), /no <configuration name="event_multicast.conf">/);
});

test('a module element without settings is an error', () => {
  assert.throws(() => readModuleXml('<configuration name="event_multicast.conf"/>'), /has no <settings>/);
});

test('a param without a name (a misspelt name attribute) is a problem with its line, naming the attributes, never the value', () => {
  const { params, problems } = readModuleXml('<configuration name="event_multicast.conf"><settings>\n<param nmae="psk" value="hunter2"/>\n</settings></configuration>', 'x.xml');
  assert.deepEqual(params, []);
  assert.deepEqual(problems, ['x.xml:2: a <param> without a name attribute (it has attributes "nmae", "value"); write <param name="..." value="..."/>']);
});

test('line numbers count CRLF line ends and multi-line elements the way an editor does', () => {
  const text = '<configuration name="event_multicast.conf">\r\n<settings>\r\n<!-- a\r\ncomment -->\r\n<param\r\n name="port" value="1"/><param name="ttl" value="2"/>\r\n</settings></configuration>';
  assert.deepEqual(readModuleXml(text).params.map((p) => [p.name, p.line]), [['port', 5], ['ttl', 6]]);
});
