import { readFileSync, writeFileSync } from 'node:fs'
import type { Command } from 'commander'
import { CID, decodeGenesisFile, verifyProof, type ProofVerdict } from '@govmesh/core'
import { readProofCar } from '@govmesh/node/proof-car'
import { ApiClient, clientOptions, type ClientOptions } from '../client.js'
import { CliError, emit, EXIT, table } from '../output.js'

export function registerProof (program: Command, dag: Command): void {
  clientOptions(dag.command('export').description(
    'write a CAR proof: the entry, its whole ancestry and the genesis'
  ).argument('<cid>')
    .requiredOption('--out <file>', 'where to write the .car file'))
    .action(async (cid: string, opts: ClientOptions & { out: string }) => {
      const bytes = await new ApiClient(opts).getBytes(`/v1/dag/export/${encodeURIComponent(cid)}`)
      writeFileSync(opts.out, bytes)
      emit(
        opts.json === true, { root: cid, out: opts.out, bytes: bytes.length },
        () => `wrote ${opts.out} (${bytes.length} bytes), root ${cid}`
      )
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
        verdict = {
          valid: false, reason: 'proof.car', message: `not a readable proof CAR: ${(err as Error).message}`, root: '',
          meshId: genesis.id, entries: 0, hops: []
        }
      }
      emit(opts.json, verdict, () => verdict.valid
        ? [`VALID proof of ${verdict.root} (${verdict.entries} entries, mesh ${verdict.meshId})`,
            table(
              ['TYPE', 'AUTHOR', 'ZONE', 'TIME', 'TRUST', 'CID'],
              verdict.hops.map(
                h => [h.type, h.authorPeerId, h.zone ?? '-', new Date(h.time).toISOString(), h.trust, h.cid]
              )
            )].join('\n')
        : `INVALID proof: ${verdict.reason ?? ''}: ${verdict.message ?? ''}`)
      if (!verdict.valid) process.exitCode = EXIT.error
    })
}
