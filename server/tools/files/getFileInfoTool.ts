import { posix } from 'node:path'
import type { FsStat } from '../../sandbox/SandboxFs.ts'
import type { Tool } from '../Tool.ts'
import { textResult } from '../Tool.ts'
import { sandboxAbsolute } from '../../sandbox/resolveSessionPath.ts'
import { stringArg } from './toolArgs.ts'

const TYPE_CHARS: Record<FsStat['type'], string> = { directory: 'd', symlink: 'l', fifo: 'p', socket: 's', char: 'c', block: 'b', file: '-', unknown: '-' }

/** `ls -l` style mode string, e.g. `-rw-r--r--`, `drwxrwxrwt`. */
function modeString(st: FsStat): string {
  const m = st.mode
  const bit = (mask: number, c: string) => (m & mask ? c : '-')
  const exec = (x: number, special: number, set: string) => (m & special ? (m & x ? set : set.toUpperCase()) : m & x ? 'x' : '-')
  return TYPE_CHARS[st.type] + bit(0o400, 'r') + bit(0o200, 'w') + exec(0o100, 0o4000, 's') + bit(0o40, 'r') + bit(0o20, 'w') + exec(0o10, 0o2000, 's')
    + bit(0o4, 'r') + bit(0o2, 'w') + exec(0o1, 0o1000, 't')
}

/**
 * `get_file_info` {path} (§5.3): `key: value` lines `name`, `path`, `size`, `isDirectory`,
 * `modTime` (ISO 8601), `mode` (`-rw-r--r--`), `owner`, `group` (names from the sandbox's
 * own /etc/passwd and /etc/group, else the numbers).
 */
export const getFileInfoTool: Tool = {
  name: 'get_file_info',
  description: 'Get metadata of a file or directory (name, path, size, isDirectory, modTime, mode, owner, group).',
  inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
  async run(args, { session }) {
    const path = stringArg(args, 'path')
    const st = await session.sandbox.fs.stat(path, { names: true })
    const shown = sandboxAbsolute(path)
    return textResult([
      `name: ${posix.basename(shown) || '/'}`,
      `path: ${shown}`,
      `size: ${st.size}`,
      `isDirectory: ${st.type === 'directory'}`,
      `modTime: ${new Date(st.mtimeMs).toISOString()}`,
      `mode: ${modeString(st)}`,
      `owner: ${st.user ?? st.uid}`,
      `group: ${st.group ?? st.gid}`,
    ].join('\n'))
  },
}
