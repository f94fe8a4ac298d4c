/** What is wrong with labels (non-blank string keys and values, as both official SDKs check), or `undefined`. */
export function labelsProblem(labels: unknown): string | undefined {
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) return 'labels must be an object of strings'
  for (const [k, x] of Object.entries(labels)) {
    if (!k.trim()) return 'label keys must not be blank'
    if (typeof x !== 'string' || !x.trim()) return `label ${k} must be a non-blank string`
  }
  return undefined
}
