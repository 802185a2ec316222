import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { CONSOLE_DIST_DIR } from '@govmesh/console'
import { decodeGenesisFile, generateKeyPair, toBase64, verifyProof } from '@govmesh/core'
import { readProofCar } from '@govmesh/node'
import { govmesh, MemberWriter, TestMesh, waitFor } from '../../test/helpers/cluster.js'
import type { Page } from 'playwright-core'
import { launchChromium } from '../../test/helpers/browser.js'

export interface ConsoleFigures {
  appPageGzipBytes: number
  proofPageGzipBytes: number
  members: number
  dashboardFirstRenderMs: number
  lineageEntries: number
  lineageDataMs: number
  lineageFirstRenderMs: number
  proofAncestry: number
  browserVerifyMs: number
  cliVerifyWallMs: number
  cliVerifyInProcessMs: number
  browserToCliRatio: number
}

/** When (ms from navigation) the page first set a performance mark: the console marks data arrival and paint. */
async function markAt (page: Page, name: string): Promise<number> {
  return await page.evaluate((n) => performance.getEntriesByName(n)[0]?.startTime ?? NaN, name)
}

const gz = (bytes: Uint8Array): number => gzipSync(bytes, { level: 9 }).length

/** Gzipped bytes a browser downloads per page: the app views share one HTML, JS and CSS; /proof is one file. */
function assetSizes (): { app: number, proof: number } {
  const dir = join(CONSOLE_DIST_DIR, 'assets')
  const assets = readdirSync(dir).map(f => readFileSync(join(dir, f)))
  const app = gz(readFileSync(join(CONSOLE_DIST_DIR, 'index.html'))) + assets.reduce((n, b) => n + gz(b), 0)
  return { app, proof: gz(readFileSync(join(CONSOLE_DIST_DIR, 'proof-viewer.html'))) }
}

/**
 * The console in headless Chromium against real node processes: first render of the dashboard
 * with 20 members (2 running nodes, 18 more members in the genesis) and of a 1,000-entry lineage
 * graph, and the proof viewer's verification of a 1,000-entry-ancestry proof against
 * `govmesh proof verify` on the same file.
 */
export async function benchConsole (members = 20, entries = 1000): Promise<ConsoleFigures> {
  const sizes = assetSizes()
  const mesh = new TestMesh()
  const writer = new MemberWriter(generateKeyPair())
  const extra = Array.from({ length: members - 3 }, () => ({ keys: generateKeyPair(), zone: 'b' }))
  const browser = await launchChromium()
  try {
    await mesh.create({ nodes: 2, zones: ['a', 'c'], extraMembers: [{ keys: writer.keys, zone: 'a' }, ...extra] })
    const [n1, n2] = mesh.nodes as [NonNullable<typeof mesh.nodes[0]>, NonNullable<typeof mesh.nodes[0]>]
    await mesh.start(n1)
    await mesh.start(n2, { bootstrap: [n1] })
    writer.open(mesh.genesisPath)
    const written = writer.next(entries)
    for (let i = 0; i < written.length; i += 100) {
      const r = await mesh.post(n1, '/v1/entries', { entries: written.slice(i, i + 100).map(e => toBase64(e.bytes)) })
      if (r.status !== 200) throw new Error(`writing entries: ${r.status} ${JSON.stringify(r.body)}`)
    }
    const last = written.at(-1)!.id

    const page = await browser.page()
    await page.goto(n1.api! + '/')
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=members] tbody tr').length === n &&
      performance.getEntriesByName('graph:painted').length > 0, members)
    const dashboardFirstRenderMs = await markAt(page, 'graph:painted')

    await page.goto(`${n1.api!}/lineage?cid=${last}&ancestry=${entries}`)
    const rendered = (): boolean => document.body.dataset.lineageRendered !== undefined
    await page.waitForFunction(rendered, undefined, { timeout: 120_000 })
    const lineageDataMs = await markAt(page, 'lineage:data')
    const lineageFirstRenderMs = await markAt(page, 'graph:painted')
    const lineageEntries = await page.evaluate(async (cid) => {
      const graph = await (await fetch(`/v1/lineage/graph/${cid}?ancestry=5000`)).json() as { nodes: unknown[] }
      return graph.nodes.length
    }, last)

    const car = new Uint8Array(await (await fetch(`${n1.api!}/v1/dag/export/${last}`)).arrayBuffer())
    const carPath = join(mesh.root, 'proof.car')
    writeFileSync(carPath, car)
    const viewer = join(mesh.root, 'viewer.html')
    writeFileSync(viewer, readFileSync(join(CONSOLE_DIST_DIR, 'proof-viewer.html')))
    await page.goto(`file://${viewer}`)
    await page.locator('input[name=genesis]').setInputFiles(mesh.genesisPath)
    await page.locator('input[name=car]').setInputFiles(carPath)
    await page.locator('[data-testid=verdict][data-valid=true]').waitFor({ timeout: 120_000 })
    const browserVerifyMs = Number(await page.locator('[data-testid=verify-ms]').textContent())

    const t0 = performance.now()
    const cli = await govmesh(['proof', 'verify', carPath, '--genesis', mesh.genesisPath, '--json'])
    const cliVerifyWallMs = performance.now() - t0
    if (cli.code !== 0) throw new Error(`govmesh proof verify failed: ${cli.stderr}`)
    const proofAncestry = (JSON.parse(cli.stdout) as { entries: number }).entries
    const t1 = performance.now()
    const { root, blocks } = await readProofCar(car)
    const genesis = decodeGenesisFile(readFileSync(mesh.genesisPath, 'utf8'))
    if (!verifyProof({ root, blocks, genesis }).valid) throw new Error('proof invalid')
    const cliVerifyInProcessMs = performance.now() - t1
    await waitFor('no console errors', () => browser.errors.length === 0 ? true : undefined, 1000).catch(() => {
      throw new Error(`console errors during the bench: ${browser.errors.join('; ')}`)
    })
    const round = (x: number): number => Number(x.toFixed(1))
    return {
      appPageGzipBytes: sizes.app,
      proofPageGzipBytes: sizes.proof,
      members,
      dashboardFirstRenderMs: round(dashboardFirstRenderMs),
      lineageEntries,
      lineageDataMs: round(lineageDataMs),
      lineageFirstRenderMs: round(lineageFirstRenderMs),
      proofAncestry,
      browserVerifyMs: round(browserVerifyMs),
      cliVerifyWallMs: round(cliVerifyWallMs),
      cliVerifyInProcessMs: round(cliVerifyInProcessMs),
      browserToCliRatio: Number((browserVerifyMs / cliVerifyWallMs).toFixed(2))
    }
  } finally {
    await browser.close()
    await mesh.cleanup()
  }
}
