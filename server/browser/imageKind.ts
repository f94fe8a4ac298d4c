/**
 * The image ids the service documents. AGB Local accepts all of them (plus the ids given with
 * the `images` option): every image gets the same sandbox (code, shell, files); browser-use
 * images also get a real headless Chromium.
 */
export const DOCUMENTED_IMAGES: readonly string[] = ['agb-code-space-1', 'agb-code-space-2', 'agb-browser-use-1', 'agb-computer-use-ubuntu-2204']

/** What an image offers beyond the sandbox every session has. */
export type ImageKind = 'code' | 'browser' | 'computer'

/**
 * The kind of an image, from its id: ids containing `browser` are browser-use images (a
 * Chromium driven over CDP), ids containing `computer` are computer-use images (whose desktop
 * AGB Local does not have), everything else is a code-space image. Custom ids given with the
 * `images` option follow the same rule, so `my-browser-use-2` gets a browser.
 */
export function imageKind(imageId: string): ImageKind {
  if (/browser/i.test(imageId)) return 'browser'
  if (/computer/i.test(imageId)) return 'computer'
  return 'code'
}
