// The figures before the lean-core rework, printed beside today's: sizes measured on
// 2026-11-30 with ofetch 2 as a dependency (the same esbuild command; the same on every
// platform), timings from the README of 2026-11-24 (two runs on the same machine kind, as ranges).
import type { Row } from './lib.ts'

const SIZES = { a: '8,601 B', b: '16,122 B', c: '22,449 B' }

const TABLE: [id: string, what: RegExp, before: string][] = [
  ['1a', /./, SIZES.a],
  ['1b', /./, SIZES.b],
  ['1c', /./, SIZES.c],
  ['1d', /./, 'ofetch 1,933 B; valibot 2,340 B; rest ≈ 11,849 B'],
  ['1e', /live output/, 'in every runCode bundle: 2,402 B'],
  ['1e', /context-sync/, 'in every createSession bundle: about 600 B'],
  ['2', /agb-micro.*Node.*v20/, '9.3–10.1 ms'],
  ['2', /agb-micro.*Node.*v24/, '8.0–8.8 ms'],
  ['2', /agb-micro.*Deno/, '4.4–6.9 ms'],
  ['2', /agb-micro.*Bun/, '13–15 ms'],
  ['3a', /./, '1.05×'],
  ['3b', /./, '1.05×'],
  ['3c', /v20/, '+14–16 µs'],
  ['3c', /v24/, '+11–12 µs'],
  ['3c', /Deno/, '+16–18 µs'],
  ['3c', /Bun/, '+7–10 µs'],
  ['4a', /, 1 in flight/, '46–54k calls/s'],
  ['4a', /, 16 in flight/, '56–62k calls/s'],
  ['4a', /, 64 in flight/, '53–58k calls/s'],
  ['4a', /, 256 in flight/, '49–54k calls/s'],
  ['4b', /runCode.*, 1 in flight/, '858 calls/s'],
  ['4b', /runCode.*, 16 in flight/, '1,318 calls/s'],
  ['4c', /./, '7.0–7.4 KiB'],
  ['5a', /writeFile 10 MB/, '29.5 MB/s'],
  ['5a', /readFile 10 MB/, '23.7 MB/s'],
  ['5b', /uploadFile/, '104 MB/s'],
  ['5b', /downloadFile/, '113–121 MB/s'],
  ['6a', /./, '1.6 ms'],
  ['6b', /./, '57k–87k chunks/s'],
  ['7a', /./, '182–188 ms'],
  ['7b', /200 concurrent/, 'all 200 ok in 11.2 s'],
]

/** The figure before the rework for a row, or `''` when there was none. */
export function before(row: Row): string {
  return TABLE.find(([id, what]) => row.id === id && what.test(row.what))?.[2] ?? ''
}
