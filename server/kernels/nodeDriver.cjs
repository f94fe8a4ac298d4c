// AGB Local javascript kernel driver: a tiny Jupyter-like REPL on a persistent vm context.
//
// Same line protocol as pythonDriver.py: requests {code, count} on fd 0, events on fd 3
// ({type:'stdout'|'stderr', chunk} / {type:'result', data, isMainResult} / {type:'end', error}).
// Runs as `node -e <this source>` (CommonJS) inside the session sandbox.
'use strict'
const fs = require('node:fs')
const path = require('node:path')
const readline = require('node:readline')
const util = require('node:util')
const vm = require('node:vm')
const { Writable } = require('node:stream')
const { createRequire } = require('node:module')

// The host stops a kernel whose event line passes 16 MiB (user code can write to the pipe too,
// so it cannot tell a long line from a flood): keep every event well under that.
const EVENT_MAX = 8 << 20
/** Long text is cut to this many characters with a note: under the host's default maxOutputBytes (1 MiB), so the note shows. */
const KEEP_TEXT = 1_000_000

function cutText(text) {
  return text.length <= KEEP_TEXT ? text : `${text.slice(0, KEEP_TEXT)}\u2026[truncated ${text.length - KEEP_TEXT} characters]`
}

function emit(obj) {
  let line = JSON.stringify(obj)
  const bytes = Buffer.byteLength(line)
  if (bytes > EVENT_MAX) {
    if (obj.type === 'stdout' || obj.type === 'stderr') {
      // In pieces (the host keeps the first maxOutputBytes of a stream and counts the rest).
      const step = Math.max(1, Math.floor((obj.chunk.length * (EVENT_MAX / 2)) / bytes))
      for (let at = 0; at < obj.chunk.length; at += step) emit({ type: obj.type, chunk: obj.chunk.slice(at, at + step) })
      return
    }
    if (obj.type === 'result' && typeof obj.data?.['text/plain'] === 'string' && obj.data['text/plain'].length > KEEP_TEXT) {
      return emit({ ...obj, data: { ...obj.data, 'text/plain': cutText(obj.data['text/plain']) } })
    }
    if (obj.type === 'result') {
      line = JSON.stringify({ type: 'result', data: { 'text/plain': `\u2026[result dropped: ${bytes} bytes, over the ${EVENT_MAX >> 20} MiB one result may take]` }, isMainResult: obj.isMainResult === true })
    } else if (obj.type === 'end' && obj.error) {
      line = JSON.stringify({ type: 'end', error: { ...obj.error, value: cutText(String(obj.error.value ?? '')), traceback: cutText(String(obj.error.traceback ?? '')) } })
    }
  }
  fs.writeSync(3, line + '\n')
}

function eventStream(type) {
  return new Writable({
    write(chunk, _encoding, done) {
      emit({ type, chunk: String(chunk) })
      done()
    },
  })
}

const userConsole = new console.Console({ stdout: eventStream('stdout'), stderr: eventStream('stderr') })
const cwd = process.cwd()
// Host-realm globals the user expects; language intrinsics come from the context itself.
const sandbox = {
  console: userConsole,
  require: createRequire(path.join(cwd, '[repl].js')),
  module: { exports: {} },
  process, Buffer, URL, URLSearchParams, TextEncoder, TextDecoder, AbortController, AbortSignal,
  setTimeout, clearTimeout, setInterval, clearInterval, setImmediate, clearImmediate,
  queueMicrotask, structuredClone, atob, btoa, performance, crypto: globalThis.crypto,
  fetch: globalThis.fetch, Headers: globalThis.Headers, Request: globalThis.Request,
  Response: globalThis.Response, Blob: globalThis.Blob, FormData: globalThis.FormData,
  __filename: path.join(cwd, '[repl].js'), __dirname: cwd,
}
sandbox.exports = sandbox.module.exports
const context = vm.createContext(sandbox)
vm.runInContext('globalThis.global = globalThis', context)

function display(value, isMainResult) {
  emit({ type: 'result', data: { 'text/plain': util.inspect(value) }, isMainResult })
}
sandbox.display = (...values) => values.forEach((v) => display(v, false))

const AWAIT_ERROR = /await is only valid|Unexpected reserved word|Cannot use keyword 'await'/

/**
 * Compiles a cell. Plain scripts keep their completion value and top-level let/const stay in
 * the context. Cells using top-level await are wrapped in an async function; their simple
 * top-level declarations are rewritten to global assignments so they still persist.
 */
function compile(code, filename) {
  try {
    return new vm.Script(code, { filename })
  } catch (error) {
    if (!(error instanceof SyntaxError) || !AWAIT_ERROR.test(error.message)) throw error
  }
  const hoisted = code.replace(/^(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=/gm, 'globalThis.$1 =')
  const lines = hoisted.trimEnd().split('\n')
  const last = lines.pop().replace(/;\s*$/, '')
  const candidates = [
    `(async () => {\n${lines.join('\n')}\nreturn (${last}\n);\n})()`,
    `(async () => {\n${hoisted}\n})()`,
  ]
  for (const source of candidates) {
    try {
      return new vm.Script(source, { filename })
    } catch {}
  }
  return new vm.Script(code, { filename }) // rethrows the original syntax error
}

function describeError(error) {
  if (error instanceof Error || (error && typeof error.stack === 'string')) {
    const stack = String(error.stack || `${error.name}: ${error.message}`)
    // Keep the user's frames, drop the driver's.
    const lines = stack.split('\n').filter((l) => !/^\s+at /.test(l) || l.includes('<cell-'))
    return { name: error.name || 'Error', value: String(error.message ?? ''), traceback: lines.join('\n') + '\n' }
  }
  const text = util.inspect(error)
  return { name: 'Error', value: `Uncaught ${text}`, traceback: `Uncaught ${text}\n` }
}

async function execute(code, count) {
  const script = compile(code, `<cell-${count}>`)
  let value = script.runInContext(context, { displayErrors: false })
  if (value && typeof value.then === 'function') value = await value
  if (value !== undefined) {
    context._ = value
    display(value, true)
  }
}

// Late output from timers or rejected promises after a cell ended must not crash the kernel.
process.on('uncaughtException', (error) => emit({ type: 'stderr', chunk: describeError(error).traceback }))
process.on('unhandledRejection', (error) => emit({ type: 'stderr', chunk: describeError(error).traceback }))

const input = process.stdin
const lines = readline.createInterface({ input, crlfDelay: Infinity })
let queue = Promise.resolve()
lines.on('line', (line) => {
  let request
  try {
    request = JSON.parse(line)
  } catch {
    return
  }
  queue = queue.then(async () => {
    let error = null
    try {
      await execute(String(request.code ?? ''), Number(request.count ?? 0))
    } catch (thrown) {
      error = describeError(thrown)
      emit({ type: 'stderr', chunk: error.traceback })
    }
    emit({ type: 'end', error })
  })
})
lines.on('close', () => queue.then(() => process.exit(0)))
