/**
 * The bridge under test, in its own process so that its CPU time (main thread + workers) and
 * its peak RSS are exactly its own. Started and read by the orchestrator over IPC:
 *   start {xml, flags, psk?}  -> Bridge.start with loadConfig(xmlText, flags, env)
 *   usage                     -> CPU µs, RSS, peak RSS, the bridge's counters, pool/UDP/ESL stats
 *   handicap {usPerDatagram}  -> benchmark-only extra CPU per datagram sent/received (testkit/handicap.ts)
 *   reference {units}         -> the gate's reference work in this process (testkit/reference-work.ts)
 *   stop
 */
import { loadConfig } from '../../../src/config/config.js';
import { PSK_ENV } from '../../../src/config/params.js';
import { Bridge } from '../../../src/bridge/bridge.js';
import { createLogger } from '../../../src/util/log.js';
import { arg, processUsage, serveControl } from './control.js';
import { installHandicap } from '../../../testkit/handicap.js';
import { referenceWork } from '../../../testkit/reference-work.js';

let bridge: Bridge | null = null;

serveControl({
  async start(args) {
    if (bridge !== null) throw new Error('bridge already started');
    const flags = args['flags'] as Record<string, string>;
    const psk = args['psk'];
    const env: Record<string, string | undefined> = typeof psk === 'string' ? { [PSK_ENV]: psk } : {};
    const { config } = loadConfig({ xmlText: arg(args, 'xml', 'string'), flags, env });
    const logger = createLogger({ level: config.logLevel, format: 'json' });
    bridge = await Bridge.start({
      config,
      logger,
      onFatal: (e) => {
        process.stderr.write(`bridge under test: fatal: ${e.message}\n`);
        process.exit(1);
      },
    });
    return { pid: process.pid };
  },
  usage() {
    if (bridge === null) throw new Error('bridge not started');
    const status = bridge.statusJson() as Record<string, unknown>;
    const m = process.memoryUsage();
    return {
      ...processUsage(),
      memory: { heapUsedMb: m.heapUsed / 2 ** 20, heapTotalMb: m.heapTotal / 2 ** 20, externalMb: m.external / 2 ** 20, arrayBuffersMb: m.arrayBuffers / 2 ** 20 },
      counters: bridge.counters,
      pool: status['pool'],
      udp: status['udp'],
      esl: status['esl'],
    };
  },
  handicap(args) {
    return installHandicap(arg(args, 'usPerDatagram', 'number'));
  },
  reference(args) {
    return referenceWork(arg(args, 'units', 'number'));
  },
  async stop() {
    const b = bridge;
    bridge = null;
    if (b !== null) await b.stop(2000);
    setImmediate(() => process.exit(0));
    return {};
  },
});
