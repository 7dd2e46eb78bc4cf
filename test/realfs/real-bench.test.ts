/**
 * On the real rig: `bench --freeswitch-a/--freeswitch-b` through two real FreeSWITCH instances,
 * bridge and mod_event_multicast side by side (a short run: two rates, 2 s each). Afterwards the
 * module is unloaded again on both and no registration of the benchmark's domain is left on B.
 * Rates are not asserted (a shared machine); what is: events arrived, CPU per event was read
 * from FreeSWITCH's own process, and the switches were left as found.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runRealBench } from '../../src/benchmark/realfs/real-bench.js';
import { parseRealBenchArgs } from '../../src/benchmark/realfs/options.js';
import { formatRealBenchReport } from '../../src/benchmark/realfs/report.js';
import { ESL_PORT, requireRig } from './rig.js';

test('real FreeSWITCH: bench measures the bridge and mod_event_multicast, then unloads the module and flushes the registrations', { timeout: 300_000 }, async (t) => {
  const rig = requireRig(t);
  if (rig === null) return;
  await rig.start('a');
  await rig.start('b');
  const { options } = parseRealBenchArgs(
    ['--freeswitch-a', `127.0.0.1:${ESL_PORT.a}`, '--freeswitch-b', `127.0.0.1:${ESL_PORT.b}`, '--step-seconds', '2', '--start-rate', '50', '--max-rate', '100', '--max-trials', '2', '--max-seconds', '200'],
    {},
  );
  const lines: string[] = [];
  const rep = await runRealBench(options, (l) => lines.push(l));
  const text = formatRealBenchReport(rep);
  t.diagnostic(text);

  const bridge = rep.results.find((r) => r.system === 'bridge')!;
  assert.ok(bridge.trials.length >= 1, lines.join('\n'));
  assert.ok(bridge.trials[0]!.arrived > 0, `events arrived through the bridges:\n${lines.join('\n')}`);
  assert.notEqual(rep.freeswitchPids.a, null);
  assert.notEqual(rep.freeswitchPids.b, null);
  assert.ok((bridge.trials[0]!.cpuMsPerEventB ?? 0) > 0, 'switch B CPU per event read from /proc');
  const c = rep.results.find((r) => r.system === 'c-module')!;
  assert.equal(c.skipped, null, `the C module loads on the rig: ${c.skipped}`);
  assert.ok(c.trials[0]!.arrived > 0, `events arrived through the C module:\n${lines.join('\n')}`);
  assert.match(text, /bridge \/ C module sustained rate|mod_event_multicast/);

  assert.equal((await rig.cli('a', 'module_exists mod_event_multicast')).trim(), 'false');
  assert.equal((await rig.cli('b', 'module_exists mod_event_multicast')).trim(), 'false');
  const regs = await rig.cli('b', `sofia status profile internal reg ${options.domain}`);
  assert.doesNotMatch(regs, new RegExp(`@${options.domain.replace(/\./g, '\\.')}`), 'no registration of the benchmark is left');
});
