import { AgbError } from '../errors.ts'

/** Decodes base64 with `atob` (every runtime has it, and it rejects a malformed alphabet). */
export function fromBase64(text: string, what: string): Uint8Array {
  try {
    return Uint8Array.from(atob(text.replace(/\s+/g, '')), (c) => c.charCodeAt(0))
  } catch {
    throw new AgbError('invalid_response', `${what}: the service returned malformed base64`)
  }
}

/** Encodes bytes as base64, in slices so large inputs do not overflow the call stack. */
export function toBase64(bytes: Uint8Array): string {
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(binary)
}
