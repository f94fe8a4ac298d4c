// Runs the whole vitest suite and prints the one line CI reads: `vitest: N passed, N failed`.
// Exits non-zero when anything failed, or when no test ran at all.
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync } from 'node:fs'

mkdirSync('.tmp', { recursive: true })
const report = '.tmp/vitest-report.json'
rmSync(report, { force: true })
const run = spawnSync(
  process.execPath,
  ['node_modules/vitest/vitest.mjs', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { stdio: 'inherit', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } },
)
let passed = 0
let failed = 0
let skipped = 0
try {
  const json = JSON.parse(readFileSync(report, 'utf8'))
  passed = json.numPassedTests
  // A file that failed to load has no tests; count it once so it cannot pass unnoticed.
  const brokenFiles = json.testResults.filter((f) => f.status === 'failed' && f.assertionResults.length === 0).length
  failed = json.numFailedTests + brokenFiles
  skipped = json.numPendingTests + (json.numTodoTests ?? 0)
} catch {
  failed += 1
  console.error('No vitest report was written: the run crashed before reporting.')
}
console.log(`vitest: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
process.exit(run.status !== 0 || failed > 0 || passed === 0 ? 1 : 0)
