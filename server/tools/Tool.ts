import type { LocalConfig } from '../config.ts'
import type { KernelEvent } from '../kernels/createKernel.ts'
import type { Session } from '../sessions/Session.ts'

/** MCP CallToolResult as `/mcp` returns it in `data`. */
export interface ToolResult {
  isError: boolean
  content: Array<{ type: 'text'; text: string }>
}

/** What a tool gets besides its arguments. */
export interface ToolContext {
  config: LocalConfig
  session: Session
  requestId: string
  /** Receives run_code output as it happens. */
  onEvent?: (event: KernelEvent) => void
}

/** One MCP tool of the sandbox image. */
export interface Tool {
  name: string
  description: string
  inputSchema: Record<string, unknown>
  run(args: Record<string, unknown>, ctx: ToolContext): Promise<ToolResult>
}

/** A successful result with one text item. */
export function textResult(text: string, isError = false): ToolResult {
  return { isError, content: [{ type: 'text', text }] }
}
