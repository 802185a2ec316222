import { readFileSync, writeFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Command } from 'commander'
import { CID, createDag, decodeGenesisFile, GovmeshError, verifyProof, type ProofVerdict } from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import { readProofCar, Store } from '@govmesh/node'
import { ApiClient, clientOptions, type ClientOptions } from '../client.js'
import { CliError, emit, EXIT, table } from '../output.js'

export function registerProof (program: Command, dag: Command): void {
  clientOptions(dag.command('export').description('write a CAR proof: the entry, its whole ancestry and the genesis').argument('<cid>')
    .requiredOption('--out <file>', 'where to write the .car file'))
    .action(async (cid: string, opts: ClientOptions & { out: string }) => {
      const bytes = await new ApiClient(opts).getBytes(`/v1/dag/export/${encodeURIComponent(cid)}`)
      writeFileSync(opts.out, bytes)
      emit(opts.json === true, { root: cid, out: opts.out, bytes: bytes.length }, () => `wrote ${opts.out} (${bytes.length} bytes), root ${cid}`)
    })

  clientOptions(dag.command('verify').description('check a stopped node\'s whole store offline (like git fsck)'))
    .action(async (opts: ClientOptions) => {
      if (opts.dataDir === undefined) throw new CliError('--data-dir is required', EXIT.usage)
      const dbPath = join(opts.dataDir, 'db')
      if (!existsSync(dbPath)) throw new CliError(`${dbPath} does not exist`)
      let opened
      try {
        opened = await Store.openExisting(dbPath)
      } catch (err) {
        throw new CliError((err as Error).message)
      }
      const { store, meshId } = opened
      const problems: string[] = []
      let count = 0
      try {
        const genesisBytes = await store.getEntry(meshId)
        if (genesisBytes === undefined) throw new CliError(`the store has no genesis entry ${meshId}`)
        const d = createDag({ genesis: genesisBytes, crypto: nodeCrypto })
        for await (const bytes of store.replay()) {
          count++
          try {
            const r = d.add(bytes)
            for (const rej of r.rejected) problems.push(`${rej.id}: ${rej.error.code}: ${rej.error.message}`)
          } catch (err) {
            problems.push(`entry #${count}: ${err instanceof GovmeshError ? err.code : 'invalid'}: ${(err as Error).message}`)
          }
          if (opts.json !== true && count % 1000 === 0) process.stderr.write(`checked ${count} entries\n`)
        }
        for (const p of d.pending()) problems.push(`${p.id}: waits for ${p.missing.join(', ')}, which the store does not hold`)
        for await (const [author, seq, cid] of store.authorIndex()) {
          const m = d.meta(cid)
          if (m === undefined || m.author !== author || m.seq !== seq) problems.push(`author index ${author.slice(0, 16)}…/${seq} points to ${cid}, which does not match`)
        }
        const ok = problems.length === 0
        emit(opts.json === true, { ok, meshId, entries: count, accepted: d.size, problems }, () => ok
          ? `store ok: ${count} entries, mesh ${meshId}, every signature, chain and writer checked`
          : `store has ${problems.length} problem(s):\n${problems.slice(0, 50).join('\n')}`)
        if (!ok) process.exitCode = EXIT.error
      } finally {
        await store.close()
      }
    })

  program.command('proof').description('verify lineage proofs offline')
    .command('verify').description('verify a CAR proof against a genesis file, with @noble/curves, trusting no node')
    .argument('<file>', 'the .car file')
    .requiredOption('--genesis <file>', 'the mesh genesis file')
    .option('--expect <cid>', 'the proof must be of exactly this entry (its root)')
    .option('--json', 'print the verdict as JSON', false)
    .action(async (file: string, opts: { genesis: string, json: boolean, expect?: string }) => {
      let genesisText: string
      let car: Uint8Array
      try {
        genesisText = readFileSync(opts.genesis, 'utf8')
        car = new Uint8Array(readFileSync(file))
      } catch (err) {
        throw new CliError((err as Error).message)
      }
      const genesis = decodeGenesisFile(genesisText)
      let expect: CID | undefined
      try {
        expect = opts.expect === undefined ? undefined : CID.parse(opts.expect)
      } catch {
        throw new CliError(`--expect: ${opts.expect ?? ''} is not a CID`, EXIT.usage)
      }
      let verdict: ProofVerdict
      try {
        const { root, blocks } = await readProofCar(car)
        verdict = verifyProof({ root, blocks, genesis, expect })
      } catch (err) {
        verdict = { valid: false, reason: 'proof.car', message: `not a readable proof CAR: ${(err as Error).message}`, root: '', meshId: genesis.id, entries: 0, hops: [] }
      }
      emit(opts.json, verdict, () => verdict.valid
        ? [`VALID proof of ${verdict.root} (${verdict.entries} entries, mesh ${verdict.meshId})`,
            table(['TYPE', 'AUTHOR', 'ZONE', 'TIME', 'TRUST', 'CID'], verdict.hops.map(h => [h.type, h.authorPeerId, h.zone ?? '-', new Date(h.time).toISOString(), h.trust, h.cid]))].join('\n')
        : `INVALID proof: ${verdict.reason ?? ''}: ${verdict.message ?? ''}`)
      if (!verdict.valid) process.exitCode = EXIT.error
    })
}
