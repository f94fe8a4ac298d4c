// readFile reads large files in 50 KiB (51,200-byte) chunks; the README promises UTF-8 is
// "decoded correctly across 50 KiB chunks". The text here is built so that characters of 2, 3
// and 4 bytes STRADDLE the chunk boundaries (the test checks it does), which a per-chunk
// decode would turn into U+FFFD replacement characters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exec, readFile, type Session } from '../../src/index.ts'
import { closeLocalSession, openLocalSession, type LocalHarness } from '../helpers/local.ts'

const CHUNK = 51_200
// 1 + 2 + 3 + 4 = 10 bytes per unit, 1 ASCII byte in front: boundaries fall at every offset
// inside a unit in turn, so each kind of multi-byte character gets cut somewhere.
const UNIT = 'aé€𝄞'
const TEXT = `#${UNIT.repeat(16_000)}` // 160,001 bytes: 4 chunks
const bytes = new TextEncoder().encode(TEXT)

/** Byte offsets of the chunk boundaries that cut a character in two (a continuation byte starts the next chunk). */
const cutBoundaries = () => {
  const cuts: number[] = []
  for (let at = CHUNK; at < bytes.length; at += CHUNK) if ((bytes[at]! & 0xc0) === 0x80) cuts.push(at)
  return cuts
}

let h: LocalHarness
let session: Session
beforeAll(async () => {
  ;({ h, session } = await openLocalSession('inject'))
  // Written by the sandbox's own python, not by the SDK under test.
  const py = `open('/tmp/utf8.txt', 'w', encoding='utf-8').write('#' + ${JSON.stringify(UNIT)} * 16000)`
  const wrote = await exec(h.client, session, `python3 -c ${JSON.stringify(py)}`)
  expect(wrote.exitCode, wrote.stderr).toBe(0)
})
afterAll(() => closeLocalSession(h, session))

describe('readFile across 50 KiB chunks', () => {
  it('the test text really has characters cut by the chunk boundaries', () => {
    expect(bytes.length).toBeGreaterThan(3 * CHUNK)
    expect(cutBoundaries().length).toBe(3)
  })

  it('decodes characters that straddle chunk boundaries', async () => {
    const text = await readFile(h.client, session, '/tmp/utf8.txt')
    expect(text.includes('\uFFFD')).toBe(false)
    expect(text.length).toBe(TEXT.length)
    expect(text === TEXT).toBe(true)
  })

  it('returns the exact bytes with format: bytes', async () => {
    const got = await readFile(h.client, session, '/tmp/utf8.txt', { format: 'bytes' })
    expect(got.length).toBe(bytes.length)
    expect(Buffer.from(got).equals(Buffer.from(bytes))).toBe(true)
  })
})
