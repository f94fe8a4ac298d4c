import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { withDeadline } from './deadline.ts'
import { invokeTool, toolText } from './invokeTool.ts'
import { requestOptions, clientOf } from './check.ts'

/**
 * The common shape of a tool operation: its options checked, one tool call under the
 * operation's deadline, the text returned, a failure the tool reported thrown.
 */
export async function runTool(
  client: Client,
  session: SessionRef,
  op: string,
  name: string,
  args: Record<string, unknown>,
  options: RequestOptions | undefined,
  path?: string,
): Promise<{ text: string; requestId: string }> {
  const output = await withDeadline(op, requestOptions(options), clientOf(client).timeout, (call) => invokeTool(client, session, name, args, call))
  return { text: toolText(output, name, path), requestId: output.requestId }
}
