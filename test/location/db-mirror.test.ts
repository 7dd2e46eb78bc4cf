import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dbDeleteCommand, dbInsertCommand, dbPart, dbWritesFor } from '../../src/location/db-mirror.js';

test('db commands: the module guide shape, db insert/<realm>/LOCATION_<user>/<address> and db delete/<realm>/LOCATION_<user>', () => {
  assert.equal(dbInsertCommand('127.0.0.1', '1014', '127.0.0.1'), 'db insert/127.0.0.1/LOCATION_1014/127.0.0.1');
  assert.equal(dbDeleteCommand('example.com', '+4930123'), 'db delete/example.com/LOCATION_+4930123');
  assert.equal(dbInsertCommand('example.com', 'alice', '[fd00::2]'), 'db insert/example.com/LOCATION_alice/[fd00::2]');
});

test('db commands: any part that could break the command or mod_db\'s splitter is refused, not written', () => {
  for (const bad of ['', 'a b', 'a/b', 'a\r\nb', 'a\nb', "a'b", 'a"b', 'a\\b', 'a%20b', 'a;b', 'a\tb', 'x'.repeat(129), 'é']) {
    assert.equal(dbPart(bad), null, JSON.stringify(bad));
    assert.equal(dbInsertCommand(bad, '1014', '127.0.0.1'), null);
    assert.equal(dbInsertCommand('d', bad, '127.0.0.1'), null);
    assert.equal(dbInsertCommand('d', '1014', bad), null);
    assert.equal(dbDeleteCommand('d', bad), null);
  }
  // A command injection attempt through the user name: refused whole.
  assert.equal(dbInsertCommand('d', '1014\n\napi shutdown', '1.2.3.4'), null);
});

test('db writes: insert on a new entry or a new address, nothing on a new contact at the same address, delete on removal', () => {
  const entry = (address: string) => ({ user: '1014', domain: 'd', box: { address } });
  assert.deepEqual(dbWritesFor({ kind: 'set', entry: entry('127.0.0.1'), previous: null }), [{ kind: 'insert', command: 'db insert/d/LOCATION_1014/127.0.0.1' }]);
  assert.deepEqual(dbWritesFor({ kind: 'set', entry: entry('127.0.0.2'), previous: { domain: 'd', box: { address: '127.0.0.1' } } }), [{ kind: 'insert', command: 'db insert/d/LOCATION_1014/127.0.0.2' }]);
  assert.deepEqual(dbWritesFor({ kind: 'set', entry: entry('127.0.0.1'), previous: { domain: 'd', box: { address: '127.0.0.1' } } }), []);
  assert.deepEqual(dbWritesFor({ kind: 'delete', entry: entry('127.0.0.1') }), [{ kind: 'delete', command: 'db delete/d/LOCATION_1014' }]);
  assert.equal(dbWritesFor({ kind: 'set', entry: entry(''), previous: null }), null, 'no address known: refused');
});
