/** A required non-empty string argument. @throws Error naming the argument */
export function stringArg(args: Record<string, unknown>, name: string): string {
  const value = args[name]
  if (typeof value !== 'string' || !value) throw new Error(`${name} must be a non-empty string`)
  return value
}

/** An optional non-negative integer argument (numbers or numeric strings). @throws Error naming the argument */
export function countArg(args: Record<string, unknown>, name: string, fallback: number): number {
  const value = args[name]
  if (value === undefined || value === null || value === '') return fallback
  const n = typeof value === 'number' ? value : Number(value)
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer`)
  return n
}
