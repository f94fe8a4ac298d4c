import type { KernelLanguage, KernelRun } from '../kernels/createKernel.ts'
import { kernelFor } from '../kernels/kernelFor.ts'
import { runOneShot } from '../kernels/runOneShot.ts'
import type { Tool, ToolResult } from './Tool.ts'
import { textResult } from './Tool.ts'
import { MAX_TIMER_MS } from '../config.ts'

const LANGUAGES = ['python', 'javascript', 'java', 'r']

/** The run_code result document (PROTOCOL §5.1 "current" format), key order as the service. */
function formatRun(run: KernelRun): string {
  const doc: Record<string, unknown> = { result: run.results, stdout: run.stdout, stderr: run.stderr }
  if (run.error) doc.executionError = run.error.value ? `${run.error.name}: ${run.error.value}` : run.error.name
  doc.execution_count = run.executionCount
  doc.execution_time = run.executionTime
  return JSON.stringify(doc)
}

/**
 * `run_code`: python/javascript in per-session stateful kernels, java/r one-shot when installed.
 * Exceptions in user code are data (`executionError`), not tool errors.
 */
export const runCodeTool: Tool = {
  name: 'run_code',
  description: 'Execute code (python, javascript, java, r) in the sandbox; python and javascript keep state between calls.',
  inputSchema: {
    type: 'object',
    properties: { code: { type: 'string' }, language: { type: 'string', enum: LANGUAGES }, timeout_s: { type: 'integer' } },
    required: ['code', 'language'],
  },
  async run(args, ctx): Promise<ToolResult> {
    const code = args.code
    const language = String(args.language ?? 'python').trim().toLowerCase()
    if (typeof code !== 'string') return textResult('Error: code must be a string', true)
    if (!LANGUAGES.includes(language)) return textResult(`Error: unsupported language: ${language}. Supported: ${LANGUAGES.join(', ')}`, true)
    const seconds = Number(args.timeout_s)
    const timeoutMs = Math.min((Number.isFinite(seconds) && seconds > 0 ? seconds : 60) * 1000, MAX_TIMER_MS)
    if (language === 'java' || language === 'r') {
      const run = await runOneShot(ctx.config, ctx.session, language, code, timeoutMs)
      if (!run) return textResult(`Error: language '${language}' is not available in AGB Local on this machine (${language === 'java' ? 'java' : 'Rscript'} not found on PATH)`, true)
      return textResult(formatRun(run))
    }
    const options = ctx.onEvent ? { timeoutMs, onEvent: ctx.onEvent } : { timeoutMs }
    const run = await kernelFor(ctx.config, ctx.session, language as KernelLanguage).execute(code, options)
    if (run.error?.name === 'KernelError') return textResult(`Error: ${run.error.value}`, true)
    return textResult(formatRun(run))
  },
}
