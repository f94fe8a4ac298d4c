// Runs the whole vitest suite with a compact report (scripts/summaryReporter.mjs: a line per
// file, failures with their first error lines at the end) and prints the one line CI reads:
// `N passed, N failed[, N skipped]` (vitest's test counts, plus, among the failed, files that
// failed to load, failed hooks and errors outside any test, named on a line before it). Exits non-zero when anything failed, or no test ran.
// Arguments are passed to vitest (e.g. `node scripts/test.mjs test/holes`).
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import { ensureNode24, NODE24_VERSION } from './node24.mjs'

mkdirSync('.tmp', { recursive: true })
const summaryFile = '.tmp/vitest-summary.json'
rmSync(summaryFile, { force: true })

// The runtime matrix's second Node, fetched before the clock of any test starts.
const node24 = ensureNode24()
console.log(node24.bin ? `Node ${NODE24_VERSION} for the runtime matrix: ${node24.bin}` : `Node ${NODE24_VERSION} for the runtime matrix is not available (its tests will say so): ${node24.reason}`)

const run = spawnSync(
  process.execPath,
  ['node_modules/vitest/vitest.mjs', 'run', '--reporter=./scripts/summaryReporter.mjs', ...process.argv.slice(2)],
  { stdio: 'inherit', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } },
)

let summary
try {
  summary = JSON.parse(readFileSync(summaryFile, 'utf8'))
} catch {
  console.error(`No test summary was written: vitest stopped before the end of the run (exit ${run.status ?? run.signal}).`)
}
const { passed = 0, failed = 0, skipped = 0, brokenFiles = 0, hookErrors = 0, unhandledErrors = 0 } = summary ?? {}
const extra = [
  brokenFiles && `${brokenFiles} test file${brokenFiles === 1 ? '' : 's'} failed to load`,
  hookErrors && `${hookErrors} beforeAll/afterAll hook${hookErrors === 1 ? '' : 's'} failed`,
  unhandledErrors && `${unhandledErrors} error${unhandledErrors === 1 ? '' : 's'} outside any test`,
  !summary && 'no summary (vitest crashed)',
].filter(Boolean)
if (extra.length) console.log(`Also failed: ${extra.join('; ')}.`)
// CI reads the last line, `N passed, N failed[, N skipped]`, alone on its line. What failed
// outside a test (a file that did not load, a hook, a crash) counts as failed there too, so
// the line never says `0 failed` for a run that failed.
const failedAll = failed + brokenFiles + hookErrors + unhandledErrors + (summary ? 0 : 1)
console.log(`${passed} passed, ${failedAll} failed${skipped ? `, ${skipped} skipped` : ''}`)
process.exit(run.status !== 0 || failedAll > 0 || passed === 0 ? 1 : 0)
