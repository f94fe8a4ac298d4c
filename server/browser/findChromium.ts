import { accessSync, constants } from 'node:fs'

// The real binaries, not the distributions' shell wrappers (Debian's /usr/bin/chromium sources
// /etc/chromium.d, which the sandbox does not have). All live under /usr, which every sandbox
// binds read-only, so the same path works inside and outside bubblewrap.
const CANDIDATES = ['/usr/lib/chromium/chromium', '/usr/lib/chromium-browser/chromium-browser', '/usr/lib64/chromium-browser/chromium-browser', '/usr/lib/chromium/chrome']

let found: string | null | undefined

/** The host's Chromium binary under /usr (cached), or `null` when none is installed. */
export function findChromium(): string | null {
  if (found !== undefined) return found
  found = null
  for (const path of CANDIDATES) {
    try {
      accessSync(path, constants.X_OK)
      found = path
      break
    } catch {}
  }
  return found
}
