import { spawnSync } from 'node:child_process'
import type { Isolation } from '../types.ts'
import { findExecutable } from './findExecutable.ts'

let probe: { bwrap: string | undefined; error: string } | undefined

/** Runs a throw-away sandbox once per Node process: does bubblewrap work here? */
function probeBwrap(): { bwrap: string | undefined; error: string } {
  if (probe) return probe
  const bwrap = process.platform === 'linux' ? findExecutable('bwrap') : undefined
  if (!bwrap) return (probe = { bwrap: undefined, error: 'bwrap not found on PATH' })
  const args = ['--ro-bind', '/usr', '/usr', '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/lib', '/lib',
    '--symlink', 'usr/lib64', '/lib64', '--proc', '/proc', '--dev', '/dev', '--unshare-all', '--die-with-parent',
    '--', '/bin/sh', '-c', 'exit 0']
  const res = spawnSync(bwrap, args, { encoding: 'utf8', timeout: 10_000 })
  if (res.status === 0) return (probe = { bwrap, error: '' })
  return (probe = { bwrap: undefined, error: (res.stderr || res.error?.message || `exit ${res.status}`).trim() })
}

/**
 * Resolves the isolation mode. `bwrap` throws when bubblewrap does not work; `auto` falls back
 * to plain processes and warns once through `log`.
 */
export function detectIsolation(requested: Isolation, log: (line: string) => void): { mode: 'bwrap' | 'none'; bwrap?: string } {
  if (requested === 'none') return { mode: 'none' }
  const { bwrap, error } = probeBwrap()
  if (bwrap) return { mode: 'bwrap', bwrap }
  if (requested === 'bwrap') throw new Error(`AGB Local: isolation 'bwrap' requested but bubblewrap does not work: ${error}`)
  log(`WARNING: bubblewrap unavailable (${error}); AGB Local sessions are NOT isolated: code runs as plain processes on this host`)
  return { mode: 'none' }
}
