import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import type { AgbLocalOptions } from '../../../server/index.ts'

/** An AGB Local running in a child process (see localChild.ts), and how to talk to it. */
export interface LocalChild {
  url: string
  apiKey: string
  pid: number
  /** The child's memory after a full garbage collection: what it keeps, not what it has yet to free. */
  retained(): Promise<NodeJS.MemoryUsage>
  /** Its resident memory now (`VmRSS`) or at its peak (`VmHWM`), in KiB, from /proc. */
  statusKiB(field: 'VmRSS' | 'VmHWM'): number
  /** Resets its peak (`VmHWM`) to the resident memory now. */
  resetPeak(): void
  /** POSTs a JSON body with the API key; resolves with the answer's JSON. */
  post(path: string, body: unknown): Promise<Record<string, any>>
  /** Calls a tool of a session through `/mcp`: its first text content and `isError`. */
  callTool(sessionId: string, name: string, args: Record<string, unknown>): Promise<{ text: string; isError: boolean }>
  /** Closes its stdin (it shuts down cleanly), SIGKILL after 15 s. */
  stop(): Promise<void>
}

/**
 * Starts AGB Local in a child process of its own, so attacks on the server's memory measure
 * that server alone (the test runner's memory would drown it).
 */
export async function startLocalChild(options: AgbLocalOptions = {}): Promise<LocalChild> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', new URL('./localChild.ts', import.meta.url).pathname, JSON.stringify(options)], { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout! })
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve)
    child.once('exit', (code) => reject(new Error(`AGB Local child exited (${code}) before listening`)))
  })
  const { url, apiKey, pid } = JSON.parse(first) as { url: string; apiKey: string; pid: number }
  const post = async (path: string, body: unknown) => {
    const res = await fetch(url + path, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
    return (await res.json()) as Record<string, any>
  }
  return {
    url,
    apiKey,
    pid,
    async retained() {
      const line = new Promise<string>((resolve) => lines.once('line', resolve))
      child.kill('SIGUSR2')
      return JSON.parse(await line) as NodeJS.MemoryUsage
    },
    statusKiB: (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]),
    resetPeak: () => writeFileSync(`/proc/${pid}/clear_refs`, '5'),
    post,
    async callTool(sessionId, name, args) {
      const answer = await post('/mcp?autoGenSession=false', { sessionId, name, args: JSON.stringify(args) })
      return { text: answer.data?.content?.[0]?.text ?? JSON.stringify(answer), isError: answer.data?.isError === true }
    },
    stop: () =>
      new Promise((resolve) => {
        child.stdin!.end()
        const kill = setTimeout(() => child.kill('SIGKILL'), 15_000)
        child.once('exit', () => resolve(clearTimeout(kill)))
      }),
  }
}
