import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { createProgram } from '../src/program.js'
import { allCommands, commandPath } from '../src/help.js'

const run = promisify(execFile)
const BIN = new URL('../bin/govmesh.js', import.meta.url).pathname
const home = mkdtempSync(join(tmpdir(), 'govmesh-home-'))
afterAll(() => { rmSync(home, { recursive: true, force: true }) })

async function govmesh (
  args: string[], env: Record<string, string> = {}
): Promise<{ code: number, stdout: string, stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number, stdout: string, stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

describe('the govmesh command surface', () => {
  it('every command\'s --help shows an example, and marks each required flag', async () => {
    const program = await createProgram()
    for (const cmd of allCommands(program)) {
      const help = cmd.helpInformation()
      let text = ''
      cmd.configureOutput({ writeOut: (s) => { text += s } })
      cmd.outputHelp()
      expect(text, commandPath(cmd)).toMatch(/\nExample:\n {2}\$ govmesh /)
      for (const opt of cmd.options.filter(o => o.mandatory)) {
        // The option's entry runs from its flags to the next option's line (descriptions wrap).
        const rest = help.slice(help.indexOf(`  ${opt.flags}`))
        const entry = rest.slice(0, rest.slice(1).search(/\n {2}-/) + 1)
        expect(entry.replace(/\s+/g, ' '), `${commandPath(cmd)} ${opt.flags}`).toContain('(required')
      }
    }
  })

  it('version --json: version, commit, measurement, Node and libp2p versions', async () => {
    const r = await govmesh(['version', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const v = JSON.parse(r.stdout) as Record<string, string | null>
    expect(v.version).toMatch(/^\d+\.\d+\.\d+/)
    expect(v.commit).toMatch(/^[0-9a-f]{40}(-dirty)?$/) // the tests run in a checkout
    expect(v.measurement).toMatch(/^[0-9a-f]{64}$/)
    expect(v.node).toBe(process.versions.node)
    expect(v.libp2p).toMatch(/^2\.\d+\.\d+/)
    expect((await govmesh(['--version'])).stdout.trim()).toBe(v.version)
  })

  it('completion bash completes subcommands and flags in a real bash', async () => {
    const r = await govmesh(['completion', 'bash'])
    expect(r.code).toBe(0)
    const complete = async (line: string): Promise<string[]> => {
      const words = line.split(' ')
      const script = `${r.stdout}\nCOMP_WORDS=(${words.map(w => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _govmesh; printf '%s\\n' "\${COMPREPLY[@]}"`
      const { stdout } = await run('bash', ['-c', script])
      return stdout.trim().split('\n')
    }
    expect(await complete('govmesh test')).toEqual(['testnet'])
    expect(await complete('govmesh testnet ta')).toEqual(['tamper'])
    expect(await complete('govmesh testnet tamper --un')).toEqual(['--undo'])
    const zsh = await govmesh(['completion', 'zsh'])
    expect(zsh.stdout).toMatch(/bashcompinit/)
    const bad = await govmesh(['completion', 'fish'])
    expect(bad.code).toBe(2)
  }, 60_000)

  it('GOVMESH_HOME is the default data dir; --data-dir overrides it', async () => {
    const dir = join(home, 'node')
    const init = await govmesh(['init', '--json'], { GOVMESH_HOME: dir })
    expect(init.code, init.stderr).toBe(0)
    expect((JSON.parse(init.stdout) as { dataDir: string }).dataDir).toBe(dir)
    // A client command finds the (stopped) node there, and says so.
    const s = await govmesh(['status'], { GOVMESH_HOME: dir })
    expect(s.code).toBe(1)
    expect(s.stderr).toContain(`the node of ${dir} is not running`)
    const other = join(home, 'other')
    const o = await govmesh(['status', '--data-dir', other], { GOVMESH_HOME: dir })
    expect(o.stderr).toContain(`no node data dir at ${other}`)
    const none = await govmesh(['init'], { GOVMESH_HOME: '' })
    expect(none.code).toBe(2)
    expect(none.stderr).toMatch(/--data-dir <dir>' not specified \(or set GOVMESH_HOME\)/)
  }, 120_000)
})
