import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

/** Looks `name` up on the host `PATH` (like `which`); returns the absolute path or `undefined`. */
export function findExecutable(name: string, pathEnv: string = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir) continue
    const candidate = join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {}
  }
  return undefined
}
