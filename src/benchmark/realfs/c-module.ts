/**
 * FreeSWITCH's own mod_event_multicast on the user's switches: whether it is loaded, whether its
 * configuration (read with `xml_locate`, nothing written) is safe to load for a benchmark
 * (destinations on loopback unless remote is allowed; bindings that carry the benchmark's
 * events), and loading/unloading it. The PSK, if its configuration has one, is never read out:
 * only whether it is set.
 */
import { isLoopbackAddress } from './endpoint.js';
import type { EslClient } from './esl-client.js';

export const C_MODULE = 'mod_event_multicast';

export interface CModuleConfig {
  addresses: string[];
  port: number | null;
  bindings: string[];
  pskSet: boolean;
}

/** The params of event_multicast.conf from `xml_locate configuration configuration name event_multicast.conf`, or null. */
export function parseCModuleConfig(xml: string): CModuleConfig | null {
  if (!/<configuration[^>]+name="event_multicast\.conf"/.test(xml)) return null;
  const params = new Map<string, string>();
  // Attributes in any order, quoted either way, the element self-closed or not.
  for (const m of xml.matchAll(/<param\b([^>]*)>/gi)) {
    const attr = (name: string): string | undefined => new RegExp(`\\b${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`, 'i').exec(m[1]!)?.slice(1).find((v) => v !== undefined);
    const name = attr('name');
    const value = attr('value');
    if (name !== undefined && value !== undefined) params.set(name.toLowerCase(), value);
  }
  const port = params.get('port');
  return {
    addresses: (params.get('address') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''),
    port: port === undefined ? null : Number(port),
    bindings: (params.get('bindings') ?? '').split(/\s+/).filter((s) => s !== ''),
    pskSet: (params.get('psk') ?? '') !== '',
  };
}

/** Why this configuration may not be loaded for the benchmark, or null when it may. */
export function cModuleRefusal(c: CModuleConfig, allowRemote: boolean, eventName: string, subclass: string | null): string | null {
  if (c.addresses.length === 0) return 'its configuration has no address';
  const remote = c.addresses.filter((a) => !isLoopbackAddress(a));
  if (remote.length > 0 && !allowRemote) return `its configuration sends to ${remote.join(', ')} (not loopback; --allow-remote to allow)`;
  const lower = c.bindings.map((b) => b.toLowerCase());
  const carries = lower.includes('all') || (subclass === null ? lower.includes(eventName.toLowerCase()) : lower.includes(subclass.toLowerCase()));
  if (!carries) return `its bindings (${c.bindings.join(' ') || 'none'}) do not carry ${subclass ?? eventName}`;
  return null;
}

export async function moduleLoaded(c: EslClient): Promise<boolean> {
  return (await c.api(`module_exists ${C_MODULE}`)).trim() === 'true';
}

export async function readCModuleConfig(c: EslClient): Promise<CModuleConfig | null> {
  return parseCModuleConfig(await c.api('xml_locate configuration configuration name event_multicast.conf'));
}

/** `load`/`unload`; throws with FreeSWITCH's answer when it refuses. */
export async function setModuleLoaded(c: EslClient, loaded: boolean, label: string): Promise<void> {
  const reply = await c.api(`${loaded ? 'load' : 'unload'} ${C_MODULE}`);
  if (!reply.includes('+OK')) throw new Error(`${label}: ${loaded ? 'load' : 'unload'} ${C_MODULE} answered ${JSON.stringify(reply.trim().slice(0, 160))}`);
}
