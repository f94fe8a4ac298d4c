import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, rm, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { LocalConfig } from '../../config.ts'
import { launchSpec } from '../spawnInSession.ts'
import { ConfinementError, createConfinement, handOver } from './createConfinement.ts'
import { fallBack } from './planLimits.ts'
import type { Confinement } from './createConfinement.ts'

const PROBE_TIMEOUT_MS = 15_000

/** What the probe sandbox saw of itself (from its /proc/self/status). */
interface ProbeReport {
  caps: Record<string, string>
  noNewPrivs: string
  uid: string
}

/**
 * Why a probe report is unsafe, in one line, or `null` when it is safe: any capability left
 * (effective, permitted, inheritable, ambient or bounding), `no_new_privs` off, or uid 0.
 */
function judgeProbe(report: ProbeReport): string | null {
  const kept = Object.entries(report.caps).filter(([, mask]) => !/^0+$/.test(mask))
  if (!Object.keys(report.caps).length) return 'the probe sandbox reported no capability sets'
  if (kept.length) {
    const [name, mask] = kept.find(([n]) => n === 'CapEff') ?? kept[0]!
    return `the probe sandbox kept capabilities (${name} ${mask}): code in it could remount host paths read-write`
  }
  if (report.noNewPrivs !== '1') return `the probe sandbox runs without no_new_privs (NoNewPrivs ${report.noNewPrivs || '?'}): setuid programs could raise privileges`
  if (report.uid.split(/\s+/).includes('0')) return `the probe sandbox runs as uid 0 (Uid ${report.uid})`
  return null
}

function parseStatus(text: string): ProbeReport {
  const caps: Record<string, string> = {}
  let noNewPrivs = ''
  let uid = ''
  for (const line of text.split('\n')) {
    const [key, value = ''] = line.split(':\t')
    if (!key) continue
    if (/^Cap(Inh|Prm|Eff|Bnd|Amb)$/.test(key)) caps[key] = value.trim()
    if (key === 'NoNewPrivs') noNewPrivs = value.trim()
    if (key === 'Uid') uid = value.trim()
  }
  return { caps, noNewPrivs, uid }
}

function runProbe(config: LocalConfig, owner: { id: string; rootDir: string; confinement: Confinement }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const spec = launchSpec(config, owner, { argv: ['/bin/sh', '-c', 'cat /proc/self/status'], cwd: '/' })
  return new Promise((resolve) => {
    const child = spawn(spec.command, spec.args, { cwd: spec.cwd, env: spec.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c))
    child.stderr.on('data', (c: Buffer) => (stderr += c))
    const timer = setTimeout(() => child.kill('SIGKILL'), PROBE_TIMEOUT_MS)
    child.once('error', (e) => {
      clearTimeout(timer)
      resolve({ code: null, stdout, stderr: e.message })
    })
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/**
 * The probe's confinement. A limit mechanism this machine cannot provide (no loop devices in a
 * container, a cgroup that refuses a limit) falls back to rlimits with a warning, for every
 * session from then on; the confinement itself never does.
 */
async function prepare(config: LocalConfig, id: string, dir: string, rootDir: string, prefix: string): Promise<Confinement> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await createConfinement(config.limitsPlan, id, dir, rootDir)
    } catch (e) {
      if (e instanceof ConfinementError && attempt < 2) fallBack(config.limitsPlan, e.mechanism, e.message, config.log)
      else throw new Error(`${prefix} cannot prepare a sandbox: ${(e as Error).message.split('\n')[0]}`)
    }
  }
}

/**
 * Starts one throw-away session sandbox exactly as sessions start (host uid, cgroups, disk,
 * bubblewrap flags) and checks from inside that it has no capability, `no_new_privs` set and a
 * non-root uid. AGB Local creates no session unless this passes.
 * @throws Error with one line saying why the sandbox is unsafe or could not start
 */
export async function probeConfinement(config: LocalConfig): Promise<void> {
  const id = `probe-${randomBytes(6).toString('hex')}`
  const dir = join(config.dataDir, 'sessions', id)
  const rootDir = join(dir, 'root')
  const prefix = 'AGB Local: refusing to create sessions:'
  if (config.limitsPlan.asRoot) {
    // Sandboxes run as other host users: every directory above their roots must be searchable.
    for (let d = config.dataDir; d !== dirname(d); d = dirname(d)) {
      if (!((await stat(d)).mode & 0o001)) throw new Error(`${prefix} sandbox users cannot reach the data directory: ${d} is not searchable by others (chmod o+x ${d}, or choose another data directory)`)
    }
  }
  const confinement = await prepare(config, id, dir, rootDir, prefix)
  try {
    await mkdir(join(rootDir, 'home', 'user'), { recursive: true })
    await mkdir(join(rootDir, 'tmp'), { recursive: true, mode: 0o1777 })
    await mkdir(join(rootDir, 'etc'), { recursive: true })
    await handOver(rootDir, confinement.uid)
    const res = await runProbe(config, { id, rootDir, confinement })
    if (res.code !== 0) throw new Error(`${prefix} the probe sandbox did not start (${res.stderr.trim().split('\n').pop() || `exit ${res.code}`})`)
    const why = judgeProbe(parseStatus(res.stdout))
    if (why) throw new Error(`${prefix} ${why}. Use bubblewrap 0.8 or later (${config.bwrapPath} must honour --cap-drop ALL and --uid).`)
  } finally {
    await confinement.release().catch(() => {})
    await rm(dir, { recursive: true, force: true }).catch(() => {})
  }
}
