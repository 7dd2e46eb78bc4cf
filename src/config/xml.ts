/**
 * Reads the `<settings><param name value/>` list of `<configuration name="event_multicast.conf">`
 * out of FreeSWITCH XML: the module's own file (just that element) or a bigger document that
 * holds it (e.g. a flattened freeswitch.xml). No interpretation of the params here.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export const CONFIGURATION_NAME = 'event_multicast.conf';

export interface XmlParam {
  /** The name attribute as written (callers compare it case-insensitively). */
  readonly name: string;
  /** The value attribute, entities decoded, NOT trimmed; "" when absent (as FreeSWITCH). */
  readonly value: string;
  /** 1-based line of the `<param` in the text, for messages (null: not known). */
  readonly line: number | null;
}

export interface ModuleXml {
  /** The params in document order; a repeated name appears twice (the last one wins). */
  readonly params: readonly XmlParam[];
  readonly warnings: readonly string[];
  /**
   * Mistakes that must stop the load but leave the rest readable, so that every problem is
   * reported at once: a `<param>` without a name (a misspelt `name` attribute would otherwise
   * drop a psk silently).
   */
  readonly problems: readonly string[];
}

export class XmlConfigError extends Error {
  readonly line: number | null;
  readonly column: number | null;
  constructor(message: string, line: number | null = null, column: number | null = null) {
    super(message);
    this.name = 'XmlConfigError';
    this.line = line;
    this.column = column;
  }
}

/** Parsed element: attributes as string properties, children as arrays (isArray below). */
type XmlNode = { [key: string]: XmlValue };
type XmlValue = string | XmlNode | Array<string | XmlNode>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  trimValues: false, // a psk may start or end with a space
  parseAttributeValue: false,
  parseTagValue: false,
  processEntities: true,
  // Every element becomes an array, so repeated and single children look the same.
  isArray: (_name: string, _jpath: unknown, _leaf: boolean, isAttribute: boolean) => !isAttribute,
  captureMetaData: true, // where each element starts, for the line numbers in messages
  alwaysCreateTextNode: true, // so that an empty `<param/>` is an object too, with its place
});
const METADATA = XMLParser.getMetaDataSymbol() as unknown as symbol;

/**
 * Parses `text` (named `source` in messages) and returns the module's params.
 * Throws XmlConfigError for malformed XML (with line and column) or a missing element.
 */
