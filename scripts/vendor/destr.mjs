// `destr` as ofetch uses it (parsing `responseType: 'json'` bodies): JSON when it parses,
// the text otherwise, and no prototype pollution. agb-micro reads bodies as text itself.
const unsafe = (key) => key === '__proto__' || key === 'constructor' || key === 'prototype'

export default function destr(value) {
  if (typeof value !== 'string') return value
  try {
    return JSON.parse(value, (key, item) => (unsafe(key) ? undefined : item))
  } catch {
    return value
  }
}
