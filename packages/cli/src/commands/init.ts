import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Command } from 'commander'
import { decodeKeyFile, generateKeyPair, peerIdFromPublicKey, toHex } from '@govmesh/core'
import { requireDataDir } from '../data-dir.js'
import { writeKeyFile } from '../keyfile.js'
import { emit } from '../output.js'

export function registerInit (program: Command): void {
  program.command('init')
    .description('create a node data directory with its Ed25519 key (DIR/node.key); prints the PeerId')
    .option('--data-dir <dir>', 'the node data directory (default: $GOVMESH_HOME)')
    .option('--json', 'print {"peerId", "publicKey", "dataDir", "created"} as JSON', false)
    .action((opts: { dataDir?: string, json: boolean }) => {
      const dataDir = requireDataDir(opts.dataDir)
      mkdirSync(dataDir, { recursive: true, mode: 0o700 })
      const keyPath = join(dataDir, 'node.key')
      const created = !existsSync(keyPath)
      // Re-running init is harmless: an existing identity is kept, never replaced.
      const keys = created ? generateKeyPair() : decodeKeyFile(readFileSync(keyPath, 'utf8'))
      if (created) writeKeyFile(keyPath, keys, false)
      const peerId = peerIdFromPublicKey(keys.publicKey)
      emit(opts.json, { peerId, publicKey: toHex(keys.publicKey), dataDir: dataDir, created }, () =>
        `${created ? 'initialized' : 'already initialized'} ${dataDir}\npeer id: ${peerId}`)
    })
}
