import type { Tool } from '../Tool.ts'
import { textResult } from '../Tool.ts'
import { fsErrorCode } from '../../sandbox/fsErrorCode.ts'
import { MAX_READ_BYTES } from './readFileTool.ts'
import { sandboxAbsolute } from '../../sandbox/resolveSessionPath.ts'
import { stringArg } from './toolArgs.ts'
import { unifiedDiff } from './unifiedDiff.ts'

interface Edit {
  oldText: string
  newText: string
}

function parseEdits(value: unknown): Edit[] {
  if (!Array.isArray(value) || value.length === 0) throw new Error('edits must be a non-empty array of {oldText, newText}')
  return value.map((e, i) => {
    const edit = e as Partial<Edit> | null
    if (typeof edit?.oldText !== 'string' || !edit.oldText || typeof edit.newText !== 'string') throw new Error(`edits[${i}] must be {oldText: non-empty string, newText: string}`)
    return { oldText: edit.oldText.replace(/\r\n/g, '\n'), newText: edit.newText.replace(/\r\n/g, '\n') }
  })
}

/** Exact first occurrence, else a line-wise match ignoring leading/trailing whitespace. */
function applyEdit(content: string, edit: Edit): string | undefined {
  const at = content.indexOf(edit.oldText)
  if (at >= 0) return content.slice(0, at) + edit.newText + content.slice(at + edit.oldText.length)
  const lines = content.split('\n')
  const old = edit.oldText.split('\n')
  for (let i = 0; i + old.length <= lines.length; i++) {
    if (old.every((l, j) => lines[i + j]!.trim() === l.trim())) {
      lines.splice(i, old.length, ...edit.newText.split('\n'))
      return lines.join('\n')
    }
  }
  return undefined
}

/**
 * `edit_file` {path, edits: [{oldText, newText}], dryRun} (§5.3): applies every edit in order
 * (all or nothing) and returns a fenced unified diff; `dryRun` only returns the diff. An
 * `oldText` that is not found is a tool error and leaves the file unchanged.
 */
export const editFileTool: Tool = {
  name: 'edit_file',
  description: 'Replace text in a file (edits: [{oldText, newText}]), returning a unified diff; dryRun previews.',
  inputSchema: {
    type: 'object',
    properties: {
      path: { type: 'string' },
      edits: { type: 'array', items: { type: 'object', properties: { oldText: { type: 'string' }, newText: { type: 'string' } }, required: ['oldText', 'newText'] } },
      dryRun: { type: 'boolean' },
    },
    required: ['path', 'edits'],
  },
  async run(args, { session }) {
    const path = stringArg(args, 'path')
    const edits = parseEdits(args.edits)
    let read
    try {
      read = await session.sandbox.fs.readFile(path, { max: MAX_READ_BYTES })
    } catch (e) {
      if (fsErrorCode(e) === 'EISDIR' || fsErrorCode(e) === 'ENOTREG') return textResult(`Error: ${sandboxAbsolute(path)} is not a regular file`, true)
      throw e
    }
    if (!read.data) return textResult(`Error: ${sandboxAbsolute(path)} is too large to edit (${read.size} bytes)`, true)
    const original = read.data.toString('utf8').replace(/\r\n/g, '\n')
    let modified = original
    for (const edit of edits) {
      const next = applyEdit(modified, edit)
      if (next === undefined) return textResult(`Error: could not find exact match for edit:\n${edit.oldText}`, true)
      modified = next
    }
    const diff = unifiedDiff(sandboxAbsolute(path), original, modified)
    if (args.dryRun !== true && modified !== original) await session.sandbox.fs.writeFile(path, modified)
    let fence = '```'
    while (diff.includes(fence)) fence += '`'
    return textResult(`${fence}diff\n${diff}${fence}\n\n`)
  },
}
