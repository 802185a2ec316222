import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { BIN, waitFor } from './helpers/cluster.js'
import { killMentioning, processesMentioning, runScript } from './helpers/procs.js'

const SCRIPT = new URL('../testnet/by-hand.sh', import.meta.url).pathname
const README = new URL('../README.md', import.meta.url).pathname
const REPO = new URL('..', import.meta.url).pathname

describe('README: a three-node mesh by hand', () => {
  const root = mkdtempSync(join(tmpdir(), 'govmesh-by-hand-'))
  const gm = join(root, 'gm')
  afterAll(() => {
    killMentioning(root)
    rmSync(root, { recursive: true, force: true })
  })

  it('the README quotes testnet/by-hand.sh verbatim', () => {
    const script = readFileSync(SCRIPT, 'utf8')
    const body = script.slice(script.indexOf('GM="${GM:-/tmp/gm}"')).trimEnd()
    expect(body.split('\n').length).toBeGreaterThan(30)
    expect(readFileSync(README, 'utf8')).toContain(body)
  })

  it('runs as pasted into a fresh shell: a policy change converges and is enforced; nothing is left running', async () => {
    // The script's ~40 `npx govmesh` calls go straight to the launcher here: npm's start-up would
    // double the run time. Real `npx` (and `kill $!` through it) is what the walk-through test uses.
    const shim = join(root, 'bin')
    mkdirSync(shim)
    writeFileSync(
      join(shim, 'npx'),
      `#!/bin/sh\n[ "$1" = govmesh ] || { echo "this shim runs only npx govmesh" >&2; exit 127; }\nshift\nexec "${process.execPath}" "${BIN}" "$@"\n`
    )
    chmodSync(join(shim, 'npx'), 0o755)
    const out = await runScript(SCRIPT, { GM: gm, PATH: `${shim}:${process.env.PATH ?? ''}` }, REPO, 840_000)
    const logs = (): string => ['n1', 'n2', 'n3'].map(n => {
      try {
        return `${n}.log: ${readFileSync(join(gm, `${n}.log`), 'utf8').split('\n').slice(-6).join('\n')}`
      } catch { return '' }
    }).join('\n')
    expect(out.code, out.text.slice(-3000) + logs()).toBe(0)
    const digests = [...out.text.matchAll(/^n\d policy digest: ([0-9a-f]{64})$/gm)].map(m => m[1])
    expect(digests).toHaveLength(3)
    expect(new Set(digests).size).toBe(1)
    // The digest after the change differs from the genesis policy's (printed by `status` earlier).
    expect(out.text).toMatch(/policy digest: {2}[0-9a-f]{64}/)
    expect(out.text).not.toContain(`policy digest:  ${digests[0]!}`)
    expect(out.text).toMatch(/"hello": "mesh"|hello/)
    expect(out.text.match(/refused with exit code 3/g)).toHaveLength(2)
    expect(out.text).toMatch(/refused: policy\.denied[^\n]*\n?[^\n]*no-secrets|no-secrets/)
    expect(out.text).toMatch(/restored with 1\/1 governor approvals/)
    await waitFor('no process of the section', () => processesMentioning(root).length === 0, 15_000, 200)
  }, 900_000)
})
