import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { pidsMatching, waitFor } from './localClient.ts'

const TSX = join('node_modules', '.bin', 'tsx')

/** Starts the CLI; resolves with its first lines (or its exit code and output when it ends first). */
function startCli(args: string[], wantLines = 3) {
  const child = spawn(TSX, ['server/cli.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s))
  const ready = new Promise<{ lines: string[]; code?: number | null; stderr: string }>((resolve) => {
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      stdout += s
      const lines = stdout.split('\n')
      if (lines.length > wantLines) resolve({ lines: lines.slice(0, wantLines), stderr })
    })
    child.once('exit', (code) => resolve({ lines: stdout.split('\n'), code, stderr }))
  })
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((r) => child.once('exit', r))
    child.kill('SIGTERM')
    await exited
  }
  return { child, ready, stop }
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer()
    s.once('error', () => resolve(false))
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
  })
}

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
      const url = banner.replace('AGB Local listening on ', '')
      expect(await line()).toBe(`export AGB_ENDPOINT=${url}`)
      expect(await line()).toBe('export AGB_API_KEY=<the key given with --api-key>') // a key of the user's own is not echoed
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
      expect(lines.join('\n')).not.toContain('akm-cli-secret')
      expect(pidsMatching('sleep 27.1828')).toEqual([])
      const sessionsDir = join(dataDir, 'sessions')
      expect(existsSync(sessionsDir) ? readdirSync(sessionsDir) : []).toEqual([])
    } finally {
      child.kill('SIGKILL')
      rmSync(dataDir, { recursive: true, force: true })
    }
  })

  it('starts on port 8787 with the development key and prints ready-to-paste exports', async () => {
    const free = await portFree(8787)
    const cli = startCli([])
    try {
      const { lines, stderr } = await cli.ready
      if (!free) {
        // Another AGB Local holds 8787 on this machine: the CLI must say so and how to get around it.
        expect(stderr).toMatch(/cannot listen on 127\.0\.0\.1:8787: .*EADDRINUSE.*--port 0/)
        return
      }
      expect(lines).toEqual(['AGB Local listening on http://127.0.0.1:8787', 'export AGB_ENDPOINT=http://127.0.0.1:8787', 'export AGB_API_KEY=akm-local-dev'])
      const res = await fetch('http://127.0.0.1:8787/mcp/createSession?imageId=agb-browser-use-1', { method: 'POST', headers: { authorization: 'Bearer akm-local-dev' }, body: '{}' })
      expect((await res.json()).data.success).toBe(true)
    } finally {
      await cli.stop()
    }
  })

  it('injects faults given with --fault: the first two shell calls get HTTP 503, the third runs', async () => {
    const cli = startCli(['--port', '0', '--fault', 'route=/mcp,tool=shell,kind=503,times=2'], 4)
    try {
      const { lines } = await cli.ready
      expect(lines[3]).toBe('1 fault(s) queued: route=/mcp,tool=shell,kind=503,times=2')
      const url = lines[0]!.replace('AGB Local listening on ', '')
      const headers = { authorization: 'Bearer akm-local-dev' }
      const created = await (await fetch(`${url}/mcp/createSession?imageId=agb-code-space-1`, { method: 'POST', headers, body: '{}' })).json()
      const call = (name: string) => fetch(`${url}/mcp?autoGenSession=false`, { method: 'POST', headers, body: JSON.stringify({ sessionId: created.data.sessionId, name, args: JSON.stringify({ command: 'echo hi', timeout_ms: 10_000 }) }) })
      expect((await call('get_metrics')).status).toBe(200) // another tool: not matched
      expect((await call('shell')).status).toBe(503)
      expect((await call('shell')).status).toBe(503)
      const third = await call('shell')
      expect(third.status).toBe(200)
      expect(JSON.parse((await third.json()).data.content[0].text).stdout).toBe('hi\n')
    } finally {
      await cli.stop()
    }
  })

  it('refuses a bad --fault and a public host with the development key, naming the problem', async () => {
    const bad = await startCli(['--port', '0', '--fault', 'route=/mcp,kind=explode']).ready
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/unknown kind "explode"/)
    const badPair = await startCli(['--port', '0', '--fault', 'times']).ready
    expect(badPair.code).toBe(2)
    expect(badPair.stderr).toMatch(/--fault: expected key=value pairs/)
    const open = await startCli(['--port', '0', '--host', '0.0.0.0']).ready
    expect(open.code).toBe(2)
    expect(open.stderr).toMatch(/refusing to listen on 0\.0\.0\.0 with the public development key: pass --api-key/)
  })

  it('names itself agb-local in its usage, with the defaults', async () => {
    const help = await startCli(['--help'], 100).ready
    expect(help.code).toBe(0)
    expect(help.lines[0]).toMatch(/^Usage: agb-local /)
    expect(help.lines.join('\n')).toMatch(/default 8787/)
    expect(help.lines.join('\n')).toMatch(/akm-local-dev/)
  })
})
