import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { decodeGenesisFile, verifyProof } from '@govmesh/core'
import { measureRuntime, readProofCar } from '@govmesh/node'
import { govmesh, TestMesh, waitFor, type NodeHandle } from './helpers/cluster.js'
import { launchChromium, outputDir, type BrowserHandle } from './helpers/browser.js'

// The web console in real Chromium against a real 3-node mesh: every view shows the mesh's data, changes arrive live
// over SSE, the lineage explorer draws a cross-node execution, and the proof viewer (served and standalone) verifies.
interface TrustView { peers: Array<{ peerId: string, status: string }> }

describe('web console in Chromium', () => {
  const mesh = new TestMesh()
  const shots = outputDir('console')
  let n1: NodeHandle, n2: NodeHandle, n3: NodeHandle
  let browser: BrowserHandle
  let resultCid = ''
  const demoPath = new URL('../testnet/policies/demo.json', import.meta.url)
  const demo = JSON.parse(readFileSync(demoPath, 'utf8')) as { rules: unknown[] }
  const timing = { heartbeatMs: 300, staleMs: 3000, driftGraceMs: 3000 }
  const policy = { ...demo, measurements: [measureRuntime()], timing }

  const shot = async (page: Page, name: string): Promise<void> => {
    await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true })
  }
  const rowStatus = (page: Page, peerId: string): Promise<string | null> =>
    page.locator(`[data-testid=members] tr[data-peer="${peerId}"]`).getAttribute('data-status')

  beforeAll(async () => {
    await mesh.create({ nodes: 3, zones: ['a', 'b', 'c'], policy })
    ;[n1, n2, n3] = mesh.nodes as [NodeHandle, NodeHandle, NodeHandle]
    await mesh.start(n1)
    await Promise.all([n2, n3].map(n => mesh.start(n, { bootstrap: [n1] })))
    const nodes = [n1, n2, n3]
    await waitFor('every node to trust every other', async () => {
      const views = await Promise.all(nodes.map(o => mesh.get<TrustView>(o, '/v1/trust')))
      const trusts = (t: TrustView, n: NodeHandle): boolean =>
        t.peers.find(p => p.peerId === n.peerId)?.status === 'trusted'
      return views.every((t, i) => nodes.every((n, j) => i === j || trusts(t, n)))
    }, 30_000)
    const request = { action: 'echo', resource: 'demo', target: 'zone:c', route: [n2.peerId], payload: { hi: 'mesh' } }
    const exec = await mesh.post(n1, '/v1/exec', request)
    expect(exec.body.ok, JSON.stringify(exec.body)).toBe(true)
    resultCid = exec.body.resultCid as string
    await mesh.waitConverged([n1, n2, n3])
    browser = await launchChromium()
  }, 90_000)
  afterAll(async () => {
    await browser?.close()
    await mesh.cleanup()
  })

  it('serves every view with the right content type, cache headers and CSP; assets are immutable', async () => {
    for (const path of ['/', '/governance', '/lineage', '/demo', '/proof']) {
      const res = await fetch(n2.api! + path)
      expect(res.status, path).toBe(200)
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
      expect(res.headers.get('cache-control')).toBe('no-cache')
      expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'/)
    }
    expect((await fetch(n2.api! + '/proof')).headers.get('content-security-policy')).toMatch(/connect-src 'none'/)
    const html = await (await fetch(n2.api! + '/')).text()
    const js = /src="(\/assets\/app-[^"]+\.js)"/.exec(html)?.[1]
    const css = /href="(\/assets\/app-[^"]+\.css)"/.exec(html)?.[1]
    for (const [path, type] of [[js, 'text/javascript; charset=utf-8'], [css, 'text/css; charset=utf-8']] as const) {
      const res = await fetch(n2.api! + path!)
      expect(res.headers.get('content-type')).toBe(type)
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    }
    expect((await fetch(n2.api! + '/assets/nope.js')).status).toBe(404)
  })

  it('the dashboard shows every member with its real trust, and a trust report appears live', async () => {
    const page = await browser.page()
    await page.goto(n1.api! + '/')
    await page.locator('[data-testid=members] tbody tr').nth(2).waitFor()
    expect(await page.locator('[data-testid=members] tbody tr').count()).toBe(3)
    for (const n of [n1, n2, n3]) expect(await rowStatus(page, n.peerId)).toBe('trusted')
    await expect.poll(() => page.locator('[data-testid=live]').textContent()).toBe('live')
    await page.locator('[data-testid=members] tr', { hasText: 'this node' }).waitFor()
    expect(await page.locator('[data-testid=rate-chart] canvas').count()).toBe(1)
    await shot(page, 'dashboard')

    // Reported at node 2; node 1's dashboard turns it red through the event stream, without a reload.
    const marker = await page.evaluate(() => { (window as unknown as { marker: number }).marker = 42; return 42 })
    const r = await mesh.post(n2, '/v1/trust/report', { peer: n3.peerId, reason: 'browser test report' })
    expect(r.status).toBe(200)
    await expect.poll(() => rowStatus(page, n3.peerId), { timeout: 10_000 }).toBe('quarantined')
    await page.getByText('browser test report').first().waitFor()
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(marker)
    await shot(page, 'dashboard-quarantined')
    await page.close()
  })

  it('governance shows the open failure and a policy change live; the demo restores as the governor', async () => {
    const page = await browser.page()
    await page.goto(n1.api! + '/governance#token=' + n1.token!)
    await page.locator('[data-testid=open-failures]').waitFor()
    const command = await page.locator('[data-testid=restore-command]').textContent()
    expect(command).toContain(`govmesh trust restore ${n3.peerId}`)
    expect(await page.locator('[data-testid=approvals]').textContent()).toBe('0 / 1')
    expect(await page.locator('[data-testid=policy-history] > li').count()).toBe(1)
    const digestBefore = await page.locator('[data-testid=policy-digest]').textContent()

    const file = join(mesh.root, 'policy-2.json')
    const rule = { id: 'status-any', effect: 'allow', principals: ['local'], actions: ['status'] }
    writeFileSync(file, JSON.stringify({ ...policy, rules: [...policy.rules, rule] }))
    const applied = await govmesh(['policy', 'apply', file, '--governor', mesh.governorKeyPath(), '--data-dir', n2.dir])
    expect(applied.code, applied.stderr).toBe(0)
    await expect.poll(() => page.locator('[data-testid=policy-history] > li').count(), { timeout: 10_000 }).toBe(2)
    expect(await page.locator('[data-testid=policy-digest]').textContent()).not.toBe(digestBefore)
    await page.locator('[data-testid=policy-history] details').first().locator('summary').click()
    await page.locator('.diff .add', { hasText: 'status-any' }).first().waitFor()
    await shot(page, 'governance')

    // The demo page restores node 3 with the governor key file, which never leaves the browser.
    await page.goto(n1.api! + '/demo')
    await page.locator('select[name=peer]').selectOption(n3.peerId)
    await expect.poll(() => page.locator('[data-testid=subject-status]').textContent()).toBe('quarantined')
    await page.locator('input[name=governor]').setInputFiles(mesh.governorKeyPath())
    await page.getByRole('button', { name: 'Approve restore' }).click()
    await page.getByText(/restored with 1\/1 approvals/).waitFor()
    const subjectStatus = page.locator('[data-testid=subject-status]')
    await expect.poll(() => subjectStatus.textContent(), { timeout: 10_000 }).toBe('trusted')

    // And an allowed execution submitted from the demo crosses the mesh live.
    await page.locator('select[name=via]').selectOption(n2.peerId)
    await page.locator('select[name=target]').selectOption('zone:c')
    await page.getByRole('button', { name: 'Execute' }).click()
    await page.locator('[data-testid=exec-answer] .notice.success').waitFor()
    const execRows = page.locator('[data-testid=exec-answer] [data-testid=exec-steps] tbody tr[data-type^="exec."]')
    await expect.poll(() => execRows.count()).toBe(4)
    await shot(page, 'demo')
    await page.close()
  })

  it('the lineage explorer draws a real cross-node execution and opens any entry', async () => {
    const page = await browser.page()
    await page.goto(`${n1.api!}/lineage?cid=${resultCid}`)
    const steps = page.locator('[data-testid=exec-steps] tbody tr[data-type^="exec."]')
    await steps.nth(3).waitFor()
    const types = await steps.evaluateAll(rows => rows.map(r => r.getAttribute('data-type')))
    expect(types).toEqual(['exec.request', 'exec.hop', 'exec.hop', 'exec.result'])
    const zones = await steps.evaluateAll(rows => rows.map(r => r.children[2]?.textContent))
    expect(zones).toEqual(['a', 'b', 'c', 'c'])
    expect(await page.locator('[data-testid=graph] canvas').count()).toBeGreaterThan(0)
    expect(await page.locator('[data-testid=graph]').getAttribute('aria-label')).toContain('exec.hop')
    await steps.nth(3).getByRole('button').click()
    await expect.poll(() => page.locator('[data-testid=entry-cid]').textContent()).toBe(resultCid)
    expect(await page.locator('[data-testid=export-proof]').getAttribute('href')).toBe(`/v1/dag/export/${resultCid}`)
    await page.locator('[data-testid=results] tbody tr').first().waitFor()
    await page.locator('select[name=type]').selectOption('exec.request')
    await page.getByRole('button', { name: 'Search' }).click()
    await expect.poll(() => page.locator('[data-testid=results] tbody tr[data-type="exec.request"]').count()).toBe(2)
    // The unfiltered rows already held the 2 requests: wait until the filtered answer replaced them.
    await expect.poll(
      () => page.locator('[data-testid=results] tbody tr:not([data-type="exec.request"])').count()
    ).toBe(0)
    await shot(page, 'lineage')
    await page.close()
  })

  it('the proof viewer (served, and standalone from file://) says valid, or names the reason if tampered', async () => {
    const car = new Uint8Array(await (await fetch(`${n1.api!}/v1/dag/export/${resultCid}`)).arrayBuffer())
    const carPath = join(mesh.root, 'proof.car')
    writeFileSync(carPath, car)
    // Flip one byte near the end (inside the last block's bytes): its CID no longer matches.
    const bad = car.slice()
    bad[bad.length - 10] = bad[bad.length - 10]! ^ 0x01
    const badPath = join(mesh.root, 'tampered.car')
    writeFileSync(badPath, bad)
    // The verdict `govmesh proof verify` gives (the same reader and verifier, in process).
    const { root, blocks } = await readProofCar(bad)
    const cli = verifyProof({ root, blocks, genesis: decodeGenesisFile(readFileSync(mesh.genesisPath, 'utf8')) })
    expect(cli.valid).toBe(false)

    const standalone = join(mesh.root, 'proof-viewer.html')
    const written = await govmesh(['console', 'proof-viewer', '--out', standalone])
    expect(written.code, written.stderr).toBe(0)
    for (const [where, url] of [['served', `${n1.api!}/proof`], ['standalone', `file://${standalone}`]] as const) {
      const page = await browser.page()
      const requests: string[] = []
      page.on('request', (req) => { requests.push(req.url()) })
      await page.goto(url)
      await page.locator('input[name=genesis]').setInputFiles(mesh.genesisPath)
      await page.locator('input[name=car]').setInputFiles(carPath)
      await page.locator('[data-testid=verdict][data-valid=true]').waitFor({ timeout: 20_000 })
      expect(await page.locator('[data-testid=hops] tbody tr').count()).toBe(4)
      await shot(page, `proof-${where}-valid`)
      await page.locator('input[name=car]').setInputFiles(badPath)
      await page.locator('[data-testid=verdict][data-valid=false]').waitFor({ timeout: 20_000 })
      expect(await page.locator('[data-testid=reason]').textContent()).toBe(cli.reason)
      expect(await page.locator('[data-testid=message]').textContent()).toBe(cli.message)
      await shot(page, `proof-${where}-tampered`)
      // Only the page itself was loaded: verification made no request.
      expect(requests).toEqual([url])
      await page.close()
    }
  })

  it('no view logged a console error', () => {
    expect(browser.errors).toEqual([])
  })
})
