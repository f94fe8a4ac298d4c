import { outputTaps } from '../console/outputTaps.ts'
import type { Session } from '../sessions/Session.ts'
import type { ToolResult } from '../tools/Tool.ts'
import { textResult } from '../tools/Tool.ts'
import { toolRegistry } from '../tools/toolRegistry.ts'
import type { RouteContext } from './Route.ts'

/** Error texts (e.g. Node's fs errors) name host paths: show them as the sandbox sees them. */
function hideHostPaths(text: string, session: Session): string {
  return text.replaceAll(`${session.rootDir}/`, '/').replaceAll(session.rootDir, '/').replaceAll(session.dir, '<session>')
}

/**
 * Runs a tool for `/mcp` and the linkUrl route alike: keeps the session busy (no idle release
 * mid-call), resets its idle timer, and turns unknown tools or crashes into `isError` results
 * (host paths in error messages are rewritten to sandbox paths).
 */
export async function runToolCall(ctx: RouteContext, session: Session, name: string, args: Record<string, unknown>): Promise<ToolResult> {
  const tool = toolRegistry.get(name)
  if (!tool) return textResult(`Error: tool not found: ${name}`, true)
  session.activeCalls++
  ctx.store.touch(session)
  try {
    // An open console page watches the output of running code as it is printed.
    const tap = outputTaps.get(ctx.config)
    return await tool.run(args, { config: ctx.config, session, requestId: ctx.requestId, ...(tap ? { onEvent: (event) => tap(session, ctx.requestId, event) } : {}) })
  } catch (e) {
    return textResult(`Error: ${hideHostPaths(String((e as Error)?.message ?? e), session)}`, true)
  } finally {
    session.activeCalls--
    ctx.store.touch(session)
  }
}
