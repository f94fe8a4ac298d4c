import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { describe, expect, it } from 'vitest'
import { pidsMatching, waitFor } from './localClient.ts'

describe('cli', () => {
  it('prints the banner first, logs requests without secrets and shuts down cleanly on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'agb-cli-test-'))
    const child = spawn(join('node_modules', '.bin', 'tsx'), ['server/cli.ts', '--port', '0', '--api-key', 'akm-cli-secret', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'inherit'] })
    const lines: string[] = []
    const next = createInterface({ input: child.stdout! })[Symbol.asyncIterator]()
    const line = async () => {
      const { value } = await next.next()
      lines.push(value)
      return value as string
    }
    try {
      const banner = await line()
      expect(banner).toMatch(/^AGB Local listening on http:\/\/127\.0\.0\.1:\d+$/)
      expect(await line()).toBe('API key: akm-cli-secret')
      const url = banner.replace('AGB Local listening on ', '')
      const headers = { authorization: 'Bearer akm-cli-secret', 'content-type': 'application/json' }
      const created = await (await fetch(`${url}/mcp/createSession?imageId=agb-code-space-1`, { method: 'POST', headers, body: '{}' })).json()
      const sessionId = created.data.sessionId
      // In flight while the server shuts down: its processes must die with it.
      void fetch(`${url}/mcp?autoGenSession=false`, { method: 'POST', headers, body: JSON.stringify({ sessionId, name: 'shell', args: JSON.stringify({ command: 'sleep 27.1828 & sleep 27.1828', timeout_ms: 60_000 }) }) }).catch(() => {})
      await waitFor(() => pidsMatching('sleep 27.1828').length > 0)
      await fetch(`${url}/sdk/SetLabel?sessionId=${sessionId}&Labels=${encodeURIComponent('{"k":"label-secret-42"}')}`, { method: 'POST', headers, body: '{}' })
      while (!lines.some((l) => l.startsWith('POST /mcp/createSession 200'))) await line()
      while (!lines.some((l) => /^POST \/sdk\/SetLabel 200 \d+ms$/.test(l))) await line()
      expect(lines.join('\n')).not.toContain('label-secret-42')
      expect(readdirSync(join(dataDir, 'sessions'))).toContain(sessionId)
      const exit = new Promise<number | null>((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      expect(await exit).toBe(0)
      expect(lines.slice(2).join('\n')).not.toContain('akm-cli-secret')
      expect(pidsMatching('sleep 27.1828')).toEqual([])
      const sessionsDir = join(dataDir, 'sessions')
      expect(existsSync(sessionsDir) ? readdirSync(sessionsDir) : []).toEqual([])
    } finally {
      child.kill('SIGKILL')
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})
