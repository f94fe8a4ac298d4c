import { isRecord } from './check.ts'
import { answerError } from './envelope.ts'
import { parseJson } from './parseJson.ts'
import type { ToolOutput } from './invokeTool.ts'

/** A `shell` tool result, read. */
export interface ShellResult {
  /** The command's exit code; `-1` when the tool failed without reporting one. */
  exitCode: number
  stdout: string
  stderr: string
  traceId?: string
}

/**
 * Reads a `shell` tool result: the current JSON (`stdout`, `stderr`, `exit_code`, or the
 * older `errorCode`; fields of the wrong type read as absent) or the seed era's raw text.
 * The one parser for every operation that runs a shell command.
 *
 * @throws AgbError `tool_error` when the tool failed and sent no JSON: there is no exit code to report.
 */
export function shellResult(out: ToolOutput): ShellResult {
  const j = parseJson(out.text)
  if (!isRecord(j)) {
    if (!out.isError) return { exitCode: 0, stdout: out.text, stderr: '' }
    throw answerError('tool_error', out.answer, `tool shell failed: ${out.text || 'no message'}`)
  }
  const int = (x: unknown) => (Number.isInteger(x) ? (x as number) : undefined)
  const str = (x: unknown) => (typeof x === 'string' ? x : '')
  // `0` is a valid exit code and must not fall through to `errorCode`.
  const result: ShellResult = { exitCode: int(j.exit_code) ?? int(j.errorCode) ?? (out.isError ? -1 : 0), stdout: str(j.stdout), stderr: str(j.stderr) }
  if (str(j.traceId)) result.traceId = j.traceId as string
  return result
}
