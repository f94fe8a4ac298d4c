import { posix } from 'node:path'
import type { Readable } from 'node:stream'
import { sandboxAbsolute } from '../sandbox/resolveSessionPath.ts'
import { fsErrorCode } from '../sandbox/fsErrorCode.ts'
import type { Session } from '../sessions/Session.ts'

// Every access to session files goes through session.sandbox.fs: performed inside the session's
// sandbox, where no path (or link swapped in meanwhile by sandboxed code) leads out of the root.

/** Most files below one directory that an upload or sync takes. */
const MAX_TREE_FILES = 1_000_000

/** Creates a sandbox directory and its parents. */
export async function ensureSandboxDir(session: Session, sandboxDir: string): Promise<void> {
  await session.sandbox.fs.mkdir(sandboxDir).catch((e: Error) => {
    const code = fsErrorCode(e)
    throw new Error(`${sandboxAbsolute(sandboxDir)}: ${code === 'EEXIST' || code === 'ENOTDIR' ? 'not a directory' : e.message}`)
  })
}

/**
 * Streams `source` into a sandbox file: parents created, written to a temporary file beside
 * it and renamed over the target (in the sandbox; see SandboxFs.writeStream).
 * @returns the number of bytes written.
 */
export async function writeSandboxFile(session: Session, sandboxPath: string, source: Readable): Promise<number> {
  const absolute = sandboxAbsolute(sandboxPath)
  try {
    return await session.sandbox.fs.writeStream(absolute, source)
  } catch (e) {
    source.destroy()
    const code = fsErrorCode(e)
    if (code === 'EISDIR') throw new Error(`${absolute}: is a directory`)
    if (code === 'EEXIST' || code === 'ENOTDIR') throw new Error(`${posix.dirname(absolute)}: not a directory`)
    throw e
  }
}

/**
 * Opens a regular sandbox file for reading, as a stream pulled from the sandbox.
 * @throws Error when it does not exist or is not a regular file.
 */
export async function openSandboxFile(session: Session, sandboxPath: string): Promise<{ stream: Readable; size: number }> {
  const absolute = sandboxAbsolute(sandboxPath)
  try {
    return await session.sandbox.fs.openRead(absolute)
  } catch (e) {
    const code = fsErrorCode(e)
    const what = code === 'ENOENT' ? 'no such file' : code === 'ELOOP' ? 'too many symbolic links' : code === 'EISDIR' ? 'is a directory' : code === 'ENOTREG' ? 'not a regular file' : (e as Error).message
    throw new Error(`${absolute}: ${what}`)
  }
}

/** What a sandbox path is (links followed): `file`, `directory`, or `missing`. */
export async function sandboxKind(session: Session, sandboxPath: string): Promise<'file' | 'directory' | 'missing'> {
  try {
    const st = await session.sandbox.fs.stat(sandboxPath)
    return st.type === 'file' ? 'file' : st.type === 'directory' ? 'directory' : 'missing'
  } catch (e) {
    if (fsErrorCode(e) === 'ENOENT' || fsErrorCode(e) === 'ENOTDIR') return 'missing'
    throw e
  }
}

/**
 * Regular files below a sandbox directory, recursively, as sandbox paths under the directory
 * as given. Symlinks inside it are not followed (no loops, no copies of other trees).
 */
export async function listSandboxFiles(session: Session, sandboxDir: string): Promise<string[]> {
  const dir = sandboxAbsolute(sandboxDir)
  const walk = await session.sandbox.fs.walk(dir, { want: 'files', limit: MAX_TREE_FILES })
  if (walk.missing) throw new Error(`${dir}: no such file or directory`)
  if (walk.type !== 'directory') throw new Error(`${dir}: not a directory`)
  return walk.entries.map((rel) => posix.join(dir, rel as string)).sort()
}
