// What the code of a bundle weighs without its words: every string, template text and regular
// expression longer than a few characters cut to one character, then gzip -9 again. No real
// build could go that far (error messages, URLs, tool names and the service's field names are
// strings), so it is a lower bound: the size budgets of the core flow are checked against it.
import { gzipSync } from 'node:zlib'
import * as acorn from 'acorn'

/** A node of acorn's tree, as far as this walk reads it. */
interface Node {
  type: string
  start: number
  end: number
  value?: unknown
  regex?: unknown
  [key: string]: unknown
}

/** The gzip -9 size of `code` (minified JavaScript) with every literal over `keep` characters cut to one. */
export function messageFloor(code: string, keep = 12): number {
  const cuts: [number, number, string][] = []
  const walk = (node: unknown): void => {
    if (!node || typeof node !== 'object') return
    if (Array.isArray(node)) return node.forEach(walk)
    const n = node as Node
    const long = n.end - n.start > keep + 2
    if (n.type === 'Literal' && long && (typeof n.value === 'string' || n.regex)) cuts.push([n.start, n.end, n.regex ? '/x/' : '"x"'])
    else if (n.type === 'TemplateElement' && n.end - n.start > keep) cuts.push([n.start, n.end, 'x'])
    for (const key in n) if (key !== 'loc') walk(n[key])
  }
  walk(acorn.parse(code, { ecmaVersion: 'latest', sourceType: 'module' }))
  let out = code
  for (const [start, end, short] of cuts.sort((a, b) => b[0] - a[0])) out = out.slice(0, start) + short + out.slice(end)
  return gzipSync(out, { level: 9 }).length
}
