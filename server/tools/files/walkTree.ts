import type { Dirent } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'

/** One entry found by {@link walkTree}. */
export interface TreeEntry {
  host: string
  /** Path relative to the walk's start, `/`-separated. */
  rel: string
  dirent: Dirent
}

/**
 * Walks a directory tree depth-first in name order without following symlinks (a link is
 * reported, never entered), stopping after `limit` entries. `skip` prunes an entry and,
 * for a directory, everything below it. Unreadable directories are skipped.
 */
export async function* walkTree(dir: string, options: { limit: number; skip?: (entry: TreeEntry) => boolean }): AsyncGenerator<TreeEntry> {
  let seen = 0
  async function* visit(host: string, rel: string): AsyncGenerator<TreeEntry> {
    let entries: Dirent[]
    try {
      entries = await readdir(host, { withFileTypes: true })
    } catch {
      return
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    for (const dirent of entries) {
      if (seen >= options.limit) return
      const entry = { host: join(host, dirent.name), rel: rel ? `${rel}/${dirent.name}` : dirent.name, dirent }
      if (options.skip?.(entry)) continue
      seen++
      yield entry
      if (dirent.isDirectory()) yield* visit(entry.host, entry.rel)
    }
  }
  yield* visit(dir, '')
}
