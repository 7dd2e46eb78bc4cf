/**
 * What the bridge learns about its FreeSWITCH on every (re)connect of the event socket
 * (FreeSWITCH may have restarted, with another address, module set or priority):
 * - its own addresses (local_ip_v4 / local_ip_v6): like the C module, nothing is sent to a
 *   unicast destination that is this box, so every box of a cluster can share one address list;
 * - whether mod_event_multicast is loaded beside the bridge (then every event goes out twice);
 * - whether it runs real-time while the bridge does not (src/host/scheduling.ts).
 * Asked with `api` on the event socket; the API events FreeSWITCH raises for them are the
 * bridge's own and never sent (src/esl/own-api-commands.ts).
 */
import { isIP } from 'node:net';
import type { EslEventSource } from '../esl/event-source.js';
import { RealtimeKeeper, type RealtimeMode } from '../host/realtime.js';
import { starvationWarning, type SchedulingReport } from '../host/scheduling.js';
import type { Logger } from '../util/log.js';

export interface FreeSwitchFactsOptions {
  logger: Logger;
  /** Where /proc is (tests point it at a made-up tree). */
  procRoot?: string;
  /** The bridge owns its process and may make it real-time (realtime.ts); false when embedded. */
  mayChangeScheduling: boolean;
  /** The `realtime` setting now. */
  realtimeMode(): RealtimeMode;
  /** The box's own addresses changed (or were read again). */
  onOwnAddresses(addresses: string[]): void;
}

export class FreeSwitchFacts {
  /** null until asked, or when FreeSWITCH's answer was not understood. */
  cModuleLoaded: boolean | null = null;
  ownAddresses: string[] = [];
  /** This process against FreeSWITCH's real-time threads; null until read. */
  scheduling: SchedulingReport | null = null;

  /** Makes the bridge real-time beside a real-time FreeSWITCH when the setting and the permissions allow. */
  readonly realtime: RealtimeKeeper;

  constructor(private readonly o: FreeSwitchFactsOptions) {
    this.realtime = new RealtimeKeeper(o.logger, { procRoot: o.procRoot, mayChange: o.mayChangeScheduling });
  }

  /** On every connect. Pipelined on the one connection: the whole exchange takes no longer than the address probes alone. */
  async learn(source: EslEventSource): Promise<void> {
    await Promise.all([this.learnOwnAddresses(source), this.checkCModule(source), this.checkScheduling()]);
  }

  private async checkCModule(source: EslEventSource): Promise<void> {
    let answer: string;
    try {
      answer = (await source.api('module_exists mod_event_multicast')).trim();
    } catch {
      return; // not connected any more: the next connection asks again
    }
    const loaded = answer === 'true' ? true : answer === 'false' ? false : null;
    const before = this.cModuleLoaded;
    this.cModuleLoaded = loaded;
    const log = this.o.logger;
    if (loaded === true) {
      log.warn(
        { esl: 'events', module: 'mod_event_multicast' },
        'mod_event_multicast is loaded in FreeSWITCH: it and this bridge both send every event (every event goes out twice) and both fire what peers send. ' +
          'Unload it (fs_cli -x "unload mod_event_multicast") and remove <load module="mod_event_multicast"/> from modules.conf.xml',
      );
    } else if (loaded === false && before === true) {
      log.info({ esl: 'events', module: 'mod_event_multicast' }, 'mod_event_multicast is no longer loaded in FreeSWITCH');
    } else if (loaded === null) {
      log.debug({ esl: 'events', answer: answer.slice(0, 120) }, 'could not tell whether mod_event_multicast is loaded');
    }
  }

  private async learnOwnAddresses(source: EslEventSource): Promise<void> {
    const found: string[] = [];
    for (const name of ['local_ip_v4', 'local_ip_v6']) {
      try {
        const value = (await source.api(`global_getvar ${name}`)).trim();
        if (isIP(value) !== 0) found.push(value);
      } catch {
        // Not connected any more: the next connection asks again.
      }
    }
    this.ownAddresses = found;
    this.o.onOwnAddresses(found);
  }

  /** Warned when the risk turns true, with the fix (or why the bridge did not make itself real-time). */
  private async checkScheduling(): Promise<void> {
    const r = await this.realtime.check(this.o.realtimeMode());
    const wasAtRisk = this.scheduling?.starvationRisk ?? false;
    this.scheduling = r;
    if (r.starvationRisk && !wasAtRisk) this.o.logger.warn({ freeswitch: r.freeswitch, bridge: r.bridge, realtime: this.realtime.last }, starvationWarning(r, this.realtime.last?.why));
  }
}
