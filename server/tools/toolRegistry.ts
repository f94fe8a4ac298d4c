import { fileTools } from './files/fileTools.ts'
import { getMetricsTool } from './getMetricsTool.ts'
import { runCodeTool } from './runCodeTool.ts'
import { shellTool } from './shellTool.ts'
import { storageTools } from '../storage/storageTools.ts'
import type { Tool } from './Tool.ts'

/** MCP server name the code-space image reports for every tool. */
export const TOOL_SERVER = 'wuying_codespace'

/** Tools of the code-space images by name: code, shell, files, metrics, and the OSS tools of server/storage. */
export const toolRegistry: ReadonlyMap<string, Tool> = new Map([runCodeTool, shellTool, ...fileTools, getMetricsTool, ...storageTools].map((t) => [t.name, t]))

/** `toolList` as createSession/getSession return it: a JSON-encoded string. */
export function toolListJson(): string {
  return JSON.stringify([...toolRegistry.values()].map((t) => ({
    name: t.name,
    description: t.description,
    inputSchema: t.inputSchema,
    server: TOOL_SERVER,
    tool: t.name,
  })))
}
