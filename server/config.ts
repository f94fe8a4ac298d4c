import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { DOCUMENTED_IMAGES } from './browser/imageKind.ts'
import { detectIsolation } from './sandbox/detectIsolation.ts'
import { planLimits } from './sandbox/limits/planLimits.ts'
import type { LimitsPlan } from './sandbox/limits/planLimits.ts'
import type { AgbLocalOptions } from './types.ts'

/**
 * The longest timer Node honours (2^31-1 ms, ~24.8 days): a longer one fires at once, so a
 * caller's huge timeout would kill its command immediately. Per-call timeouts are capped here.
 */
export const MAX_TIMER_MS = 2_147_483_647

/** Options with defaults applied and isolation decided: what every module reads. */
export interface LocalConfig {
  apiKey: string
  dataDir: string
  /** True when dataDir was created by us (and is removed on close). */
  ownsDataDir: boolean
  isolation: 'bwrap' | 'none'
  bwrapPath: string
  network: boolean
  maxSessions: number
  defaultIdleTimeoutMs: number
  maxLifetimeMs: number
  images: string[]
  maxBodyBytes: number
  maxOutputBytes: number
  recordBodyLimit: number
  maxConnections: number
  maxSocketsPerSession: number
  maxSockets: number
  maxObjectBytes: number
  requestTimeoutMs: number
  /** Lower-cased, loopback names not included (they are always allowed). */
  allowedHosts: string[]
  /** Per-session limits and how they are enforced (cgroups, disk image, rlimits). */
  limitsPlan: LimitsPlan
  log: (line: string) => void
}

/** Applies defaults to {@link AgbLocalOptions}; probes bubblewrap (cached per process). */
export function resolveConfig(options: AgbLocalOptions = {}): LocalConfig {
  const log = options.log ?? (() => {})
  const isolation = detectIsolation(options.isolation ?? 'auto', log)
  const dataDir = options.dataDir ? resolve(options.dataDir) : mkdtempSync(join(tmpdir(), 'agb-local-'))
  mkdirSync(join(dataDir, 'sessions'), { recursive: true })
  return {
    apiKey: options.apiKey ?? `akm-local-${randomBytes(16).toString('hex')}`,
    dataDir,
    ownsDataDir: !options.dataDir,
    isolation: isolation.mode,
    bwrapPath: isolation.bwrap ?? '',
    network: options.network ?? true,
    maxSessions: options.maxSessions ?? 50,
    defaultIdleTimeoutMs: (options.defaultIdleTimeout ?? 300) * 1000,
    maxLifetimeMs: (options.maxLifetime ?? 1800) * 1000,
    images: [...new Set([...DOCUMENTED_IMAGES, ...(options.images ?? [])])],
    maxBodyBytes: options.maxBodyBytes ?? 20 * 1024 * 1024,
    maxOutputBytes: options.maxOutputBytes ?? 1024 * 1024,
    recordBodyLimit: options.recordBodyLimit ?? 4096,
    maxConnections: options.maxConnections ?? 512,
    maxSocketsPerSession: options.maxSocketsPerSession ?? 8,
    maxSockets: options.maxSockets ?? 128,
    maxObjectBytes: options.maxObjectBytes ?? 1024 * 1024 * 1024,
    requestTimeoutMs: Math.min((options.requestTimeout ?? 30) * 1000, MAX_TIMER_MS),
    allowedHosts: (options.allowedHosts ?? []).map((name) => String(name).trim().toLowerCase().replace(/^\[|\]$/g, '')).filter(Boolean),
    limitsPlan: planLimits(options.limits, isolation.mode, log),
    log,
  }
}
