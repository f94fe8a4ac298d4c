import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAgbLocal } from '../../server/index.ts'
import { localClient } from './localClient.ts'

// Rich outputs of the python kernel, as a notebook shows them: IPython display objects (the
// real IPython when the sandbox's python has it, else the kernel's look-alike), the _repr_*_
// protocol and matplotlib figures (CI installs Debian's python3-matplotlib). Asserted on the
// run_code wire format (result items keyed by MIME type), which every SDK decodes.
const local = createAgbLocal()
const api = localClient(local)
let id: string
beforeAll(async () => {
  id = await api.createSession()
})
afterAll(() => local.close())

type Item = Record<string, any>
const run = async (code: string): Promise<Item & { results: Item[]; stdout: string; stderr: string }> => {
  const doc = await api.runCode(id, code, 'python', 60)
  return { ...doc, results: doc.result as Item[], stdout: (doc.stdout as string[]).join(''), stderr: (doc.stderr as string[]).join('') }
}
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]
// A 1x1 PNG, for Image(bytes).
const TINY_PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=='

/** Decodes a base64 PNG and checks it is one: signature, then the IHDR chunk's width and height. */
function png(base64: string | undefined): { bytes: Uint8Array; width: number; height: number } {
  expect(typeof base64).toBe('string')
  const bytes = Uint8Array.from(atob(base64!), (c) => c.charCodeAt(0))
  expect([...bytes.slice(0, 8)]).toEqual(PNG_SIGNATURE)
  const view = new DataView(bytes.buffer)
  expect(new TextDecoder().decode(bytes.slice(12, 16))).toBe('IHDR')
  return { bytes, width: view.getUint32(16), height: view.getUint32(20) }
}

