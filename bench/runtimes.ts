// The JavaScript runtimes the child-process rows run in, each importing `agb-micro` by name
// from the repo root (package self-reference; Deno through its package.json support).
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NODE24_BIN } from '../scripts/node24.mjs'
import { ROOT, runChild } from './lib.ts'

/** How to run a script in one runtime. */
export interface Runtime {
  name: string
  command: string
  /** Arguments to run `script` with `scriptArgs`. */
  args: (script: string, scriptArgs: string[]) => string[]
  env?: Record<string, string>
}

/**
 * Node 24 fetched into `.tmp/node24` by the test scripts (not a devDependency: as one it
 * linked `node_modules/.bin/node` and took over every npm script). Rows for it are skipped
 * when it is not there.
 */
export const NODE24 = NODE24_BIN

/** System Node, Node 24 (when fetched), Deno and Bun (never touching a registry). */
export function runtimes(denoDir: string): Runtime[] {
  return [
    { name: 'Node (system)', command: '/usr/bin/node', args: (s, a) => [s, ...a] },
    ...(existsSync(NODE24) ? [{ name: 'Node 24 (.tmp/node24)', command: NODE24, args: (s: string, a: string[]) => [s, ...a] }] : []),
    {
      name: 'Deno',
      command: join(ROOT, 'node_modules/.bin/deno'),
      args: (s, a) => ['run', '--node-modules-dir=manual', '--cached-only', '--no-remote', '--no-lock', '--no-prompt', '-A', s, ...a],
      env: { DENO_DIR: denoDir, DENO_NO_UPDATE_CHECK: '1' },
    },
    {
      name: 'Bun',
      command: join(ROOT, 'node_modules/.bin/bun'),
      args: (s, a) => ['run', '--no-install', '--no-env-file', s, ...a],
      env: { BUN_RUNTIME_TRANSPILER_CACHE_PATH: '0', DO_NOT_TRACK: '1' },
    },
  ]
}

/** `Node (system) v20.20.2`, or an error when the runtime does not start. */
export async function label(rt: Runtime): Promise<string> {
  const v = await runChild(rt.command, ['--version'], { env: rt.env, timeoutMs: 10_000 })
  const version = v.stdout.split('\n')[0]!.trim()
  if (v.code !== 0 || !version) throw new Error(`${rt.command} --version failed: ${(v.stderr || v.stdout).trim().slice(0, 120)}`)
  return `${rt.name} ${version.replace(/^deno /, '').replace(/ \(.*$/, '')}`
}

/** Runs `work` with a throwaway DENO_DIR (Deno's caches never land in the repo or $HOME). */
export async function withDenoDir<T>(work: (denoDir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'agb-bench-deno-'))
  try {
    return await work(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
