// The vitest reporter of `npm test` (scripts/test.mjs): one line per test file as it finishes,
// the tests' own console output, then at the end every failure (file › test and the first lines
// of its error), the skipped tests with their reasons, and the counts, taken from vitest's own
// test states so they match vitest's summary. Files that failed to load and errors outside any
// test are counted separately (they hold no test to count as failed) and named as such, and
// so are errors in beforeAll/afterAll hooks (vitest fails their file but counts no failed test).
// The counts are also written to .tmp/vitest-summary.json for scripts/test.mjs.
import { mkdirSync, writeFileSync } from 'node:fs'
import { relative } from 'node:path'

const ERROR_LINES = 8
const MAX_SKIPPED_LISTED = 40

/** The first lines of an error: its message, a short diff, and where in the repository it was thrown. */
function describeError(error, root) {
  const lines = []
  const head = `${error?.name && !String(error.message).startsWith(error.name) ? `${error.name}: ` : ''}${error?.message ?? String(error)}`
  lines.push(...head.split('\n'))
  if (error?.diff) lines.push(...String(error.diff).split('\n').filter((l) => l.trim()).slice(0, 6))
  const frame = String(error?.stack ?? '')
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.startsWith('at ') && l.includes(root) && !l.includes('node_modules'))
  const shown = lines.filter((l) => l.trim()).slice(0, ERROR_LINES)
  if (lines.length > shown.length) shown.push('…')
  if (frame) shown.push(frame.replace(`${root}/`, ''))
  return shown
}

export default class SummaryReporter {
  onInit(vitest) {
    this.vitest = vitest
    this.root = vitest.config.root
    this.started = performance.now()
    this.failures = []
    this.skips = []
    this.brokenFiles = []
    this.hookErrors = []
    this.counts = { passed: 0, failed: 0, skipped: 0 }
  }

  onUserConsoleLog(log) {
    const stream = log.type === 'stderr' ? process.stderr : process.stdout
    // A header when the output's source changes, so printed tables and warnings say whose they are.
    if (log.taskId !== this.lastLogTask) {
      this.lastLogTask = log.taskId
      let source
      try {
        const entity = log.taskId ? this.vitest.state.getReportedEntityById(log.taskId) : undefined
        source = entity ? `${entity.module?.relativeModuleId ?? entity.relativeModuleId ?? ''}${entity.fullName && entity.type !== 'module' ? ` › ${entity.fullName}` : ''}` : undefined
      } catch {
        source = undefined
      }
      if (source) stream.write(`── ${source}\n`)
    }
    stream.write(`${log.content}${log.content.endsWith('\n') ? '' : '\n'}`)
  }

  onTestModuleEnd(module) {
    const file = module.relativeModuleId ?? relative(this.root, module.moduleId)
    const n = { passed: 0, failed: 0, skipped: 0 }
    for (const test of module.children.allTests()) {
      const result = test.result()
      const title = `${file} › ${test.fullName}`
      if (result.state === 'passed') n.passed++
      else if (result.state === 'failed') {
        n.failed++
        this.failures.push({ title, lines: (result.errors ?? []).flatMap((e) => describeError(e, this.root)) })
      } else if (result.state === 'skipped') {
        n.skipped++
        this.skips.push(`${title}${result.note ? ` — ${result.note}` : ''}`)
      }
    }
    for (const key of Object.keys(n)) this.counts[key] += n[key]
    const moduleErrors = module.errors()
    const total = n.passed + n.failed + n.skipped
    const seconds = (module.diagnostic().duration / 1000).toFixed(1)
    if (moduleErrors.length && total === 0) {
      this.brokenFiles.push({ title: `${file} (failed to load)`, lines: moduleErrors.flatMap((e) => describeError(e, this.root)) })
      process.stdout.write(`✗ ${file}: failed to load\n`)
      return
    }
    // Errors in beforeAll/afterAll hooks (of the file or of a describe): vitest fails the file
    // but counts no test as failed (a failed beforeAll skips its tests), so they are counted apart.
    const hooks = [{ where: '', errors: moduleErrors }, ...[...module.children.allSuites()].map((suite) => ({ where: ` › ${suite.fullName}`, errors: suite.errors() }))]
      .filter((h) => h.errors.length)
    for (const h of hooks) this.hookErrors.push({ title: `${file}${h.where} (a beforeAll/afterAll hook)`, lines: h.errors.flatMap((e) => describeError(e, this.root)) })
    const parts = [`${n.passed} passed`, n.failed && `${n.failed} failed`, n.skipped && `${n.skipped} skipped`, hooks.length && `${hooks.length} hook error${hooks.length === 1 ? '' : 's'}`].filter(Boolean)
    process.stdout.write(`${n.failed || hooks.length ? '✗' : '✓'} ${file}: ${parts.join(', ')} (${seconds} s)\n`)
  }

  onTestRunEnd(_modules, unhandledErrors = [], reason) {
    const out = []
    const unhandled = unhandledErrors.map((e) => ({ title: 'an error outside any test (unhandled)', lines: describeError(e, this.root) }))
    const problems = [...this.failures, ...this.hookErrors, ...this.brokenFiles, ...unhandled]
    if (problems.length) {
      out.push('', `Failures (${problems.length}):`)
      problems.forEach((p, i) => {
        out.push(`${i + 1}) ${p.title}`)
        for (const line of p.lines) out.push(`     ${line}`)
      })
    }
    if (this.skips.length) {
      out.push('', `Skipped (${this.skips.length}):`)
      for (const s of this.skips.slice(0, MAX_SKIPPED_LISTED)) out.push(`   ${s}`)
      if (this.skips.length > MAX_SKIPPED_LISTED) out.push(`   … and ${this.skips.length - MAX_SKIPPED_LISTED} more`)
    }
    const seconds = ((performance.now() - this.started) / 1000).toFixed(0)
    out.push('', `vitest took ${seconds} s for ${this.counts.passed + this.counts.failed + this.counts.skipped} tests${reason === 'interrupted' ? ' (interrupted)' : ''}`)
    process.stdout.write(`${out.join('\n')}\n`)
    mkdirSync(`${this.root}/.tmp`, { recursive: true })
    writeFileSync(`${this.root}/.tmp/vitest-summary.json`, JSON.stringify({
      ...this.counts,
      brokenFiles: this.brokenFiles.length,
      hookErrors: this.hookErrors.length,
      unhandledErrors: unhandledErrors.length,
      interrupted: reason === 'interrupted',
    }))
  }
}
