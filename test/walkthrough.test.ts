import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { BIN, govmesh } from './helpers/cluster.js'

const SCRIPT = new URL('../testnet/walkthrough.sh', import.meta.url).pathname
const README = new URL('../README.md', import.meta.url).pathname

describe('README walk-through', () => {
  const root = mkdtempSync(join(tmpdir(), 'govmesh-walkthrough-'))
  const dir = join(root, '.testnet')
  afterAll(async () => {
    await govmesh(['testnet', 'down', '--dir', dir])
    // The walk-through's extra node is not part of the testnet's pid files.
    try { process.kill(Number(readFileSync(join(dir, 'extra.pid'), 'utf8')), 'SIGKILL') } catch { /* already gone */ }
    rmSync(root, { recursive: true, force: true })
  })

  it('the README quotes testnet/walkthrough.sh verbatim', () => {
    const script = readFileSync(SCRIPT, 'utf8')
    const body = script.slice(script.indexOf('DIR="${DIR:-.testnet}"')).trimEnd()
    expect(body.split('\n').length).toBeGreaterThan(20)
    expect(readFileSync(README, 'utf8')).toContain(body)
  })

  it('runs line by line against a real testnet', async () => {
    const up = await govmesh(['testnet', 'up', '--nodes', '5', '--dir', dir, '--detach'])
    expect(up.code, up.stderr).toBe(0)
    const out = await new Promise<{ code: number | null, text: string }>((resolve) => {
      const child = spawn('bash', [SCRIPT], { env: { ...process.env, DIR: dir, GOVMESH: `${process.execPath} ${BIN}` }, cwd: root })
      let text = ''
      child.stdout.on('data', (d: Buffer) => { text += d.toString() })
      child.stderr.on('data', (d: Buffer) => { text += d.toString() })
      const timer = setTimeout(() => { child.kill('SIGKILL') }, 150_000)
      child.on('close', (code) => { clearTimeout(timer); resolve({ code, text }) })
    })
    expect(out.code, out.text.slice(-3000)).toBe(0)
    expect(out.text).toMatch(/"ok": true/)
    // Step 2 names no route: node1 planned one through zone b to zone c (two PeerIds after node1).
    expect(out.text).toMatch(/"route": \[\s*"12D3\w+",\s*"12D3\w+"\s*\]/)
    expect(out.text).toMatch(/refused: policy\.denied/)
    expect(out.text).toMatch(/refused: trust\.quarantined/)
    expect(out.text.match(/refused with exit code 3/g)).toHaveLength(2)
    expect(out.text).toMatch(/restored with 1\/1 governor approvals/)
    expect(out.text).toMatch(/VALID proof of/)
    expect(out.text).toMatch(/zone:\s+c/)
  }, 240_000)
})
