/**
 * Compiles a glob to a RegExp over `/`-separated paths: `*` (not `/`), `**` (anything,
 * including `/`; `**\/` also matches nothing), `?`, `[abc]`/`[!abc]`, `{a,b}`.
 */
export function globToRegExp(glob: string, flags = ''): RegExp {
  let re = ''
  let braces = 0
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i++
        if (glob[i + 1] === '/') {
          i++
          re += '(?:.*/)?'
        } else re += '.*'
      } else re += '[^/]*'
    } else if (c === '?') re += '[^/]'
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2)
      if (end < 0) re += '\\['
      else {
        let set = glob.slice(i + 1, end).replace(/\\/g, '\\\\')
        if (set.startsWith('!')) set = '^' + set.slice(1)
        re += `[${set}]`
        i = end
      }
    } else if (c === '{') {
      braces++
      re += '(?:'
    } else if (c === '}' && braces > 0) {
      braces--
      re += ')'
    } else if (c === ',' && braces > 0) re += '|'
    else re += c.replace(/[.+^$()|\\\]{}]/g, '\\$&')
  }
  return new RegExp(`^${re}${')'.repeat(braces)}$`, flags)
}
