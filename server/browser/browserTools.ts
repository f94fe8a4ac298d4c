import type { Tool, ToolContext, ToolResult } from '../tools/Tool.ts'
import { textResult } from '../tools/Tool.ts'
import type { ImageKind } from './imageKind.ts'
import { imageKind } from './imageKind.ts'
import { browserOf, stopSessionBrowser } from './sessionBrowsers.ts'

/** A tool of some image kinds only: on other images it does not exist (as on the service). */
function scoped(kind: ImageKind, tool: Tool): Tool {
  return {
    ...tool,
    run: (args, ctx) => (imageKind(ctx.session.imageId) === kind ? tool.run(args, ctx) : Promise.resolve(textResult(`Error: tool not found: ${tool.name}`, true))),
  }
}

const screenshotTool: Tool = scoped('browser', {
  name: 'screenshot',
  description: 'Screenshot of the browser page driven last (else the first page); JSON {type, mime_type, data (base64), width?, height?}.',
  inputSchema: { type: 'object', properties: { format: { type: 'string', enum: ['png', 'jpeg'] } } },
  async run(args, ctx: ToolContext): Promise<ToolResult> {
    const format = args.format ?? 'png'
    if (format !== 'png' && format !== 'jpeg') return textResult('Error: format must be png or jpeg', true)
    const browser = browserOf(ctx.session)
    if (!browser) return textResult('Error: the browser is not running: start it with POST /browser/init (initBrowser) first', true)
    const shot = await browser.screenshot(format)
    return textResult(JSON.stringify({ type: 'image', mime_type: shot.mimeType, data: shot.data, ...(shot.width ? { width: shot.width, height: shot.height } : {}) }))
  },
})

const stopChromeTool: Tool = scoped('browser', {
  name: 'stopChrome',
  description: "Stops the session's browser (start it again with /browser/init).",
  inputSchema: { type: 'object', properties: {} },
  async run(_args, ctx) {
    const stopped = await stopSessionBrowser(ctx.session, 'stopChrome')
    return textResult(stopped ? 'browser stopped' : 'the browser was not running')
  },
})

function unavailable(kind: ImageKind, names: string[], why: string): Tool[] {
  return names.map((name) => scoped(kind, {
    name,
    description: `Not available in AGB Local: ${why}`,
    inputSchema: { type: 'object' },
    run: async () => textResult(`Error: ${name} is not available in AGB Local: ${why}`, true),
  }))
}

const AGENT_WHY = 'the LLM-driven browser agent runs only in the AGB cloud service; drive the browser yourself over CDP (getCdpLink, then Playwright connectOverCDP)'
const DESKTOP_WHY = 'AGB Local has no desktop for computer-use images; the shell, file and code tools work, and browser-use images have a real browser'

/**
 * Tools of browser-use images: `screenshot`, `stopChrome`, and the browser-agent tools, which
 * answer a tool error saying they are not available in AGB Local.
 */
export const browserTools: readonly Tool[] = [
  screenshotTool,
  stopChromeTool,
  ...unavailable('browser', ['page_use_navigate', 'page_use_screenshot', 'page_use_close_session', 'page_use_act', 'page_use_act_async',
    'page_use_get_act_result', 'page_use_observe', 'page_use_observe_async', 'page_use_extract', 'page_use_extract_async'], AGENT_WHY),
]

/** Desktop tools of computer-use images: each answers a tool error saying it is not available in AGB Local. */
export const desktopTools: readonly Tool[] = unavailable('computer', ['system_screenshot', 'click_mouse', 'move_mouse', 'drag_mouse', 'scroll',
  'get_cursor_position', 'input_text', 'press_keys', 'release_keys', 'get_screen_size', 'list_root_windows', 'get_active_window',
  'activate_window', 'close_window', 'maximize_window', 'minimize_window', 'restore_window', 'fullscreen_window', 'resize_window',
  'focus_mode', 'get_installed_apps', 'list_visible_apps', 'start_app', 'stop_app_by_pname', 'stop_app_by_pid', 'stop_app_by_cmd'], DESKTOP_WHY)
