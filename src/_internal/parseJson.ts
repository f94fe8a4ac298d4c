/** `JSON.parse`, or `undefined` when `text` is not JSON (service texts may be either). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {}
}
