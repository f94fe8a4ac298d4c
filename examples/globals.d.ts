// Just enough of the Deno and Bun globals for `tsc -p tsconfig.node.json` to type-check
// examples/deno.ts and examples/bun.ts under Node's types. Deno and Bun bring their own real
// declarations (and never load this file).
declare namespace Deno {
  const env: { toObject(): Record<string, string>; get(name: string): string | undefined }
  const version: { deno: string }
}
declare namespace Bun {
  const env: Record<string, string | undefined>
  const version: string
}