export function readModuleXml(text: string, source = 'configuration'): ModuleXml {
  const verdict = XMLValidator.validate(text, { allowBooleanAttributes: false });
  if (verdict !== true) {
    const { line, col, msg } = verdict.err;
    // Some errors (an empty or cut-off document) come without a column.
    const column = Number.isInteger(col) ? col : null;
    const where = column === null ? `${line}` : `${line}:${column}`;
    throw new XmlConfigError(`${source}:${where}: malformed XML: ${safeDetail(text, line, msg)}`, line, column);
  }
  let doc: XmlNode;
  try {
    doc = parser.parse(text) as XmlNode;
  } catch (e) {
    // The validator passes a few documents the parser then rejects; its message quotes the text
    // (maybe a secret), so only the place is given.
    const raw = e instanceof Error ? e.message : '';
    const at = /position (\d+)/.exec(raw);
    let pos = at === null ? -1 : Number(at[1]);
    if (pos < 0 && /comment/i.test(raw)) pos = text.lastIndexOf('<!--'); // "Comment is not closed."
    const line = pos < 0 ? null : text.slice(0, pos).split('\n').length;
    const reason = raw.replace(/\s*Context:[\s\S]*$/, '').replace(/"[^"]*"|'[^']*'/g, '"..."').slice(0, 120);
    throw new XmlConfigError(`${source}${line === null ? '' : `:${line}`}: malformed XML: ${reason || 'the parser could not read this document'}`, line);
  }
  const warnings: string[] = [];

  const preprocess = collectElements(doc, 'X-PRE-PROCESS');
  for (const el of preprocess) {
    const cmd = attr(el, 'cmd') ?? '?';
    // Only the command is named: a `set` directive's data may hold a secret.
    warnings.push(`${source}: <X-PRE-PROCESS cmd="${cmd}"> ignored: the bridge does not run FreeSWITCH's preprocessor`);
  }

  const configs = collectElements(doc, 'configuration').filter(
    (el) => (attr(el, 'name') ?? '').toLowerCase() === CONFIGURATION_NAME,
  );
  if (configs.length === 0) {
    throw new XmlConfigError(`${source}: no <configuration name="${CONFIGURATION_NAME}"> element found`);
  }
  if (configs.length > 1) {
    warnings.push(`${source}: ${configs.length} <configuration name="${CONFIGURATION_NAME}"> elements; the first is used (as FreeSWITCH does)`);
  }
  const settings = children(configs[0]!, 'settings');
  if (settings.length === 0) {
    throw new XmlConfigError(`${source}: <configuration name="${CONFIGURATION_NAME}"> has no <settings> element`);
  }
  if (settings.length > 1) warnings.push(`${source}: more than one <settings> element; only the first is read (as FreeSWITCH does)`);

  const params: XmlParam[] = [];
  const problems: string[] = [];
  const lineOf = lineFinder(text);
  for (const p of children(settings[0]!, 'param')) {
    const name = attr(p, 'name');
    const line = lineOf(p);
    if (name === undefined || name === '') {
      // Only attribute names are shown: a value may be a secret.
      const attrs = Object.keys(p).filter((k) => k.startsWith('@')).map((k) => k.slice(1));
      const has = attrs.length === 0 ? 'no attributes' : `attributes ${attrs.slice(0, 4).map((a) => JSON.stringify(a.slice(0, 32))).join(', ')}`;
      problems.push(`${source}${line === null ? '' : `:${line}`}: a <param> without a name attribute (it has ${has}); write <param name="..." value="..."/>`);
      continue;
    }
    params.push({ name, value: attr(p, 'value') ?? '', line });
  }
  return { params, warnings, problems };
}

/** The 1-based line where a parsed element starts (the parser records its offset; not for an empty `<x/>`). */
function lineFinder(text: string): (el: XmlNode) => number | null {
  const starts: number[] = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return (el) => {
    const at = (el as unknown as Record<symbol, { startIndex?: number } | undefined>)[METADATA]?.startIndex;
    if (at === undefined) return null;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= at) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}

/** A line that may hold a secret: a secret param's name (any spelling) or a URL with credentials. */
const SECRET_LINE = /psk|pks|passw|token|nats[-_]?user|@/i;

/** The validator's message, unless the offending line holds a secret it might quote. */
function safeDetail(text: string, line: number, msg: string): string {
  const lineText = text.split('\n')[line - 1] ?? '';
  if (SECRET_LINE.test(lineText)) return 'syntax error on a line that holds a secret (details withheld)';
  return msg;
}

function attr(el: XmlNode, name: string): string | undefined {
  const v = el[`@${name}`];
  return typeof v === 'string' ? v : undefined;
}

function elementsOf(v: XmlValue | undefined): XmlNode[] {
  if (v === undefined) return [];
  const list = Array.isArray(v) ? v : [v];
  // `<x/>` parses to "" (no attributes, no children): an element with nothing in it.
  return list.map((item) => (typeof item === 'string' ? {} : item));
}

function children(el: XmlNode, tag: string): XmlNode[] {
  return elementsOf(el[tag]);
}

/** Every element called `tag`, depth-first from `root`, in document order per parent. */
function collectElements(root: XmlNode, tag: string): XmlNode[] {
  const out: XmlNode[] = [];
  const walk = (el: XmlNode): void => {
    for (const [key, v] of Object.entries(el)) {
      if (key.startsWith('@') || key === '#text') continue;
      for (const child of elementsOf(v)) {
        if (key === tag) out.push(child);
        walk(child);
      }
    }
  };
  walk(root);
  return out;
}
