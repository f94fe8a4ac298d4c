import type { KernelLanguage, KernelRun } from '../kernels/createKernel.ts'
import { kernelFor } from '../kernels/kernelFor.ts'
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
 * `run_code`: every language in a per-session stateful kernel (python, javascript, java via
 * JShell, R), started on first use. Exceptions in user code are data (`executionError`), not
 * tool errors; a missing interpreter, empty code or a bad argument is a tool error.
 */
export const runCodeTool: Tool = {
  name: 'run_code',
  description: 'Execute code (python, javascript, java, r) in the sandbox; each language keeps its state between calls.',
  inputSchema: {
    type: 'object',
    properties: { code: { type: 'string' }, language: { type: 'string', enum: LANGUAGES }, timeout_s: { type: 'integer' } },
    required: ['code', 'language'],
  },
  async run(args, ctx): Promise<ToolResult> {
    const code = args.code
    const language = String(args.language ?? 'python').trim().toLowerCase()
    if (typeof code !== 'string') return textResult('Error: code must be a string', true)
    // The service rejects empty code. Its exact answer is not documented (unverified): a tool
    // error with a clear message is a failure for every client (the SDK's tool_error). Code of
    // only blanks is not rejected: every kernel runs it as an empty cell.
    if (code === '') return textResult('Error: code must not be empty', true)
    if (!LANGUAGES.includes(language)) return textResult(`Error: unsupported language: ${language}. Supported: ${LANGUAGES.join(', ')}`, true)
    const seconds = Number(args.timeout_s)
    const timeoutMs = Math.min((Number.isFinite(seconds) && seconds > 0 ? seconds : 60) * 1000, MAX_TIMER_MS)
    const options = ctx.onEvent ? { timeoutMs, onEvent: ctx.onEvent } : { timeoutMs }
    const run = await kernelFor(ctx.config, ctx.session, language as KernelLanguage).execute(code, options)
    if (run.error?.name === 'KernelError') return textResult(`Error: ${run.error.value}`, true)
    return textResult(formatRun(run))
  },
}
