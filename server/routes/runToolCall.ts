import type { Session } from '../sessions/Session.ts'
import type { ToolResult } from '../tools/Tool.ts'
import { textResult } from '../tools/Tool.ts'
import { toolRegistry } from '../tools/toolRegistry.ts'
import type { RouteContext } from './Route.ts'

/**
 * Runs a tool for `/mcp` and the linkUrl route alike: keeps the session busy (no idle release
 * mid-call), resets its idle timer, and turns unknown tools or crashes into `isError` results.
 */
export async function runToolCall(ctx: RouteContext, session: Session, name: string, args: Record<string, unknown>): Promise<ToolResult> {
  const tool = toolRegistry.get(name)
  if (!tool) return textResult(`Error: tool not found: ${name}`, true)
  session.activeCalls++
  ctx.store.touch(session)
  try {
    return await tool.run(args, { config: ctx.config, session, requestId: ctx.requestId })
  } catch (e) {
    return textResult(`Error: ${(e as Error).message}`, true)
  } finally {
    session.activeCalls--
    ctx.store.touch(session)
  }
}
