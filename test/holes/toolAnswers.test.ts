// Tool answers AGB Local does not send but the real service may (the official SDKs accept
// them): AGB Local runs the command or the code for real, then rewriteToolAnswers changes the
// answer's shape. Two promises:
// - `exec`: `exit_code: 0` is the exit code even when an older `errorCode` field says otherwise
//   (0 must not fall through to `errorCode`; without `exit_code`, `errorCode` is used);
// - `runCode`: a tool answer with `isError: true` is a failure even when it carries no error
//   object — never a successful result.
import { afterEach, describe, expect, it } from 'vitest'
import { createClient, createSession, exec, isAgbError, runCode, type Client } from '../../src/index.ts'
import { IMAGE, startLocal, type LocalHarness } from '../helpers/local.ts'
import { rewriteToolAnswers, type ToolData } from '../helpers/rewriteToolAnswers.ts'

let h: LocalHarness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

/** A client whose `tool` answers pass through `rewrite`, and a live session. */
async function rewritten(tool: string, rewrite: (data: ToolData) => ToolData): Promise<{ client: Client; id: string }> {
  h = await startLocal('inject')
  const client = createClient({ apiKey: h.local.apiKey, endpoint: h.url, fetch: rewriteToolAnswers(h.local.fetch, tool, rewrite) })
  const { id } = await createSession(client, { imageId: IMAGE })
  return { client, id }
}

/** The JSON text of the first content item, changed by `change`. */
const editText = (data: ToolData, change: (doc: Record<string, unknown>) => Record<string, unknown>): ToolData => ({
  ...data,
  content: [{ type: 'text', text: JSON.stringify(change(JSON.parse(data.content[0]!.text) as Record<string, unknown>)) }],
})

describe('exec reads exit_code before errorCode', () => {
  it('returns exit code 0 when exit_code is 0 and errorCode is not', async () => {
    const { client, id } = await rewritten('shell', (d) => editText(d, (doc) => ({ ...doc, errorCode: 1 })))
    const result = await exec(client, id, 'echo fine')
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toBe('fine\n')
  })

  it('returns exit code 0 when exit_code is 0 and errorCode is not, also with isError set', async () => {
    const { client, id } = await rewritten('shell', (d) => editText({ ...d, isError: true }, (doc) => ({ ...doc, errorCode: 2 })))
    expect((await exec(client, id, 'true')).exitCode).toBe(0)
  })

  it('falls back to errorCode when exit_code is missing', async () => {
    const { client, id } = await rewritten('shell', (d) => editText(d, ({ exit_code, ...doc }) => ({ ...doc, errorCode: exit_code })))
    expect((await exec(client, id, 'exit 3')).exitCode).toBe(3)
  })
})

/** Either a failed result carrying an error, or a thrown tool_error: anything but success. */
async function expectFailure(run: Promise<Awaited<ReturnType<typeof runCode>>>): Promise<void> {
  const outcome = await run.then(
    (result) => ({ result }),
    (error: unknown) => ({ error }),
  )
  if ('error' in outcome) {
    expect(isAgbError(outcome.error, 'tool_error'), String(outcome.error)).toBe(true)
    return
  }
  expect(outcome.result.success).toBe(false)
  expect(outcome.result.error).toMatchObject({ name: expect.any(String), value: expect.any(String) })
}

describe('runCode with isError: true and no error object', () => {
  it('is a failure when the answer is the result JSON without executionError', async () => {
    const { client, id } = await rewritten('run_code', (d) => editText({ ...d, isError: true }, ({ executionError: _e, ...doc }) => doc))
    await expectFailure(runCode(client, id, "print('looks fine')"))
  })

  it('is a failure when the answer is the logs/results JSON without error', async () => {
    const { client, id } = await rewritten('run_code', (d) =>
      editText({ ...d, isError: true }, (doc) => ({ logs: { stdout: doc.stdout, stderr: doc.stderr }, results: doc.result, execution_count: 1 })),
    )
    await expectFailure(runCode(client, id, "print('looks fine')"))
  })

  it('is a failure when the answer is plain text', async () => {
    const { client, id } = await rewritten('run_code', (d) => ({ ...d, isError: true, content: [{ type: 'text', text: 'kernel died' }] }))
    await expectFailure(runCode(client, id, '1 + 1'))
  })

  it('the same code without the rewrite succeeds (the failures above come from isError alone)', async () => {
    const { client, id } = await rewritten('run_code', (d) => d)
    const result = await runCode(client, id, "print('looks fine')")
    expect(result.success).toBe(true)
    expect(result.stdout).toBe('looks fine\n')
  })
})
