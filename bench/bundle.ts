// Section 1: what a consumer's bundler ships. esbuild bundles a stdin entry that imports the
// package by name (self-reference from the repo root, so dist/ through package.json "exports"),
// minified ESM, then gzip -9. Sizes are deterministic: one build per figure.
import { gzipSync } from 'node:zlib'
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild'
import { ROOT, fmtBytes, reason, type Row } from './lib.ts'
import { messageFloor } from './messageFloor.ts'

/** The three consumer targets of the goal. */
const PLATFORMS: { name: string; options: BuildOptions }[] = [
  { name: 'browser', options: { platform: 'browser' } },
  { name: 'worker', options: { platform: 'neutral', conditions: ['workerd', 'worker', 'browser'], mainFields: ['browser', 'module', 'main'] } },
  { name: 'node', options: { platform: 'node' } },
]

const CORE = ['createSession', 'runCode', 'exec', 'readFile', 'writeFile', 'uploadOss', 'deleteSession']

/** The entries of the goal: (a) one call, (b) the core flow, (c) everything. */
export const ENTRIES: { id: string; label: string; code: string }[] = [
  { id: 'a', label: 'createClient + exec', code: `export { createClient, exec } from 'agb-micro'` },
  { id: 'b', label: 'core flow (createClient + createSession, runCode, exec, readFile, writeFile, uploadOss, deleteSession)', code: `export { createClient, ${CORE.join(', ')} } from 'agb-micro'` },
  { id: 'c', label: 'import * (whole API)', code: `import * as agb from 'agb-micro'\nexport default agb` },
]

/** What one build produced. */
export interface BundleSize {
  min: number
  gz: number
  metafile: Metafile
  /** The minified bundle. */
  code: string
}

const gzip = (bytes: Uint8Array) => gzipSync(bytes, { level: 9 }).length

/** Bundles `code` for a platform; `plugins` can stub a dependency out. */
export async function bundle(code: string, options: BuildOptions, plugins: Plugin[] = []): Promise<BundleSize> {
  const result = await build({
    stdin: { contents: code, resolveDir: ROOT, sourcefile: 'entry.mjs', loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: ROOT,
    plugins,
    ...options,
  })
  const out = result.outputFiles![0]!
  return { min: out.contents.byteLength, gz: gzip(out.contents), metafile: result.metafile!, code: out.text }
}

/** The package an input of the metafile belongs to: its node_modules name, else agb-micro. */
function packageOf(path: string): string {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)
  if (m) return m[1]!.replace(/\.mjs$/, '')
  return path.startsWith('dist/') ? 'agb-micro' : path
}

/** Minified bytes per package (the metafile's `bytesInOutput`), largest first. */
export function bytesByPackage(metafile: Metafile): [string, number][] {
  const totals = new Map<string, number>()
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
      if (!bytesInOutput) continue
      const name = packageOf(path)
      totals.set(name, (totals.get(name) ?? 0) + bytesInOutput)
    }
  }
  return [...totals].sort((a, b) => b[1] - a[1])
}

/**
 * A plugin replacing a package with a module that exports the same names as no-op functions,
 * so the gz saving of removing it is the gz cost of its code in the bundle.
 */
function stub(name: string, exportNames: string[]): Plugin {
  const filter = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)
  const names = exportNames.filter((n) => /^[A-Za-z_$][\w$]*$/.test(n) || n === 'default')
  const contents = `const _ = () => _\nexport { ${names.map((n) => `_ as ${n}`).join(', ')} }\n`
  return {
    name: `stub-${name}`,
    setup(b) {
      b.onResolve({ filter }, () => ({ path: name, namespace: 'stub' }))
      b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({ contents, loader: 'js' }))
    },
  }
}

/** ofetch's runtime dependencies: their bytes count as ofetch's. */
const OFETCH_FAMILY = new Set(['ofetch', 'destr', 'ufo', 'node-fetch-native'])

