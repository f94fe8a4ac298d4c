import { browserTools, desktopTools } from '../browser/browserTools.ts'
import { imageKind } from '../browser/imageKind.ts'
import { fileTools } from './files/fileTools.ts'
import { getMetricsTool } from './getMetricsTool.ts'
import { runCodeTool } from './runCodeTool.ts'
import { shellTool } from './shellTool.ts'
import { storageTools } from '../storage/storageTools.ts'
import type { Tool } from './Tool.ts'

/** MCP server name the code-space image reports for every tool. */
export const TOOL_SERVER = 'wuying_codespace'

/** Tools of the code-space images by name: code, shell, files, metrics, and the OSS tools of server/storage. */
export const toolRegistry: ReadonlyMap<string, Tool> = new Map([runCodeTool, shellTool, ...fileTools, getMetricsTool, ...storageTools, ...browserTools, ...desktopTools].map((t) => [t.name, t]))

const IMAGE_ONLY = new Set([...browserTools, ...desktopTools])

/**
 * `toolList` as createSession/getSession/listTools return it for an image: a JSON-encoded string.
 * Browser-use images add the browser tools, computer-use images the desktop tools.
 */
export function toolListJson(imageId: string): string {
  const own = imageKind(imageId) === 'browser' ? browserTools : imageKind(imageId) === 'computer' ? desktopTools : []
  return JSON.stringify([...toolRegistry.values()].filter((t) => !IMAGE_ONLY.has(t) || own.includes(t)).map((t) => ({
    name: t.name,
    description: t.description,
    inputSchema: t.inputSchema,
    server: TOOL_SERVER,
    tool: t.name,
  })))
}
