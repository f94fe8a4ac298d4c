import type { Readable } from 'node:stream'

/** What a path is. */
export type FsType = 'file' | 'directory' | 'symlink' | 'fifo' | 'socket' | 'char' | 'block' | 'unknown'

/** `stat` of a sandbox path. */
export interface FsStat {
  type: FsType
  size: number
  mtimeMs: number
  /** st_mode (type and permission bits). */
  mode: number
  uid: number
  gid: number
  ino: number
}

/** {@link FsStat} with the owner's names from the sandbox's own /etc/passwd and /etc/group (`undefined` when not listed). */
export interface FsStatNamed extends FsStat {
  user: string | undefined
  group: string | undefined
}

/** How {@link SandboxFs.walk} reports what it finds. */
export type WalkWant =
  /** Relative paths of the entries `match` accepts. */
  | 'search'
  /** `[rel, isDir, mtimeMs, size, ino]` of every entry. */
  | 'snapshot'
  /** Relative paths of the regular files. */
  | 'files'

/** A name/path test run where the files are: a case-insensitive substring of the name, or a whole-string regex. */
export type WalkMatcher = { contains: string } | { regex: string; rel: boolean }

/** Options of {@link SandboxFs.walk}. */
export interface WalkOptions {
  want: WalkWant
  /** Stop after visiting this many entries (not counting skipped ones). */
  limit: number
  /** Entries (and, for directories, everything below them) to leave out. */
  skip?: WalkMatcher[]
  /** `search`: which entries to report (all when absent). */
  match?: WalkMatcher
  /** `search`: stop after this many matches. */
  maxMatches?: number
}

/** One `snapshot` entry of {@link SandboxFs.walk}: relative path, directory?, mtime (ms), size, inode. */
export type SnapshotEntry = [rel: string, dir: boolean, mtimeMs: number, size: number, ino: number]

/** Result of {@link SandboxFs.walk}. */
export interface WalkResult {
  /** The walked path with every symlink resolved, as a sandbox path. */
  top: string
  /** `true` when the path does not exist (nothing else is set then). */
  missing?: boolean
  /** What the path is (links followed). */
  type?: FsType
  /** `snapshot`: the path itself, `[dir, mtimeMs, size, ino]`. */
  stat?: [dir: boolean, mtimeMs: number, size: number, ino: number]
  /** Relative (`/`-separated) paths, or snapshot entries, depth first in name order; links are reported, never entered. */
  entries: Array<string | SnapshotEntry>
}

/** Result of {@link SandboxFs.readFile}. */
export interface ReadFileResult {
  /** The file's size. */
  size: number
  /** The bytes read; `null` when the requested range is larger than `max` (nothing was read). */
  data: Buffer | null
}

/**
 * A session's file system as its sandbox sees it: every operation is performed inside the
 * sandbox (by the session's agent process), so paths — symlinks included — resolve within the
 * session root whatever sandboxed code changes at the same moment. Paths are sandbox paths,
 * absolute or relative to /home/user. Failures throw {@link SandboxFsError} (a `code` such as
 * `ENOENT`, `EISDIR`, `ENOTREG`, `EEXIST`, and a message naming the sandbox path).
 */
export interface SandboxFs {
  /** stat (`follow: false`: lstat). `names`: also the owner's user and group names. */
  stat(path: string, options?: { follow?: boolean }): Promise<FsStat>
  stat(path: string, options: { follow?: boolean; names: true }): Promise<FsStatNamed>
  /** Reads `[offset, offset+length)` of a regular file (`length` 0: to the end), at most `max` bytes. */
  readFile(path: string, options: { offset?: number; length?: number; max: number }): Promise<ReadFileResult>
  /** Writes a regular file (links followed, parents created); `create_new` fails with EEXIST. */
  writeFile(path: string, data: Buffer | string, options?: { mode?: 'overwrite' | 'append' | 'create_new' }): Promise<void>
  /** Creates a directory and its parents; an existing directory is fine. */
  mkdir(path: string): Promise<void>
  /** Renames `source` (a link itself, not its target) to `destination`, creating its parents; EEXIST when it exists. */
  move(source: string, destination: string): Promise<void>
  /** Removes a file, a link (not its target) or a directory tree. */
  remove(path: string): Promise<void>
  /** A directory's entries (unsorted, at most 1 000 000), links judged by their targets; `null` when the path is not a directory. */
  list(path: string): Promise<Array<{ name: string; dir: boolean }> | null>
  /**
   * Bytes allocated on disk below a directory (like `du`), links not followed, mounts inside
   * it (the sandbox's read-only host binds, /proc, /dev) not entered, at most `limit` entries.
   */
  diskUsage(path: string, options: { limit: number }): Promise<number>
  /** Walks a tree without following links or entering other mounts (read-only host binds, /proc, /dev) below it. */
  walk(path: string, options: WalkOptions): Promise<WalkResult>
  /** A regular file as a stream, pulled chunk by chunk (bounded memory). */
  openRead(path: string): Promise<{ size: number; stream: Readable }>
  /**
   * Streams `source` into a file (links followed, parents created): into a temporary file
   * beside it, renamed over it at the end, removed on failure. @returns bytes written
   */
  writeStream(path: string, source: Readable): Promise<number>
}
