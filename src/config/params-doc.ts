/**
 * The README's parameter table, made from the one parameter list (params.ts): the docs cannot
 * drift from what the bridge accepts. `npm run docs` writes it; a test fails when the README
 * and the list disagree.
 */
import { PARAM_SPECS, type ParamSpec } from './params.js';

export const PARAMS_START = '<!-- params:start (generated from src/config/params.ts by npm run docs; do not edit) -->';
export const PARAMS_END = '<!-- params:end -->';

const cell = (s: string): string => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

function row(p: ParamSpec): string {
  const name = p.module ? `\`${p.display}\` (C module)` : `\`${p.display}\``;
  const env = p.env === undefined ? '' : ` Also \`${p.env}\`.`;
  return `| ${name} | ${p.defaultText === '' ? '—' : cell(`\`${p.defaultText}\``)} | ${cell(p.help)}.${env} |`;
}

/** The table, between its markers. */
export function paramsTable(): string {
  return [PARAMS_START, '| param / flag | default | meaning |', '|---|---|---|', ...PARAM_SPECS.map(row), PARAMS_END].join('\n');
}

/** `readme` with its table replaced by the current one; throws when the markers are missing. */
export function withParamsTable(readme: string): string {
  const a = readme.indexOf(PARAMS_START);
  const b = readme.indexOf(PARAMS_END);
  if (a < 0 || b < a) throw new Error(`README: the markers ${PARAMS_START} ... ${PARAMS_END} are missing`);
  return readme.slice(0, a) + paramsTable() + readme.slice(b + PARAMS_END.length);
}