/** All rows of section 1. */
export async function bundleRows(): Promise<Row[]> {
  const rows: Row[] = []
  const core = ENTRIES.find((e) => e.id === 'b')!
  // Builds are deterministic: each entry and platform is built once and its size reused below.
  const built = new Map<string, Promise<BundleSize>>()
  const sized = (code: string, platform: (typeof PLATFORMS)[number]): Promise<BundleSize> => {
    const key = `${platform.name}\n${code}`
    if (!built.has(key)) built.set(key, bundle(code, platform.options))
    return built.get(key)!
  }
  for (const entry of ENTRIES) {
    for (const platform of PLATFORMS) {
      const what = `bundle (${entry.id}) ${entry.label}, ${platform.name}`
      try {
        const size = await sized(entry.code, platform)
        rows.push({ id: `1${entry.id}`, what, result: `${fmtBytes(size.gz)} gz`, note: `${fmtBytes(size.min)} minified`, runs: '1 (deterministic)' })
      } catch (error) {
        rows.push({ id: `1${entry.id}`, what, result: `n/a (${reason(error)})`, note: '', runs: '-' })
      }
    }
  }
  // Where the bytes of (b) go: exact minified bytes per package from the metafile, and the gz
  // saving when a dependency is stubbed out (gzip shares a dictionary, so parts are marginal).
  let names: { ofetch: string[]; valibot: string[] }
  try {
    names = { ofetch: Object.keys(await import('ofetch')), valibot: Object.keys(await import('valibot')) }
  } catch (error) {
    rows.push({ id: '1d', what: 'bundle (b) by package', result: `n/a (${reason(error)})`, note: '', runs: '-' })
    return rows
  }
  for (const platform of PLATFORMS) {
    const what = `bundle (b) by package, ${platform.name}: gz cost of each dependency`
    try {
      const full = await sized(core.code, platform)
      const noOfetch = await bundle(core.code, platform.options, [stub('ofetch', names.ofetch)])
      const noValibot = await bundle(core.code, platform.options, [stub('valibot', names.valibot)])
      const byPkg = bytesByPackage(full.metafile)
      const ofetchMin = byPkg.filter(([n]) => OFETCH_FAMILY.has(n)).reduce((s, [, b]) => s + b, 0)
      const ofetchPkgs = byPkg.filter(([n]) => OFETCH_FAMILY.has(n)).map(([n]) => n).join('+')
      const valibotMin = byPkg.find(([n]) => n === 'valibot')?.[1] ?? 0
      const ownMin = byPkg.find(([n]) => n === 'agb-micro')?.[1] ?? 0
      const gzOwn = full.gz - (full.gz - noOfetch.gz) - (full.gz - noValibot.gz)
      rows.push({
        id: '1d',
        what,
        result: `${ofetchPkgs || 'ofetch'} ${fmtBytes(full.gz - noOfetch.gz)} gz; valibot ${fmtBytes(full.gz - noValibot.gz)} gz; rest ≈ ${fmtBytes(gzOwn)} gz`,
        note: `minified: ${ofetchPkgs || 'ofetch'} ${fmtBytes(ofetchMin)}, valibot ${fmtBytes(valibotMin)}, agb-micro ${fmtBytes(ownMin)} (of ${fmtBytes(full.min)})`,
        runs: '1 (deterministic)',
      })
    } catch (error) {
      rows.push({ id: '1d', what, result: `n/a (${reason(error)})`, note: '', runs: '-' })
    }
  }
  // The lower bound under the budgets: the same bundles with their words cut (messageFloor.ts).
  for (const [id, budget] of [['a', 5_632], ['b', 7_168]] as const) {
    const entry = ENTRIES.find((e) => e.id === id)!
    const what = `bundle (${id}), browser, every string and regex over 12 characters cut to one (lower bound)`
    try {
      const size = await sized(entry.code, PLATFORMS[0]!)
      const floor = messageFloor(size.code)
      rows.push({ id: '1f', what, result: `${fmtBytes(floor)} gz`, note: `as built ${fmtBytes(size.gz)} gz; issue budget ${fmtBytes(budget)} gz`, runs: '1 (deterministic)' })
    } catch (error) {
      rows.push({ id: '1f', what, result: `n/a (${reason(error)})`, note: '', runs: '-' })
    }
  }
  // The opt-ins, each one import: what adding it to the core flow costs.
  for (const [name, extra] of [
    ['live output (collectCode + streamCode)', 'collectCode, streamCode'],
    ['context-sync wait (waitForContexts)', 'waitForContexts'],
    ['context mounts (contextSyncs)', 'contextSyncs'],
    ['rich results by MIME kind (richResults)', 'richResults'],
    ['logging hooks (requestHooks)', 'requestHooks'],
  ] as const) {
    const what = `bundle (b) + ${name}, browser: the cost of opting in`
    try {
      const platform = PLATFORMS[0]!
      const base = await sized(core.code, platform)
      const withIt = await sized(core.code.replace(' } from', `, ${extra} } from`), platform)
      rows.push({ id: '1e', what, result: `+${fmtBytes(withIt.gz - base.gz)} gz`, note: `(b) with it: ${fmtBytes(withIt.gz)} gz`, runs: '1 (deterministic)' })
    } catch (error) {
      rows.push({ id: '1e', what, result: `n/a (${reason(error)})`, note: '', runs: '-' })
    }
  }
  return rows
}
