import { useState } from 'preact/hooks'
import { formatTime, shortId } from '../format.js'
import { verifyProofFiles, type TimedVerdict } from './verify.js'

interface Picked {
  name: string
  bytes: Uint8Array
}

async function readFile(f: File): Promise<Picked> {
  return { name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) }
}

/** A genesis file is JSON (starts with "{"); anything else is taken for the CAR. */
function isGenesis(p: Picked): boolean {
  const first = p.bytes.find(b => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09)
  return first === 0x7b
}

function Verdict(props: { result: TimedVerdict }): preact.JSX.Element {
  const { verdict, ms } = props.result
  return (
    <section aria-label="Verdict" data-testid="verdict" data-valid={String(verdict.valid)}>
      {verdict.valid ? (
        <div class="notice success" role="status">
          <strong>VALID</strong> proof of <span class="mono">{verdict.root}</span>: {verdict.entries} entries, mesh{' '}
          <span class="mono">{shortId(verdict.meshId, 16)}</span>
        </div>
      ) : (
        <div class="notice error" role="alert">
          <strong>INVALID</strong> proof: <code data-testid="reason">{verdict.reason}</code>
          <div data-testid="message">{verdict.message}</div>
        </div>
      )}
      <p class="muted">
        verified in this browser in <span data-testid="verify-ms">{ms.toFixed(1)}</span> ms, without any network request
      </p>
      {verdict.hops.length > 0 ? (
        <table data-testid="hops">
          <caption class="sr-only">Every hop of the proven lineage, oldest first</caption>
          <thead>
            <tr>
              <th scope="col">type</th>
              <th scope="col">author</th>
              <th scope="col">zone</th>
              <th scope="col">time</th>
              <th scope="col">trust</th>
              <th scope="col">CID</th>
            </tr>
          </thead>
          <tbody>
            {verdict.hops.map(h => (
              <tr key={h.cid}>
                <td>{h.type}</td>
                <td class="mono">{h.authorPeerId}</td>
                <td>{h.zone ?? '-'}</td>
                <td>{formatTime(h.time)}</td>
                <td>
                  <span class={`badge ${h.trust}`}>{h.trust}</span>
                </td>
                <td class="mono">{shortId(h.cid, 14)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  )
}

/** The offline proof viewer: the same verification as `govmesh proof verify`, in the browser. */
export function ProofViewer(): preact.JSX.Element {
  const [car, setCar] = useState<Picked | undefined>(undefined)
  const [genesis, setGenesis] = useState<Picked | undefined>(undefined)
  const [result, setResult] = useState<TimedVerdict | undefined>(undefined)
  const [error, setError] = useState<string | undefined>(undefined)
  const [over, setOver] = useState(false)

  const run = (c: Picked | undefined, g: Picked | undefined): void => {
    setCar(c)
    setGenesis(g)
    setResult(undefined)
    setError(undefined)
    if (c === undefined || g === undefined) return
    verifyProofFiles(c.bytes, new TextDecoder().decode(g.bytes)).then(setResult, (err: Error) => {
      setError(`${g.name}: ${err.message}`)
    })
  }
  const take = async (files: FileList | null | undefined): Promise<void> => {
    let c = car
    let g = genesis
    for (const f of Array.from(files ?? [])) {
      const p = await readFile(f)
      if (isGenesis(p)) g = p
      else c = p
    }
    run(c, g)
  }
  const input =
    (kind: 'car' | 'genesis') =>
    (e: Event): void => {
      const f = (e.target as HTMLInputElement).files?.[0]
      if (f === undefined) return
      void readFile(f).then(p => {
        if (kind === 'car') run(p, genesis)
        else run(car, p)
      })
    }
  return (
    <main id="main">
      <h1>govmesh proof viewer</h1>
      <p>
        Drop a proof CAR (<code>govmesh dag export</code>) and the mesh's <code>genesis.json</code>. Verification runs
        entirely in this page (Ed25519 with <code>@noble/curves</code>, the same code as{' '}
        <code>govmesh proof verify</code>); the page's Content-Security-Policy forbids every network request, so it
        trusts no node, only the genesis.
      </p>
      <div
        class={`drop${over ? ' over' : ''}`}
        data-testid="drop"
        onDragOver={e => {
          e.preventDefault()
          setOver(true)
        }}
        onDragLeave={() => {
          setOver(false)
        }}
        onDrop={e => {
          e.preventDefault()
          setOver(false)
          void take(e.dataTransfer?.files)
        }}
      >
        <p>Drop both files here, or choose them:</p>
        <div class="row" style={{ justifyContent: 'center' }}>
          <label>
            proof CAR
            <input type="file" name="car" accept=".car,application/vnd.ipld.car" onChange={input('car')} />
          </label>
          <label>
            genesis file
            <input type="file" name="genesis" accept=".json,application/json" onChange={input('genesis')} />
          </label>
        </div>
        <p class="muted">
          {car?.name ?? 'no proof yet'} · {genesis?.name ?? 'no genesis yet'}
        </p>
      </div>
      {error !== undefined ? (
        <div class="notice error" role="alert" data-testid="error">
          {error}
        </div>
      ) : null}
      {result !== undefined ? <Verdict result={result} /> : null}
    </main>
  )
}
