import type { FileInfo } from '../types.ts'

/**
 * Parses `key: value` lines, splitting on the FIRST colon only, so timestamps such as
 * `modTime: 2025-01-01T10:00:00` keep their colons (the TS SDK's parser truncates them).
 */
export function parseFileInfo(text: string): FileInfo {
  const info: Record<string, unknown> = { size: 0, isDirectory: false }
  for (const line of text.split('\n')) {
    const at = line.indexOf(':')
    if (at <= 0) continue
    const key = line.slice(0, at).trim()
    const value = line.slice(at + 1).trim()
    if (key === 'size') info.size = Number(value) || 0
    else if (key === 'isDirectory') info.isDirectory = value.toLowerCase() === 'true'
    else if (key) info[key] = value
  }
  return info as unknown as FileInfo
}

