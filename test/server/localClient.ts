import { readdirSync, readFileSync } from 'node:fs'
import type { AgbLocal } from '../../server/index.ts'

/** Raw-HTTP helper for AGB Local tests: bodies exactly as the fixtures show them. */
export function localClient(local: AgbLocal, base = 'http://agb.local') {
  const headers = { authorization: `Bearer ${local.apiKey}`, 'content-type': 'application/json' }

  async function post(path: string, body: unknown = {}, extraHeaders: Record<string, string> = {}) {
    const res = await local.fetch(base + path, { method: 'POST', headers: { ...headers, ...extraHeaders }, body: JSON.stringify(body) })
    return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, any> }
  }

  async function createSession(body: Record<string, unknown> = {}, imageId = 'agb-code-space-1'): Promise<string> {
    const res = await post(`/mcp/createSession?imageId=${imageId}`, body)
    const id = res.json.data?.sessionId
    if (typeof id !== 'string') throw new Error(`createSession failed: ${JSON.stringify(res.json)}`)
    return id
  }

  async function callTool(sessionId: string, name: string, args: Record<string, unknown>) {
    const res = await post('/mcp?autoGenSession=false', { args: JSON.stringify(args), sessionId, name })
    const text: string = res.json.data?.content?.[0]?.text ?? ''
    let doc: Record<string, any> | undefined
    try {
      doc = JSON.parse(text)
    } catch {}
    return { ...res, text, doc, isError: res.json.data?.isError as boolean | undefined }
  }

  async function runCode(sessionId: string, code: string, language = 'python', timeout_s = 20) {
    const res = await callTool(sessionId, 'run_code', { code, language, timeout_s })
    if (!res.doc) throw new Error(`run_code returned no JSON: ${res.text}`)
    return res.doc
  }

  async function shell(sessionId: string, command: string, extra: Record<string, unknown> = {}) {
    const res = await callTool(sessionId, 'shell', { command, timeout_ms: 10_000, ...extra })
    if (!res.doc) throw new Error(`shell returned no JSON: ${res.text}`)
    return res.doc as { stdout: string; stderr: string; exit_code: number }
  }

  return { post, createSession, callTool, runCode, shell }
}

/** Host pids whose command line contains `marker` (sandboxed processes are visible from the host). */
export function pidsMatching(marker: string): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ')
      if (cmdline.includes(marker)) pids.push(Number(entry))
    } catch {}
  }
  return pids
}

/** Polls until `check` is true (or throws after `timeoutMs`). */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('waitFor: condition not met in time')
    await new Promise((r) => setTimeout(r, 50))
  }
}
