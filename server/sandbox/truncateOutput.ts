/** The longest prefix of `buf` of at most `max` bytes that does not cut a UTF-8 character. */
export function utf8Prefix(buf: Buffer, max: number): Buffer {
  if (buf.length <= max) return buf
  let end = Math.max(0, max)
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end-- // buf[end] continues a character: cut before its lead byte
  return buf.subarray(0, end)
}

/** The marker line appended to output cut by a size cap. */
export function truncationMarker(kept: string, droppedBytes: number): string {
  return `${kept && !kept.endsWith('\n') ? '\n' : ''}…[truncated ${droppedBytes} bytes]\n`
}

/**
 * Cuts `text` to `max` UTF-8 bytes (at a character boundary) and appends the
 * `…[truncated N bytes]` marker line; shorter text is returned unchanged.
 */
export function truncateOutput(text: string, max: number): string {
  const buf = Buffer.from(text, 'utf8')
  if (buf.length <= max) return text
  const kept = utf8Prefix(buf, max).toString('utf8')
  return kept + truncationMarker(kept, buf.length - Buffer.byteLength(kept))
}
