import { existsSync } from 'node:fs'
import { SANDBOX_HOME } from '../sandbox/resolveSessionPath.ts'
import type { SandboxFsError } from '../sandbox/SandboxFsError.ts'
import { runInSession } from '../sandbox/runInSession.ts'
import type { Tool, ToolResult } from './Tool.ts'
import { textResult } from './Tool.ts'
import { MAX_TIMER_MS } from '../config.ts'

const DEFAULT_TIMEOUT_MS = 60_000
const TIMEOUT_EXIT_CODE = 124 // as coreutils `timeout`

function shellResult(stdout: string, stderr: string, exitCode: number, traceId: string): ToolResult {
  // A non-zero exit is a normal result (call-tool.shell.nonzero-exit.ok-envelope), not isError.
  return textResult(JSON.stringify({ stdout, stderr, exit_code: exitCode, traceId }))
}

/** `shell`: a fresh bash (or sh) per call in the session sandbox; `{stdout, stderr, exit_code}` JSON. */
export const shellTool: Tool = {
  name: 'shell',
  description: 'Execute a shell command in the sandbox; returns JSON {stdout, stderr, exit_code}.',
  inputSchema: {
    type: 'object',
    properties: {
      command: { type: 'string' },
      timeout_ms: { type: 'integer' },
      cwd: { type: 'string' },
      envs: { type: 'object', additionalProperties: { type: 'string' } },
    },
    required: ['command'],
  },
  async run(args, ctx) {
    if (typeof args.command !== 'string') return textResult('Error: command must be a string', true)
    const ms = Number(args.timeout_ms)
    const timeoutMs = Math.min(Number.isFinite(ms) && ms > 0 ? ms : DEFAULT_TIMEOUT_MS, MAX_TIMER_MS)
    const cwd = typeof args.cwd === 'string' && args.cwd ? args.cwd : SANDBOX_HOME
    const traceId = ctx.requestId
    // Checked inside the sandbox (a host-side look could be raced onto host paths by a link
    // swapped in meanwhile). Without the sandbox agent (no python3) the spawn reports it.
    // `.code` rather than fsErrorCode: without bubblewrap a link loop fails in resolveSessionPath
    // with a plain Error carrying `code: 'ELOOP'`, which must still read as a loop.
    const isDir = await ctx.session.sandbox.fs.stat(cwd).then((st) => st.type === 'directory', (e: SandboxFsError) => e.code === 'ESANDBOX' || e)
    if (isDir instanceof Error && isDir.code === 'ELOOP') return shellResult('', `sh: cd: ${cwd}: Too many levels of symbolic links`, 1, traceId)
    if (isDir !== true) return shellResult('', `sh: cd: ${cwd}: No such file or directory`, 2, traceId)
    const env: Record<string, string> = {}
    if (args.envs && typeof args.envs === 'object') {
      for (const [k, v] of Object.entries(args.envs as Record<string, unknown>)) env[k] = String(v)
    }
    const shell = existsSync('/bin/bash') ? '/bin/bash' : '/bin/sh'
    const res = await runInSession(ctx.config, ctx.session, { argv: [shell, '-c', args.command], cwd, env, timeoutMs })
    if (res.timedOut) {
      const note = `${res.stderr && !res.stderr.endsWith('\n') ? '\n' : ''}command timed out after ${timeoutMs} ms and was killed`
      return shellResult(res.stdout, res.stderr + note, TIMEOUT_EXIT_CODE, traceId)
    }
    return shellResult(res.stdout, res.stderr, res.exitCode, traceId)
  },
}
