import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcess, StdioOptions } from 'node:child_process'
import { lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import type { LocalConfig } from '../config.ts'
import type { Confinement } from './limits/createConfinement.ts'
import { findExecutable } from './findExecutable.ts'
import { registerProcess } from './processRegistry.ts'
import type { SandboxOwner } from './Sandbox.ts'
import { resolveSessionPath, SANDBOX_HOME, sandboxAbsolute } from './resolveSessionPath.ts'

/** What to run in a session. */
export interface SpawnInSessionOptions {
  /** argv[0] must be an absolute path valid inside the sandbox (see findInterpreter). */
  argv: string[]
  /** Working directory as the sandbox sees it. Default `/home/user`. */
  cwd?: string
  /** Added to the sandbox's minimal environment. */
  env?: Record<string, string>
  /** Extra host directories bound read-only at the same path (interpreters outside /usr). */
  roBinds?: string[]
  /** Default `['ignore', 'pipe', 'pipe']`. */
  stdio?: StdioOptions
  /**
   * Run the program as the pid namespace's init instead of under bubblewrap's own init (the
   * session agent): bubblewrap's init would hold the program's stdio (the agent's protocol
   * pipes) where sandboxed code, running as the same uid, could take them (pidfd_getfd), and
   * code in the namespace cannot stop or kill its init (signals without a handler are ignored).
   */
  asPid1?: boolean
}

/** The sandbox user's uid and gid inside (named `user` in the sandbox's /etc/passwd). */
const SANDBOX_UID = 1000
const SANDBOX_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
const ROOT_LINKS: Array<[string, string]> = [['bin', 'usr/bin'], ['sbin', 'usr/sbin'], ['lib', 'usr/lib'], ['lib64', 'usr/lib64']]
// The few /etc entries interpreters and TLS/DNS need; never the host's passwd or shadow.
const ETC_NAMES = new Set(['alternatives', 'ssl', 'ca-certificates', 'ca-certificates.conf', 'resolv.conf', 'hosts', 'host.conf',
  'nsswitch.conf', 'gai.conf', 'protocols', 'services', 'localtime', 'timezone', 'ld.so.cache', 'ld.so.conf', 'ld.so.conf.d',
  'mime.types', 'os-release', 'debian_version', 'environment', 'R', 'matplotlibrc', 'fonts'])
const ETC_PREFIXES = ['java-', 'python3']

let etcEntries: string[] | undefined
function hostEtcEntries(): string[] {
  etcEntries ??= readdirSync('/etc').filter((n) => ETC_NAMES.has(n) || ETC_PREFIXES.some((p) => n.startsWith(p))).map((n) => `/etc/${n}`)
  return etcEntries
}

/**
 * bwrap creates mount points inside the (user-writable) session root. A symlink planted there
 * by sandboxed code would be followed outside the root, so every component of every mount
 * destination is made a real directory (or removed) before each spawn.
 */
function clearSymlinks(rootDir: string, dest: string): void {
  const parts = dest.split('/').filter(Boolean)
  let current = rootDir
  for (const part of parts) {
    current = join(current, part)
    try {
      if (lstatSync(current).isSymbolicLink()) rmSync(current, { force: true })
    } catch {
      return // does not exist: bwrap creates it below a checked parent
    }
  }
}

/**
 * The /bin, /lib... links are real symlinks in the session root (not bwrap --symlink, which
 * fails once they exist, and the root is shared live by all of a session's sandboxes). Sandboxed
 * code may have replaced them; they and the mount points are repaired before every spawn.
 */
function prepareRoot(rootDir: string, binds: string[]): void {
  for (const [name, target] of ROOT_LINKS) {
    const at = join(rootDir, name)
    let current: string | undefined
    try {
      current = readlinkSync(at)
    } catch {}
    if (current === target) continue
    rmSync(at, { recursive: true, force: true })
    symlinkSync(target, at)
  }
  for (const dest of ['/usr', '/proc', '/dev', '/etc', '/tmp', SANDBOX_HOME, ...binds]) clearSymlinks(rootDir, dest)
  mkdirSync(join(rootDir, 'tmp'), { recursive: true })
  mkdirSync(join(rootDir, SANDBOX_HOME), { recursive: true })
}

const disableUserns = new Map<string, boolean>()
/** bubblewrap 0.8 added --disable-userns; older ones reject it (nested namespaces then only lock mounts tighter). */
function supportsDisableUserns(bwrap: string): boolean {
  let yes = disableUserns.get(bwrap)
  if (yes === undefined) {
    const help = spawnSync(bwrap, ['--help'], { encoding: 'utf8', timeout: 5000 })
    yes = `${help.stdout}${help.stderr}`.includes('--disable-userns')
    disableUserns.set(bwrap, yes)
  }
  return yes
}

function bwrapArgs(config: LocalConfig, session: SandboxOwner, cwd: string, roBinds: string[], asPid1: boolean): string[] {
  const args = ['--bind', session.rootDir, '/', '--ro-bind', '/usr', '/usr']
  for (const entry of hostEtcEntries()) args.push('--ro-bind-try', entry, entry)
  for (const dir of roBinds) args.push('--ro-bind', dir, dir)
  for (const view of session.confinement?.cgroupViews ?? []) args.push('--ro-bind', view.host, view.sandbox)
  args.push('--proc', '/proc', '--dev', '/dev', '--unshare-all', '--hostname', 'agb-sandbox', '--die-with-parent')
  // An unprivileged user in a user namespace of its own, with no capability at all (not even
  // in its namespace: it cannot remount the read-only binds), no way to make another user
  // namespace (where it would get capabilities back), no_new_privs (bubblewrap always sets it),
  // and its own session so it cannot push input into a terminal (TIOCSTI).
  args.push('--unshare-user', '--uid', String(SANDBOX_UID), '--gid', String(SANDBOX_UID), '--cap-drop', 'ALL', '--new-session')
  if (supportsDisableUserns(config.bwrapPath)) args.push('--disable-userns')
  if (config.network) args.push('--share-net')
  if (asPid1) args.push('--as-pid-1')
  args.push('--chdir', cwd)
  return args
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`
}

/**
 * The host command around bubblewrap: close inherited descriptors and join the session's
 * cgroups (from a shell that then exec's, so the sandbox is inside them from its first
 * instruction: nothing can fork out before), apply the rlimit fallbacks (prlimit), and drop to the session's host uid (setpriv,
 * when AGB Local is root; bubblewrap then maps that uid to 1000 inside). Each step exec's the
 * next, so the spawned pid is bubblewrap's.
 */
function confine(config: LocalConfig, c: Confinement | null | undefined, bwrap: string[], keepFds: number): { command: string; args: string[] } {
  const asRoot = config.limitsPlan.asRoot
  if (asRoot && (!c || c.uid === null || !c.setpriv)) {
    throw new Error('AGB Local: refusing to start a sandbox as root: the session has no sandbox user (setpriv missing?)')
  }
  let argv = [config.bwrapPath, ...bwrap]
  if (asRoot) argv = [c!.setpriv, `--reuid=${c!.uid}`, `--regid=${c!.uid}`, '--clear-groups', '--nnp', '--', ...argv]
  if (c?.prlimit.length) argv = [...c.prlimit, ...argv]
  const join = (c?.cgroupProcs ?? []).map((file) => `echo $$ > ${shellQuote(file)} && `).join('')
  const { shell, closeFds } = launcherShell()
  argv = [shell, '-c', `${closeFds(keepFds)}${join}exec "$@"`, 'agb-local-sandbox', ...argv]
  return { command: argv[0]!, args: argv.slice(1) }
}

let launcher: { shell: string; closeFds: (keep: number) => string } | undefined
/**
 * The launcher shell and its first step: close every descriptor from `keep` up (the stdio
 * entries AGB Local passes on purpose, such as a kernel's event pipe on fd 3, stay). Node
 * passes only those, but a descriptor AGB Local's own parent left open without close-on-exec
 * (a test harness's pipe, a supervisor's socket) is inherited by every child and bubblewrap
 * has no option to close it: it would reach the sandbox's init, agent and every command.
 * bash is used because dash cannot name descriptors above 9 in a redirection.
 */
function launcherShell(): { shell: string; closeFds: (keep: number) => string } {
  if (launcher) return launcher
  const bash = findExecutable('bash', `${process.env.PATH ?? ''}:/usr/bin:/bin`)
  launcher = bash
    ? { shell: bash, closeFds: (keep) => `for f in /proc/$$/fd/*; do n=\${f##*/}; [ "$n" -ge ${keep} ] && eval "exec $n>&-"; done; ` }
    : { shell: '/bin/sh', closeFds: (keep) => `for n in 3 4 5 6 7 8 9; do [ "$n" -ge ${keep} ] && eval "exec $n>&-"; done; ` }
  return launcher
}

/**
 * A sandbox path as a process of the session must receive it on its command line: unchanged
 * under bubblewrap, mapped into the session root for plain processes.
 */
export function processPath(config: LocalConfig, session: SandboxOwner, sandboxPath: string): string {
  return config.isolation === 'bwrap' ? sandboxPath : resolveSessionPath(session.rootDir, sandboxPath)
}

/** The environment of a session process: a minimal one plus `extra`. */
export function sessionEnv(config: LocalConfig, session: SandboxOwner, extra: Record<string, string> = {}): Record<string, string> {
  if (config.isolation === 'bwrap') {
    return { PATH: SANDBOX_PATH, HOME: SANDBOX_HOME, TMPDIR: '/tmp', LANG: 'C.UTF-8', USER: 'user', LOGNAME: 'user',
      SHELL: '/bin/bash', HOSTNAME: 'agb-sandbox', ...extra }
  }
  // AGB_LOCAL_SESSION marks the session's plain processes, so release finds strays in /proc.
  return { PATH: process.env.PATH ?? SANDBOX_PATH, HOME: resolveSessionPath(session.rootDir, SANDBOX_HOME),
    TMPDIR: join(session.rootDir, 'tmp'), LANG: 'C.UTF-8', AGB_LOCAL_SESSION: session.id, ...extra }
}

/** How to start a program in the session: the host command, its arguments, cwd and environment. */
export interface LaunchSpec {
  command: string
  args: string[]
  cwd: string | undefined
  env: Record<string, string>
}

/**
 * Builds the host command that runs `argv` in the session: under bubblewrap (session root as
 * `/`, host /usr read-only, own user/pid/ipc/uts/net namespaces, uid 1000 without any
 * capability, `--die-with-parent`; inside the session's cgroups and as its host uid) or, without
 * isolation, the plain program with cwd/HOME/TMPDIR in the session root. Repairs the session
 * root's links and mount points first.
 * @throws Error when `cwd` escapes the session root or argv is empty.
 */
export function launchSpec(config: LocalConfig, session: SandboxOwner, options: SpawnInSessionOptions): LaunchSpec {
  const cwd = sandboxAbsolute(options.cwd)
  const hostCwd = resolveSessionPath(session.rootDir, cwd)
  const roBinds = options.roBinds ?? []
  const [command, ...rest] = options.argv
  if (!command) throw new Error('spawnInSession: empty argv')
  const env = sessionEnv(config, session, options.env)
  if (config.isolation === 'bwrap') {
    prepareRoot(session.rootDir, [...hostEtcEntries(), ...roBinds, ...(session.confinement?.cgroupViews.map((v) => v.sandbox) ?? [])])
    const keepFds = Math.max(3, Array.isArray(options.stdio) ? options.stdio.length : 3)
    const host = confine(config, session.confinement, [...bwrapArgs(config, session, cwd, roBinds, options.asPid1 === true), '--', command, ...rest], keepFds)
    return { ...host, cwd: undefined, env }
  }
  return { command, args: rest, cwd: hostCwd, env }
}

/**
 * Spawns one process of a session in a sandbox of its own (see {@link launchSpec}): always
 * detached (own process group) and registered so host exit kills its group. Used when the
 * session has no sandbox agent (no python3 on the host).
 */
export function spawnInSession(config: LocalConfig, session: SandboxOwner, options: SpawnInSessionOptions): ChildProcess {
  const spec = launchSpec(config, session, options)
  const child = spawn(spec.command, spec.args, { cwd: spec.cwd, env: spec.env, stdio: options.stdio ?? ['ignore', 'pipe', 'pipe'], detached: true })
  registerProcess(child)
  return child
}
