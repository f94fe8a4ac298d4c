import type { RunCodeResult } from '../code/runCode.ts'
import type { ExecutionError } from '../types.ts'
import { isRecord } from './check.ts'
import { parseJson } from './parseJson.ts'
import { toText } from './toText.ts'

/** The parsed outcome of a code run, before the request id is added. */
export type CodeOutcome = Omit<RunCodeResult, 'requestId'>

type Obj = Record<string, any>


/** A raw result item with its JSON string encoding (up to two layers) removed; non-JSON strings stay text. */
export function decodeItem(item: unknown): unknown {
  for (let i = 0; i < 2 && typeof item === 'string'; i++) {
    const decoded = parseJson(item)
    if (decoded === undefined) return item
    item = decoded
  }
  return item
}

/** The text result of a raw item (`text/plain`, or the short `text` key), and whether it is the main one. */
function textOf(raw: unknown): [string | undefined, boolean] {
  const item = decodeItem(raw)
  if (!isRecord(item)) return [item == null ? undefined : toText(item), false]
  const text = item['text/plain'] ?? item.text
  return [text == null ? undefined : toText(text), item.isMainResult === true || item.is_main_result === true]
}

const strings = (x: unknown): string[] => (Array.isArray(x) ? x.map(toText) : typeof x === 'string' && x ? [x] : [])

function outcome(results: unknown[], stdout: string[], stderr: string[], error?: ExecutionError, count?: unknown, time?: unknown): CodeOutcome {
  // The main text result: the last expression's, else the first text there is.
  let text: string | undefined
  for (const item of results) {
    const [t, main] = textOf(item)
    if (t !== undefined && (main || text === undefined)) text = t
    if (t !== undefined && main) break
  }
  const out: CodeOutcome = {
    success: !error,
    stdout: stdout.join(''),
    stderr: stderr.join(''),
    logs: { stdout, stderr },
    results,
    executionTime: typeof time === 'number' ? time : 0,
    // The sandbox stopped the code at its limit (AGB Local names it so; the cloud's name is [unverified]).
    timedOut: error?.name === 'TimeoutError',
  }
  if (text !== undefined) out.text = text
  if (error) out.error = error
  if (typeof count === 'number') out.executionCount = count
  return out
}

const plain = (text: string): CodeOutcome => outcome([{ text, isMainResult: true }], [text], [])

/**
 * Parses a `run_code` tool text in any of the formats the service has used (wrapped,
 * current, rich, legacy, plain): output, error and the main text result; the result items
 * are kept as sent (`richResults` decodes them). Never throws: anything unrecognised is plain output.
 */
export function parseCodeResult(text: string): CodeOutcome {
  let doc = parseJson(text) as Obj
  const first = isRecord(doc) && Array.isArray(doc.content) ? doc.content[0] : undefined
  if (isRecord(first) && typeof first.text === 'string') {
    const inner = parseJson(first.text)
    if (isRecord(inner) && ('result' in inner || 'executionError' in inner)) doc = inner
  }
  if (!isRecord(doc)) return plain(text)
  const rich = 'logs' in doc || 'results' in doc
  if (doc.isError === true && !rich) {
    const texts = Array.isArray(doc.content) ? doc.content.map((c: unknown) => toText(isRecord(c) ? c.text : c)) : []
    return outcome([], [], [], { name: 'ExecutionError', value: `Error in response: ${texts.join('; ')}`, traceback: '' })
  }
  const current = Array.isArray(doc.result)
  if (!current && !rich) return plain(isRecord(first) ? toText(first.text) : text)
  // Current format: `result`, `stdout`, `stderr`, `executionError` (a string) at the top;
  // rich format: `results`, `logs.stdout`, `logs.stderr`, `error` (an object) or `isError`.
  const logs: Obj = current ? doc : isRecord(doc.logs) ? doc.logs : {}
  const stderr = strings(logs.stderr)
  const e = current ? doc.executionError : isRecord(doc.error) ? doc.error : doc.isError === true ? {} : undefined
  let error: ExecutionError | undefined
  if (typeof e === 'string' && e) {
    // `ZeroDivisionError: division by zero` names its exception; a bare string does not.
    const named = /^([A-Za-z_][\w.]*(?:Error|Exception|Interrupt|Exit|Warning)): ([\s\S]*)$/.exec(e)
    error = { name: named ? named[1]! : 'ExecutionError', value: named ? named[2]! : e, traceback: stderr.join('') }
  } else if (!current && isRecord(e)) {
    error = { name: toText(e.name) || 'ExecutionError', value: toText(e.value), traceback: toText(e.traceback) }
  }
  const items = current ? doc.result : doc.results
  return outcome(Array.isArray(items) ? items : [], strings(logs.stdout), stderr, error, doc.execution_count ?? doc.executionCount, doc.execution_time ?? doc.executionTime)
}
