import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import type { Stats } from 'node:fs'
import { lstat, mkdir, open, readdir, rename, rm } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { dirname, join, posix } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { resolveSessionPath, SANDBOX_HOME } from '../sandbox/resolveSessionPath.ts'
import type { Session } from '../sessions/Session.ts'

/** A sandbox path turned absolute and normalised (relative paths start at /home/user). */
export function sandboxAbsolute(path: string): string {
  return posix.resolve(SANDBOX_HOME, path || '.')
}

/**
 * The host path of a sandbox path, symlinks resolved inside the session root as the sandbox
 * sees them (see resolveSessionPath): never outside the root.
 */
export function sandboxHostPath(session: Session, sandboxPath: string): string {
  return resolveSessionPath(session.rootDir, sandboxAbsolute(sandboxPath))
}

async function lstatOrNull(path: string): Promise<Stats | null> {
  try {
    return await lstat(path)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw e
  }
}

/** Creates a sandbox directory and its parents. @returns its host path. */
export async function ensureSandboxDir(session: Session, sandboxDir: string): Promise<string> {
  const host = sandboxHostPath(session, sandboxDir)
  await mkdir(host, { recursive: true }).catch((e: NodeJS.ErrnoException) => {
    throw new Error(`${sandboxAbsolute(sandboxDir)}: ${e.code === 'EEXIST' || e.code === 'ENOTDIR' ? 'not a directory' : e.message}`)
  })
  return host
}

/**
 * Streams `source` into a sandbox file: parents created, written to a temporary file beside
 * it (opened with O_EXCL|O_NOFOLLOW) and renamed over the target.
 * @returns the number of bytes written.
 */
export async function writeSandboxFile(session: Session, sandboxPath: string, source: Readable): Promise<number> {
  const absolute = sandboxAbsolute(sandboxPath)
  await ensureSandboxDir(session, posix.dirname(absolute))
  const host = sandboxHostPath(session, absolute)
  if ((await lstatOrNull(host))?.isDirectory()) throw new Error(`${absolute}: is a directory`)
  const tmp = join(dirname(host), `.agb-${randomBytes(6).toString('hex')}.part`)
  const handle = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644)
  let bytes = 0
  try {
    await pipeline(
      source,
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          bytes += chunk.length
          yield chunk
        }
      },
      handle.createWriteStream(),
    )
    await rename(tmp, host)
    return bytes
  } catch (e) {
    source.destroy()
    await handle.close().catch(() => {})
    await rm(tmp, { force: true })
    throw e
  }
}

/**
 * Opens a regular sandbox file for reading.
 * @throws Error when it does not exist or is not a regular file.
 */
export async function openSandboxFile(session: Session, sandboxPath: string): Promise<{ handle: FileHandle; size: number }> {
  const absolute = sandboxAbsolute(sandboxPath)
  let handle: FileHandle
  try {
    handle = await open(sandboxHostPath(session, absolute), constants.O_RDONLY | constants.O_NOFOLLOW)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    throw new Error(code === 'ENOENT' ? `${absolute}: no such file` : `${absolute}: ${code === 'ELOOP' ? 'too many symbolic links' : (e as Error).message}`)
  }
  const st = await handle.stat()
  if (!st.isFile()) {
    await handle.close()
    throw new Error(`${absolute}: ${st.isDirectory() ? 'is a directory' : 'not a regular file'}`)
  }
  return { handle, size: st.size }
}

/** What a sandbox path is: `file`, `directory`, or `missing`. */
export async function sandboxKind(session: Session, sandboxPath: string): Promise<'file' | 'directory' | 'missing'> {
  const st = await lstatOrNull(sandboxHostPath(session, sandboxPath))
  return st?.isFile() ? 'file' : st?.isDirectory() ? 'directory' : 'missing'
}

/**
 * Regular files below a sandbox directory, recursively, as sandbox paths under the directory
 * as given. Symlinks inside it are not followed (no loops, no copies of other trees).
 */
export async function listSandboxFiles(session: Session, sandboxDir: string): Promise<string[]> {
  const out: string[] = []
  async function walk(dir: string, host: string): Promise<void> {
    for (const entry of await readdir(host, { withFileTypes: true })) {
      const child = posix.join(dir, entry.name)
      if (entry.isDirectory()) await walk(child, join(host, entry.name))
      else if (entry.isFile()) out.push(child)
    }
  }
  await walk(sandboxAbsolute(sandboxDir), sandboxHostPath(session, sandboxDir))
  return out.sort()
}