describe('python rich outputs', () => {
  it('returns each IPython display object of one cell as a result of its MIME type, in order', async () => {
    const r = await run(
      [
        'from IPython.display import display, HTML, Markdown, SVG, Latex, Image, JSON',
        'import base64',
        "print('before')",
        "display(HTML('<b>bold</b>'), Markdown('# Title'))",
        `display(SVG('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>'), Latex('$x^2$'))`,
        "display(JSON({'a': [1, 2]}), Image(base64.b64decode('" + TINY_PNG + "')))",
        "print('after')",
      ].join('\n'),
    )
    expect(r.executionError).toBeUndefined()
    expect(r.stdout).toBe('before\nafter\n')
    expect(r.results).toEqual([
      { 'text/html': '<b>bold</b>', 'text/plain': '<IPython.core.display.HTML object>', isMainResult: false },
      { 'text/markdown': '# Title', 'text/plain': '<IPython.core.display.Markdown object>', isMainResult: false },
      // The XML prolog is dropped, as IPython's SVG does.
      { 'image/svg+xml': '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>', 'text/plain': '<IPython.core.display.SVG object>', isMainResult: false },
      { 'text/latex': '$x^2$', 'text/plain': '<IPython.core.display.Latex object>', isMainResult: false },
      { 'application/json': { a: [1, 2] }, 'text/plain': '<IPython.core.display.JSON object>', isMainResult: false },
      { 'image/png': TINY_PNG, 'text/plain': '<IPython.core.display.Image object>', isMainResult: false },
    ])
  })

  it('shows a display object as the main result when it is the last expression, and nothing after a semicolon', async () => {
    const shown = await run("from IPython.display import HTML\nHTML('<i>main</i>')")
    expect(shown.results).toEqual([{ 'text/html': '<i>main</i>', 'text/plain': '<IPython.core.display.HTML object>', isMainResult: true }])
    const muted = await run("HTML('<i>main</i>');  # muted")
    expect(muted.results).toEqual([])
  })

  it('honours _repr_mimebundle_ first and the _repr_*_ methods for the formats it leaves out', async () => {
    const r = await run(
      [
        'class Chart:',
        '    def _repr_mimebundle_(self, include=None, exclude=None):',
        "        return {'text/html': '<div>from bundle</div>', 'application/vnd.vegalite.v5+json': {'mark': 'bar'}}",
        "    def _repr_html_(self): return '<div>from repr_html</div>'",
        "    def _repr_markdown_(self): return '*md*'",
        "    def __repr__(self): return 'Chart()'",
        'Chart()',
      ].join('\n'),
    )
    expect(r.results).toEqual([
      { 'text/html': '<div>from bundle</div>', 'application/vnd.vegalite.v5+json': { mark: 'bar' }, 'text/markdown': '*md*', 'text/plain': 'Chart()', isMainResult: true },
    ])
  })

  it('honours _repr_html_, _repr_svg_, _repr_latex_, _repr_json_ and _repr_png_ (bytes as base64) through display()', async () => {
    const r = await run(
      [
        'import base64',
        'class Rich:',
        "    def _repr_html_(self): return '<p>h</p>'",
        "    def _repr_svg_(self): return '<svg/>'",
        "    def _repr_latex_(self): return r'$\\alpha$'",
        "    def _repr_json_(self): return {'k': 1}",
        `    def _repr_png_(self): return base64.b64decode('${TINY_PNG}')`,
        "    def __repr__(self): return 'Rich()'",
        'display(Rich())',
      ].join('\n'),
    )
    expect(r.results).toEqual([
      { 'text/html': '<p>h</p>', 'image/svg+xml': '<svg/>', 'text/latex': '$\\alpha$', 'application/json': { k: 1 }, 'image/png': TINY_PNG, 'text/plain': 'Rich()', isMainResult: false },
    ])
  })

  it('keeps the other formats when one _repr_*_ method raises, and prints its traceback to stderr', async () => {
    const r = await run("class Half:\n    def _repr_html_(self): raise ValueError('no html')\n    def _repr_markdown_(self): return 'md'\n    def __repr__(self): return 'Half()'\nHalf()")
    expect(r.executionError).toBeUndefined()
    expect(r.results).toEqual([{ 'text/markdown': 'md', 'text/plain': 'Half()', isMainResult: true }])
    expect(r.stderr).toContain('ValueError: no html')
  })

  it('turns a matplotlib figure left open at the end of a cell into an image/png result', async () => {
    const r = await run("import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.title('left open')\nprint('plotted')")
    expect(r.executionError).toBeUndefined()
    expect(r.stdout).toBe('plotted\n')
    expect(r.results).toHaveLength(1)
    expect(r.results[0]).toMatchObject({ isMainResult: false, 'text/plain': expect.stringMatching(/^<Figure size \d+x\d+ with 1 Axes>$/) })
    const image = png(r.results[0]!['image/png'])
    // A real rendering, not a placeholder: a few kB and hundreds of pixels.
    expect(image.bytes.length).toBeGreaterThan(5000)
    expect(image.width).toBeGreaterThan(200)
    expect(image.height).toBeGreaterThan(150)
  })

  it('shows figures at plt.show() and closes them: two figures give two images, a later cell shows none', async () => {
    const r = await run("import matplotlib.pyplot as plt\nplt.bar([1, 2], [3, 4])\nplt.show()\nplt.figure()\nplt.scatter([1], [1])\nplt.show()\n'done'")
    expect(r.results.map((x) => (x['image/png'] ? 'png' : x['text/plain']))).toEqual(['png', 'png', "'done'"])
    for (const x of r.results.slice(0, 2)) png(x['image/png'])
    const later = await run('import matplotlib.pyplot as plt\nlen(plt.get_fignums())')
    expect(later.results).toEqual([{ 'text/plain': '0', isMainResult: true }])
  })

  it('shows a figure returned as the last expression once', async () => {
    const r = await run('import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.plot([0, 1])\nfig')
    expect(r.results).toHaveLength(1)
    expect(r.results[0]!.isMainResult).toBe(true)
    png(r.results[0]!['image/png'])
  })

  it('still shows the figures of a cell that raised', async () => {
    const r = await run("import matplotlib.pyplot as plt\nplt.plot([1, 2])\nraise RuntimeError('after plotting')")
    expect(r.executionError).toBe('RuntimeError: after plotting')
    expect(r.results).toHaveLength(1)
    png(r.results[0]!['image/png'])
  })

  it('drops a MIME value that is not JSON data instead of failing the cell', async () => {
    const r = await run("class Odd:\n    def _repr_json_(self): return {'s': {1, 2}}\n    def __repr__(self): return 'Odd()'\nOdd()")
    expect(r.executionError).toBeUndefined()
    expect(r.results).toEqual([{ 'text/plain': 'Odd()', isMainResult: true }])
    expect(r.stderr).toContain('application/json')
    // The kernel survived.
    expect((await run('1 + 1')).results).toEqual([{ 'text/plain': '2', isMainResult: true }])
  })

  it('orders the figure after the main result when it is shown at the end of the cell', async () => {
    const r = await run("from IPython.display import display, HTML\nimport matplotlib.pyplot as plt\ndisplay(HTML('<b>x</b>'))\nplt.plot([1])\n7")
    expect(r.results.map((x) => Object.keys(x).sort())).toEqual([
      ['isMainResult', 'text/html', 'text/plain'],
      ['isMainResult', 'text/plain'],
      ['image/png', 'isMainResult', 'text/plain'],
    ])
    expect(r.results[1]).toEqual({ 'text/plain': '7', isMainResult: true })
  })
})

describe('python notebook lines', () => {
  it('runs !cmd and %pip lines in a shell and treats %matplotlib as a no-op, keeping line numbers', async () => {
    const r = await run('%matplotlib inline\nimport matplotlib.pyplot as plt\n!echo from-shell\nif True:\n    !echo indented\n%pip --version\nplt.plot([1])\n1 / 0')
    expect(r.stdout).toMatch(/^from-shell\nindented\npip [\d.]+ from .*\n$/)
    expect(r.results).toHaveLength(1)
    png(r.results[0]!['image/png'])
    expect(r.executionError).toBe('ZeroDivisionError: division by zero')
    expect(r.stderr).toContain('File "<cell-')
    expect(r.stderr).toMatch(/line 8, in <module>\n {4}1 \/ 0/)
  })

  it('answers another magic with a UsageError, as IPython does for an unknown one', async () => {
    const r = await run('%timeit sum(range(10))')
    expect(r.executionError).toMatch(/^UsageError: Line magic function `%timeit` not found/)
    expect(r.stderr).toMatch(/^UsageError: Line magic function `%timeit` not found.*\n$/)
  })

  it('never rewrites a cell that is valid Python, even with % or ! at the start of a line', async () => {
    const r = await run('s = """\n!not a command\n%not a magic\n"""\ns.split("\\n")[1:3]')
    expect(r.results).toEqual([{ 'text/plain': "['!not a command', '%not a magic']", isMainResult: true }])
    expect(r.stdout).toBe('')
  })
})
