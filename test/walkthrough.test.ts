import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { govmesh, waitFor } from './helpers/cluster.js'
import { killMentioning, processesMentioning, runScript } from './helpers/procs.js'

const SCRIPT = new URL('../testnet/walkthrough.sh', import.meta.url).pathname
const README = new URL('../README.md', import.meta.url).pathname
const REPO = new URL('..', import.meta.url).pathname

describe('README walk-through', () => {
  const root = mkdtempSync(join(tmpdir(), 'govmesh-walkthrough-'))
  const dir = join(root, '.testnet')
  afterAll(async () => {
    await govmesh(['testnet', 'down', '--dir', dir])
    killMentioning(root)
    rmSync(root, { recursive: true, force: true })
  })

  it('the README quotes testnet/walkthrough.sh verbatim', () => {
    const script = readFileSync(SCRIPT, 'utf8')
    const body = script.slice(script.indexOf('DIR="${DIR:-.testnet}"')).trimEnd()
    expect(body.split('\n').length).toBeGreaterThan(20)
    expect(readFileSync(README, 'utf8')).toContain(body)
  })

  it('runs as pasted, with `npx govmesh`; a resumed testnet is all trusted; nothing is left running', async () => {
    const up = await govmesh(['testnet', 'up', '--nodes', '5', '--dir', dir, '--detach'])
    expect(up.code, up.stderr).toBe(0)
    // GOVMESH unset: the script runs `npx govmesh` from the repository root, exactly as the README says.
    const out = await runScript(SCRIPT, { DIR: dir, GOVMESH: undefined }, REPO, 840_000)
    expect(out.code, out.text.slice(-3000)).toBe(0)
    expect(out.text).toMatch(/"ok": true/)
    // Step 2 names no route: node1 planned one through zone b to zone c (two PeerIds after node1).
    expect(out.text).toMatch(/"route": \[\s*"12D3\w+",\s*"12D3\w+"\s*\]/)
    expect(out.text).toMatch(/refused: policy\.denied/)
    expect(out.text).toMatch(/refused: trust\.quarantined/)
    expect(out.text.match(/refused with exit code 3/g)).toHaveLength(2)
    expect(out.text).toMatch(/node5 restarted with its real measurement/)
    expect(out.text).toMatch(/restored with 1\/1 governor approvals/)
    expect(out.text).toMatch(/VALID proof of/)
    expect(out.text).toMatch(/zone:\s+c/)
    // Step 8: the dry run names the deny rule, the diff adds it, the replay lists the demo executions it flips.
    expect(out.text).toMatch(/deny\s+policy\.denied\s+no-demo/)
    expect(out.text).toMatch(/\+ rule no-demo/)
    expect(out.text).toMatch(/recorded request\(s\) replayed; [1-9]\d* verdict\(s\) change/)
    // Step 9: the second removal approval completes the 2-of-2 quorum.
    expect(out.text).toMatch(/approval recorded \(1\/2\)/)
    expect(out.text).toMatch(/governor\.remove of 12D3\w+ bafy\w+ applied with 2\/2 governor approvals/)
    // The extra node, started as `npx govmesh start … &` and stopped with `kill $!`, is gone.
    await waitFor('the extra node to exit', () => processesMentioning(join(dir, 'extra')).length === 0, 15_000, 200)
    // The README's resume: node5 runs allowed code again and was restored, so every node is trusted.
    const resume = await govmesh(['testnet', 'up', '--dir', dir, '--detach', '--timeout', '60'])
    expect(resume.code, resume.stderr).toBe(0)
    const down = await govmesh(['testnet', 'down', '--dir', dir])
    expect(down.code, down.stderr).toBe(0)
    await waitFor('no process of the walk-through', () => processesMentioning(root).length === 0, 15_000, 200)
  }, 900_000)
})
