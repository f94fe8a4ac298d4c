import type { ToolOutput } from './callTool.ts'

/**
 * The JSON result of a `shell` call (current format), tolerant of the seed era's raw text
 * and of fields of the wrong type (they read as absent).
 */
export function shellJson(out: ToolOutput): { exitCode: number; stdout: string; stderr: string } {
  let j: Record<string, unknown> | undefined
  try {
    const parsed = JSON.parse(out.text) as unknown
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) j = parsed as Record<string, unknown>
  } catch {
    // raw text output
  }
  if (!j) return { exitCode: out.isError ? 1 : 0, stdout: out.text, stderr: '' }
  const code = j.exit_code
  return {
    exitCode: typeof code === 'number' && Number.isInteger(code) ? code : out.isError ? 1 : 0,
    stdout: typeof j.stdout === 'string' ? j.stdout : '',
    stderr: typeof j.stderr === 'string' ? j.stderr : '',
  }
}
