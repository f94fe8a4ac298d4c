import { AgbError } from '../errors.ts'

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/** Decodes base64 with `atob` (every runtime has it), rejecting a malformed alphabet. */
export function fromBase64(text: string, what: string): Uint8Array {
  const clean = text.replace(/\s+/g, '')
  if (clean.length % 4 === 1 || !BASE64.test(clean)) throw new AgbError('invalid_response', `${what}: the service returned malformed base64`)
  let binary: string
  try {
    binary = atob(clean)
  } catch {
    throw new AgbError('invalid_response', `${what}: the service returned malformed base64`)
  }
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

/** Encodes bytes as base64, in slices so large inputs do not overflow the call stack. */
export function toBase64(bytes: Uint8Array): string {
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(binary)
}
