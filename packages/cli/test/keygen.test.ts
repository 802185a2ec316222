import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { decodeKeyFile, peerIdFromPublicKey, toHex } from '@govmesh/core'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { privateKeyFromRaw } from '@libp2p/crypto/keys'

const run = promisify(execFile)
const BIN = new URL('../bin/govmesh.js', import.meta.url).pathname
const dir = mkdtempSync(join(tmpdir(), 'govmesh-keygen-'))
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

async function govmesh (...args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args])
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number, stdout: string, stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

describe('govmesh keygen', () => {
  it('creates missing parent directories, private to the owner (mode 0700)', async () => {
    const out = join(dir, 'fresh', 'deeper', 'governor.key')
    const res = await govmesh('keygen', '--out', out)
    expect(res.code, res.stderr).toBe(0)
    expect(statSync(out).mode & 0o777).toBe(0o600)
    expect(statSync(join(dir, 'fresh')).mode & 0o777).toBe(0o700)
    expect(statSync(join(dir, 'fresh', 'deeper')).mode & 0o777).toBe(0o700)
  })

  it('writes a 0600 key file and prints its public key and PeerId as JSON', async () => {
    const out = join(dir, 'node.key')
    const res = await govmesh('keygen', '--out', out, '--json')
    expect(res.code).toBe(0)
    const printed = JSON.parse(res.stdout) as { publicKey: string, peerId: string }
    expect(statSync(out).mode & 0o777).toBe(0o600)
    const keys = decodeKeyFile(readFileSync(out, 'utf8'))
    expect(printed.publicKey).toBe(toHex(keys.publicKey))
    expect(printed.peerId).toBe(peerIdFromPublicKey(keys.publicKey))
    // libp2p derives the same PeerId from the same Ed25519 key (raw = seed || public key).
    const raw = new Uint8Array([...keys.secretKey, ...keys.publicKey])
    expect(peerIdFromPrivateKey(privateKeyFromRaw(raw)).toString()).toBe(printed.peerId)
  })

  it('refuses to overwrite without --force, and overwrites with it', async () => {
    const out = join(dir, 'existing.key')
    writeFileSync(out, 'keep me')
    const refused = await govmesh('keygen', '--out', out)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/exists; pass --force/)
    expect(readFileSync(out, 'utf8')).toBe('keep me')
    const forced = await govmesh('keygen', '--out', out, '--force')
    expect(forced.code).toBe(0)
    expect(forced.stdout).toMatch(/peer id:\s+12D3KooW/)
    expect(statSync(out).mode & 0o777).toBe(0o600)
  })

  it('prints help with exit 0 and rejects unknown commands with exit 2', async () => {
    const help = await govmesh('--help')
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/keygen/)
    const bad = await govmesh('frobnicate')
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/unknown command/)
  })
})
