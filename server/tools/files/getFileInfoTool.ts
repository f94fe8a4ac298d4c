import type { Stats } from 'node:fs'
import { lstat } from 'node:fs/promises'
import { posix } from 'node:path'
import type { Tool } from '../Tool.ts'
import { textResult } from '../Tool.ts'
import { ownerNames } from './ownerNames.ts'
import { hostPath, sandboxPath } from './sessionPaths.ts'
import { stringArg } from './toolArgs.ts'

/** `ls -l` style mode string, e.g. `-rw-r--r--`, `drwxrwxrwt`. */
function modeString(st: Stats): string {
  const type = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : st.isFIFO() ? 'p' : st.isSocket() ? 's' : st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : '-'
  const m = st.mode
  const bit = (mask: number, c: string) => (m & mask ? c : '-')
  const exec = (x: number, special: number, set: string) => (m & special ? (m & x ? set : set.toUpperCase()) : m & x ? 'x' : '-')
  return type + bit(0o400, 'r') + bit(0o200, 'w') + exec(0o100, 0o4000, 's') + bit(0o40, 'r') + bit(0o20, 'w') + exec(0o10, 0o2000, 's')
    + bit(0o4, 'r') + bit(0o2, 'w') + exec(0o1, 0o1000, 't')
}

/**
 * `get_file_info` {path} (§5.3): `key: value` lines `name`, `path`, `size`, `isDirectory`,
 * `modTime` (ISO 8601), `mode` (`-rw-r--r--`), `owner`, `group` (names from the sandbox's
 * own /etc/passwd and /etc/group).
 */
export const getFileInfoTool: Tool = {
  name: 'get_file_info',
  description: 'Get metadata of a file or directory (name, path, size, isDirectory, modTime, mode, owner, group).',
  inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
  async run(args, { session }) {
    const path = stringArg(args, 'path')
    const st = await lstat(hostPath(session, path))
    const names = await ownerNames(session)
    const shown = sandboxPath(path)
    return textResult([
      `name: ${posix.basename(shown) || '/'}`,
      `path: ${shown}`,
      `size: ${st.size}`,
      `isDirectory: ${st.isDirectory()}`,
      `modTime: ${st.mtime.toISOString()}`,
      `mode: ${modeString(st)}`,
      `owner: ${names.user(st.uid)}`,
      `group: ${names.group(st.gid)}`,
    ].join('\n'))
  },
}
