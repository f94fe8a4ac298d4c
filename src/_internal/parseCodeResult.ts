import type { ExecutionError, ExecutionResult } from '../types.ts'
import { toText } from './toText.ts'

/** The parsed outcome of a code run, before the request id is added. */
export interface CodeOutcome {
  success: boolean
  text?: string
  stdout: string
  stderr: string
  logs: { stdout: string[]; stderr: string[] }
  results: ExecutionResult[]
  error?: ExecutionError
  executionCount?: number
  executionTime: number
  timedOut: boolean
}

type Obj = Record<string, unknown>
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x)

const json = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

// MIME keys of the current format first, the short keys of the rich format as fallbacks.
const KINDS: [keyof ExecutionResult, string[]][] = [
  ['text', ['text/plain', 'text']],
  ['html', ['text/html', 'html']],
  ['markdown', ['text/markdown', 'markdown']],
  ['png', ['image/png', 'png']],
  ['jpeg', ['image/jpeg', 'jpeg']],
  ['svg', ['image/svg+xml', 'svg']],
  ['json', ['application/json', 'json']],
  ['latex', ['text/latex', 'latex']],
  ['chart', ['application/vnd.vegalite.v5+json', 'application/vnd.vegalite.v4+json', 'chart']],
]

/** One result item (MIME map, short keys or a JSON string) as an {@link ExecutionResult}. */
export function toItem(raw: unknown): ExecutionResult | undefined {
  let item = raw
  // Items may arrive JSON-encoded, even twice; non-JSON strings are plain text results.
  for (let i = 0; i < 2 && typeof item === 'string'; i++) {
    const decoded = json(item)
    if (decoded === undefined) return { text: item as string, isMainResult: false }
    item = decoded
  }
  if (!isObj(item)) return item == null ? undefined : { text: toText(item), isMainResult: false }
  const out: ExecutionResult = { isMainResult: item.isMainResult === true || item.is_main_result === true }
  for (const [kind, keys] of KINDS) {
    const key = keys.find((k) => item[k] != null)
    if (key === undefined) continue
    const value = item[key]
    ;(out as unknown as Obj)[kind] = kind === 'json' || kind === 'chart' || typeof value === 'string' ? value : JSON.stringify(value)
  }
  return out
}

const strings = (x: unknown): string[] => (Array.isArray(x) ? x.map((s) => (typeof s === 'string' ? s : JSON.stringify(s))) : typeof x === 'string' && x ? [x] : [])

function outcome(
  results: ExecutionResult[],
  stdout: string[],
  stderr: string[],
  error: ExecutionError | undefined,
  count: unknown,
  time: unknown,
): CodeOutcome {
  const main = results.find((r) => r.isMainResult && r.text !== undefined) ?? results.find((r) => r.text !== undefined)
  return {
    success: !error,
    ...(main?.text !== undefined ? { text: main.text } : {}),
    stdout: stdout.join(''),
    stderr: stderr.join(''),
    logs: { stdout, stderr },
    results,
    ...(error ? { error } : {}),
    ...(typeof count === 'number' ? { executionCount: count } : {}),
    executionTime: typeof time === 'number' ? time : 0,
    // The sandbox stopped the code at its limit (AGB Local names it so; the cloud's name is [unverified]).
    timedOut: error?.name === 'TimeoutError',
  }
}

// `ZeroDivisionError: division by zero` names its exception; a bare string does not.
function executionError(text: string, traceback: string): ExecutionError {
  const named = /^([A-Za-z_][\w.]*(?:Error|Exception|Interrupt|Exit|Warning)): ([\s\S]*)$/.exec(text)
  return named ? { name: named[1]!, value: named[2]!, traceback } : { name: 'ExecutionError', value: text, traceback }
}

const plain = (text: string): CodeOutcome => outcome([{ text, isMainResult: true }], [text], [], undefined, undefined, undefined)

/**
 * Parses a `run_code` tool text in any of the formats of the formats the service has used (wrapped,
 * current, rich, legacy, plain). Never throws: anything unrecognised is plain output.
 */
export function parseCodeResult(text: string): CodeOutcome {
  let doc = json(text)
  if (isObj(doc) && Array.isArray(doc.content) && isObj(doc.content[0]) && typeof doc.content[0].text === 'string') {
    const inner = json(doc.content[0].text)
    if (isObj(inner) && ('result' in inner || 'executionError' in inner)) doc = inner
  }
  if (!isObj(doc)) return plain(text)
  if (doc.isError === true && !('logs' in doc || 'results' in doc)) {
    const texts = Array.isArray(doc.content) ? doc.content.map((c) => (isObj(c) ? toText(c.text) : toText(c))) : []
    const value = `Error in response: ${texts.join('; ')}`
    return outcome([], [], [], { name: 'ExecutionError', value, traceback: '' }, undefined, undefined)
  }
  if (Array.isArray(doc.result)) {
    const failed = typeof doc.executionError === 'string' && doc.executionError !== ''
    const error = failed ? executionError(doc.executionError as string, strings(doc.stderr).join('')) : undefined
    const items = doc.result.map(toItem).filter((r): r is ExecutionResult => r !== undefined)
    return outcome(items, strings(doc.stdout), strings(doc.stderr), error, doc.execution_count ?? doc.executionCount, doc.execution_time ?? doc.executionTime)
  }
  if ('logs' in doc || 'results' in doc) {
    const logs = isObj(doc.logs) ? doc.logs : {}
    const items = (Array.isArray(doc.results) ? doc.results : []).map(toItem).filter((r): r is ExecutionResult => r !== undefined)
    const e = isObj(doc.error) ? doc.error : undefined
    let error: ExecutionError | undefined
    if (e || doc.isError === true) {
      error = { name: toText(e?.name) || 'ExecutionError', value: toText(e?.value), traceback: toText(e?.traceback) }
    }
    return outcome(items, strings(logs.stdout), strings(logs.stderr), error, doc.execution_count, doc.execution_time)
  }
  if (Array.isArray(doc.content) && isObj(doc.content[0])) return plain(toText(doc.content[0].text))
  return plain(text)
}
