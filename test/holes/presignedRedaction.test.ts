// Errors from presigned URLs (uploadFile/downloadFile) carry a piece of the storage service's
// error body, and that body is redacted: a storage service or proxy that echoes the request
// back must not put the API key into the error's message, its inspection or its JSON; and the
// error names the URL without its query (the signature). AGB Local serves everything for real;
// only the answers of the presigned URLs are replaced with a 403 that echoes secrets.
import { inspect } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { createClient, createSession, downloadFile, isAgbError, uploadFile, writeFile, type FetchLike } from '../../src/index.ts'
import { IMAGE, startLocal, type LocalHarness } from '../helpers/local.ts'

let h: LocalHarness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

/** Every presigned URL the client fetched (their queries hold the signature). */
const presigned: URL[] = []

/** AGB Local for the API; presigned URLs answer 403 with a body echoing the API key. */
function echoingStorage(h: LocalHarness): FetchLike {
  return async (input, init) => {
    const request = new Request(input, init)
    const url = new URL(request.url)
    if (!url.searchParams.has('X-Amz-Signature')) return h.local.fetch(request)
    presigned.push(url)
    const body = `<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>Denied for Bearer ${h.local.apiKey}</Message><Key>${h.local.apiKey}</Key></Error>`
    return new Response(body, { status: 403, headers: { 'content-type': 'application/xml' } })
  }
}

async function failure(p: Promise<unknown>): Promise<Error> {
  const outcome = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(outcome, 'the call succeeded although the presigned URL answered 403').toBeInstanceOf(Error)
  return outcome as Error
}

function expectRedacted(error: Error, apiKey: string): void {
  expect(isAgbError(error, 'unauthorized'), String(error)).toBe(true)
  expect(error.message).toContain('HTTP 403')
  expect(error.message).toContain('[redacted]')
  for (const shown of [error.message, String(error.stack), inspect(error, { depth: 5 }), JSON.stringify(error)]) {
    expect(shown).not.toContain(apiKey)
    for (const url of presigned) expect(shown).not.toContain(url.searchParams.get('X-Amz-Signature')!)
  }
}

describe('errors from presigned URLs', () => {
  it('uploadFile: the echoed API key and the URL signature stay out of the error', async () => {
    h = await startLocal('inject')
    presigned.length = 0
    const client = createClient({ apiKey: h.local.apiKey, endpoint: h.url, fetch: echoingStorage(h) })
    const session = await createSession(client, { imageId: IMAGE })
    const error = await failure(uploadFile(client, session, '/tmp/up.txt', 'data', { pollInterval: 20 }))
    expect(presigned.length).toBeGreaterThan(0)
    expectRedacted(error, h.local.apiKey)
  })

  it('downloadFile: the echoed API key and the URL signature stay out of the error', async () => {
    h = await startLocal('inject')
    presigned.length = 0
    const client = createClient({ apiKey: h.local.apiKey, endpoint: h.url, fetch: echoingStorage(h) })
    const session = await createSession(client, { imageId: IMAGE })
    await writeFile(client, session, '/tmp/down.txt', 'data')
    const error = await failure(downloadFile(client, session, '/tmp/down.txt', { pollInterval: 20 }))
    expect(presigned.length).toBeGreaterThan(0)
    expectRedacted(error, h.local.apiKey)
  })
})
