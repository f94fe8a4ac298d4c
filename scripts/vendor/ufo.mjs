// The two `ufo` functions ofetch imports, on web-standard URL APIs. ufo's whole encoder
// (~1 KB gz) is otherwise bundled into every consumer; agb-micro builds its own URLs and
// never passes `baseURL`, but `query` still goes through here.

/** `input` with `query` merged into its search string; an `undefined` value removes the key. */
export function withQuery(input, query) {
  const hash = input.indexOf('#')
  const base = hash < 0 ? input : input.slice(0, hash)
  const mark = base.indexOf('?')
  const params = new URLSearchParams(mark < 0 ? '' : base.slice(mark + 1))
  for (const [key, value] of Object.entries(query)) {
    params.delete(key)
    if (value === undefined) continue
    for (const item of Array.isArray(value) ? value : [value]) {
      params.append(key, typeof item === 'object' && item !== null ? JSON.stringify(item) : String(item))
    }
  }
  const search = params.toString()
  return (mark < 0 ? base : base.slice(0, mark)) + (search ? `?${search}` : '') + (hash < 0 ? '' : input.slice(hash))
}

/** `input` resolved under `base` unless it is absolute or already under it. */
export function withBase(input, base) {
  if (!base || base === '/' || /^[a-z][a-z\d+\-.]*:/i.test(input)) return input
  const root = base.replace(/\/+$/, '')
  if (input === root || input.startsWith(`${root}/`)) return input
  return `${root}/${input.replace(/^\/+/, '')}`
}
