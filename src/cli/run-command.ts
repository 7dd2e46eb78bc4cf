/**
 * `fs-event-multicast run --config event_multicast.conf.xml [--esl-host ...]`: the bridge, until
 * SIGINT/SIGTERM (graceful drain) or a fatal error (exit 1). SIGHUP re-reads the configuration.
 */
import { ConfigError, loadConfig, parseRunFlags, type Config, type LoadedConfig } from '../config/config.js';
import { PARAM_SPECS } from '../config/params.js';
import { Bridge } from '../bridge/bridge.js';
import { createLogger } from '../util/log.js';
import { UsageError, type Io } from './codec-commands.js';

export const RUN_USAGE = `usage: fs-event-multicast run --config FILE [--param value ...]
  FILE is FreeSWITCH's own event_multicast.conf.xml; the bridge's settings are extra <param>s in
  its <settings>, and every param can also be given as a flag, which wins over the file:
${PARAM_SPECS.map((p) => `    --${p.display.padEnd(20)} ${p.help} (default ${p.defaultText})`).join('\n')}
  Secrets: psk, esl-password, nats-token and nats-password also come from FS_EVENT_MULTICAST_PSK,
  FS_EVENT_MULTICAST_ESL_PASSWORD, FS_EVENT_MULTICAST_NATS_TOKEN, FS_EVENT_MULTICAST_NATS_PASSWORD
  (flags show up in 'ps'). An unknown param, flag or FS_EVENT_MULTICAST_ variable is an error (a typo
  must not run unencrypted); 'fs-event-multicast check' validates without starting.
  Signals: SIGHUP reloads the file, SIGINT/SIGTERM drain and stop.`;

export async function runCommand(argv: string[], io: Io): Promise<number> {
  const parsed = parseRunFlags(argv);
  if (parsed.help) {
    io.stdout(RUN_USAGE + '\n');
    return 0;
  }
  if (parsed.errors.length > 0) throw new UsageError(`run: ${parsed.errors.join('; ')}`, RUN_USAGE);
  if (parsed.flags['config'] === undefined) throw new UsageError('run: --config FILE is required (your event_multicast.conf.xml)', RUN_USAGE);
  const load = (): LoadedConfig => loadConfig({ flags: parsed.flags, env: io.env });
  let first: LoadedConfig;
  try {
    first = load();
  } catch (e) {
    if (e instanceof ConfigError) {
      io.stderr(`fs-event-multicast run: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const logger = createLogger({ level: first.config.logLevel });
  // Once per load: at start and on every reload.
  const report = (loaded: LoadedConfig): void => {
    for (const w of loaded.warnings) logger.warn({ config: loaded.config.file }, w);
    for (const n of loaded.notices) logger.info({ config: loaded.config.file }, n);
  };
  report(first);
  return runBridge(first.config, logger, () => {
    const next = load();
    report(next);
    return next.config;
  });
}

/** Runs a bridge until a signal or a fatal error; resolves with the exit code. */
export async function runBridge(config: Config, logger: ReturnType<typeof createLogger>, reloadConfig?: () => Config): Promise<number> {
  let fatal: Error | null = null;
  let finish!: (code: number) => void;
  const finished = new Promise<number>((r) => (finish = r));
  let bridge: Bridge | null = null;
  /** A stop asked for while the bridge was still starting: done as soon as it has started. */
  let stopAsked: string | null = null;
  let stopping = false;
  async function shutdown(why: string): Promise<void> {
    if (bridge === null) {
      stopAsked ??= why;
      return;
    }
    if (stopping) return;
    stopping = true;
    logger.info({ why }, 'stopping: draining what is in flight');
    const hardStop = setTimeout(() => {
      logger.error('stop took longer than 15 s; exiting');
      finish(1);
    }, 15_000);
    hardStop.unref();
    await bridge.stop(5000);
    clearTimeout(hardStop);
    finish(fatal === null ? 0 : 1);
  }
  // Installed before the start: a signal during it must stop the bridge, not kill the process
  // half way (the default action) with nothing drained.
  const onTerm = () => void shutdown('SIGTERM');
  const onInt = () => void shutdown('SIGINT');
  const onHup = () => void bridge?.reload('SIGHUP');
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  process.on('SIGHUP', onHup);
  const removeHandlers = () => {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    process.off('SIGHUP', onHup);
  };
  try {
    bridge = await Bridge.start({
      config,
      logger,
      ...(reloadConfig !== undefined ? { reloadConfig } : {}),
      // The run command owns its process: it may make it real-time (setting realtime).
      mayChangeScheduling: true,
      onFatal: (e) => {
        fatal = e;
        void shutdown('fatal');
      },
    });
  } catch (e) {
    removeHandlers();
    logger.fatal({ err: (e as Error).message }, 'the bridge could not start');
    return 1;
  }
  if (stopAsked !== null) void shutdown(stopAsked);
  const code = await finished;
  removeHandlers();
  return code;
}
