/**
 * The layering, checked in CI (`npm run lint:deps`). Imports point down only:
 *
 *   cli ─▶ bridge ─▶ esl · pool · transport · peers · status · location · host ─▶ config ─▶ wire · util
 *
 * plus benchmark (the comparison the CLI ships) and testing (the simulated FreeSWITCH the demo
 * runs). src/ never imports bench/, test/ or tools/; bench/ and test/ share code only through
 * src/ or testkit/.
 */
const MID = '(esl|pool|transport|peers|status|location|host)';
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'A cycle makes a layer impossible to read on its own.', from: {}, to: { circular: true } },
    { name: 'src-not-to-outside', severity: 'error', comment: 'The shipped code never depends on tests, benchmarks or tools.', from: { path: '^src/' }, to: { path: '^(test|bench|tools|testkit)/' } },
    { name: 'wire-is-pure', severity: 'error', comment: 'The codec is pure functions: it imports only itself and util.', from: { path: '^src/wire/' }, to: { path: '^src/', pathNot: '^src/(wire|util)/' } },
    { name: 'util-is-bottom', severity: 'error', from: { path: '^src/util/' }, to: { path: '^src/', pathNot: '^src/util/' } },
    { name: 'config-below-io', severity: 'error', comment: 'Configuration is validated data: no I/O layer above it.', from: { path: '^src/config/' }, to: { path: '^src/', pathNot: '^src/(config|wire|util)/' } },
    { name: 'mid-layer-not-up', severity: 'error', comment: 'The I/O and codec layers never reach up to the bridge or the CLI.', from: { path: `^src/${MID}/` }, to: { path: '^src/(bridge|cli|benchmark|testing)/' } },
    { name: 'mid-layer-siblings', severity: 'error', comment: 'Each I/O part stands alone; the bridge wires them together.', from: { path: `^src/${MID}/` }, to: { path: `^src/${MID}/`, pathNot: ['^src/$1/', '^src/status/counters\\.ts$'] } },
    { name: 'bridge-only-from-cli', severity: 'error', from: { path: '^src/', pathNot: '^src/(bridge|cli)/' }, to: { path: '^src/bridge/' } },
    { name: 'testing-not-up', severity: 'error', comment: 'The simulated FreeSWITCH stands below the bridge.', from: { path: '^src/testing/' }, to: { path: '^src/(bridge|cli|benchmark)/' } },
    { name: 'benchmark-not-up', severity: 'error', from: { path: '^src/benchmark/' }, to: { path: '^src/(bridge|cli)/' } },
    { name: 'test-not-to-bench', severity: 'error', comment: 'Tests and benchmarks share code only through src/ or testkit/.', from: { path: '^test/' }, to: { path: '^(bench|tools)/' } },
    { name: 'bench-not-to-test', severity: 'error', from: { path: '^(bench|tools)/' }, to: { path: '^test/' } },
    { name: 'testkit-not-up', severity: 'error', from: { path: '^testkit/' }, to: { path: '^(test|bench|tools)/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js'] },
  },
};
