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
  maxResultBytes: number
  recordBodyLimit: number
  maxConnections: number
  maxSocketsPerSession: number
  maxSockets: number
  maxObjectBytes: number
  requestTimeoutMs: number
  maxUnsentBytes: number
  /** Lower-cased, loopback names not included (they are always allowed). */
  allowedHosts: string[]
  /** Calls from AGB Local's own sandboxes are served (see AgbLocalOptions.allowSandboxCallers). */
  allowSandboxCallers: boolean
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
  const limitsPlan = planLimits(options.limits, isolation.mode, log)
  const network = options.network ?? true
  // serve() tells sandboxes apart by their host uid, which only root can give them.
  if (network && !(limitsPlan.asRoot && isolation.mode === 'bwrap') && options.allowSandboxCallers !== true) {
    log('Warning: sandboxed code runs as this server\'s own user and shares its network, so it can reach AGB Local\'s ' +
      'port and call the API with its key (the development key is public): start AGB Local as root with bubblewrap ' +
      '(calls from sandboxes are then refused), give it a secret API key (--api-key), or turn the network off (--no-network)')
  }
  return {
    apiKey: options.apiKey ?? `akm-local-${randomBytes(16).toString('hex')}`,
    dataDir,
    ownsDataDir: !options.dataDir,
    isolation: isolation.mode,
    bwrapPath: isolation.bwrap ?? '',
    network,
    maxSessions: options.maxSessions ?? 50,
    defaultIdleTimeoutMs: (options.defaultIdleTimeout ?? 300) * 1000,
    maxLifetimeMs: (options.maxLifetime ?? 1800) * 1000,
    images: [...new Set([...DOCUMENTED_IMAGES, ...(options.images ?? [])])],
    maxBodyBytes: options.maxBodyBytes ?? 20 * 1024 * 1024,
    maxOutputBytes: options.maxOutputBytes ?? 1024 * 1024,
    maxResultBytes: options.maxResultBytes ?? 32 * 1024 * 1024,
    recordBodyLimit: options.recordBodyLimit ?? 4096,
    maxConnections: options.maxConnections ?? 512,
    maxSocketsPerSession: options.maxSocketsPerSession ?? 8,
    maxSockets: options.maxSockets ?? 128,
    maxObjectBytes: options.maxObjectBytes ?? 1024 * 1024 * 1024,
    requestTimeoutMs: Math.min((options.requestTimeout ?? 30) * 1000, MAX_TIMER_MS),
    maxUnsentBytes: options.maxUnsentBytes ?? 256 * 1024 * 1024,
    allowedHosts: (options.allowedHosts ?? []).map((name) => String(name).trim().toLowerCase().replace(/^\[|\]$/g, '')).filter(Boolean),
    allowSandboxCallers: options.allowSandboxCallers === true,
    limitsPlan,
    log,
  }
}
