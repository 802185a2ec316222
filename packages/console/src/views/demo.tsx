import { useState } from 'preact/hooks'
import type { KeyPair } from '@govmesh/core'
import { getJson, postJson } from '../api.js'
import { shortId } from '../format.js'
import { readGovernorKey, restoreAsGovernor } from '../governor.js'
import { useLive } from '../live.js'
import type { ExecAnswer, MembersAnswer } from '../types.js'
import { LineageGraphView } from './lineage-graph.js'

function Message(props: { text: string | undefined; kind: 'error' | 'success' | '' }): preact.JSX.Element | null {
  if (props.text === undefined) return null
  return (
    <div class={`notice ${props.kind}`} role={props.kind === 'error' ? 'alert' : 'status'}>
      {props.text}
    </div>
  )
}

function ExecStep(props: { members: MembersAnswer }): preact.JSX.Element {
  const zones = [...new Set(props.members.members.map(m => m.zone).filter((z): z is string => z !== null))].sort()
  const others = props.members.members.filter(m => !m.self)
  const [action, setAction] = useState('echo')
  const [target, setTarget] = useState(zones.at(-1) !== undefined ? `zone:${zones.at(-1)!}` : '')
  const [via, setVia] = useState('')
  const [payload, setPayload] = useState('{"hello":"mesh"}')
  const [answer, setAnswer] = useState<ExecAnswer | undefined>(undefined)
  const [error, setError] = useState<string | undefined>(undefined)
  const [busy, setBusy] = useState(false)
  const submit = async (): Promise<void> => {
    setBusy(true)
    setError(undefined)
    try {
      let parsed: unknown
      try {
        parsed = JSON.parse(payload)
      } catch {
        throw new Error('the payload must be JSON')
      }
      setAnswer(
        await postJson<ExecAnswer>('/v1/exec', {
          action,
          resource: 'demo',
          target,
          payload: parsed,
          ...(via !== '' ? { route: [via] } : {})
        })
      )
    } catch (err) {
      setError((err as Error).message)
    } finally {
      setBusy(false)
    }
  }
  const last = answer?.resultCid ?? answer?.refusalCid
  return (
    <section aria-labelledby="exec-h">
      <h2 id="exec-h">2–3. Submit a governed execution from this node</h2>
      <form
        class="inline"
        onSubmit={e => {
          e.preventDefault()
          void submit()
        }}
      >
        <label>
          action
          <select
            name="action"
            value={action}
            onChange={e => {
              setAction((e.target as HTMLSelectElement).value)
            }}
          >
            <option value="echo">echo (allowed by the demo policy)</option>
            <option value="deploy">deploy (no rule allows it)</option>
          </select>
        </label>
        <label>
          target
          <select
            name="target"
            value={target}
            onChange={e => {
              setTarget((e.target as HTMLSelectElement).value)
            }}
          >
            {zones.map(z => (
              <option key={z} value={`zone:${z}`}>
                zone {z}
              </option>
            ))}
            {others.map(m => (
              <option key={m.peerId} value={m.peerId}>
                {shortId(m.peerId, 12)} (zone {m.zone ?? '?'}, {m.status})
              </option>
            ))}
          </select>
        </label>
        <label>
          through (optional route)
          <select
            name="via"
            value={via}
            onChange={e => {
              setVia((e.target as HTMLSelectElement).value)
            }}
          >
            <option value="">direct</option>
            {others.map(m => (
              <option key={m.peerId} value={m.peerId}>
                {shortId(m.peerId, 12)} (zone {m.zone ?? '?'})
              </option>
            ))}
          </select>
        </label>
        <label>
          payload (JSON)
          <input
            name="payload"
            value={payload}
            onInput={e => {
              setPayload((e.target as HTMLInputElement).value)
            }}
          />
        </label>
        <button type="submit" disabled={busy}>
          Execute
        </button>
      </form>
      <Message text={error} kind="error" />
      {answer !== undefined ? (
        <div data-testid="exec-answer">
          <Message
            kind={answer.ok ? 'success' : 'error'}
            text={
              answer.ok
                ? `executed: result ${JSON.stringify(answer.result)} (entry ${answer.resultCid ?? ''})`
                : `refused: ${answer.reason ?? ''} — ${answer.detail ?? ''}`
            }
          />
          {last !== undefined ? (
            <>
              <p>
                <a href={`/lineage?cid=${last}`}>Open in the lineage explorer</a> ·{' '}
                <a href={`/v1/dag/export/${last}`} download={`proof-${last}.car`}>
                  export its proof
                </a>
              </p>
              <LineageGraphView cid={last} ancestry={0} onSelect={() => undefined} />
            </>
          ) : null}
        </div>
      ) : null}
    </section>
  )
}

function TamperStep(props: { members: MembersAnswer }): preact.JSX.Element {
  const others = props.members.members.filter(m => !m.self && m.member)
  const [peer, setPeer] = useState(others.at(-1)?.peerId ?? '')
  const [message, setMessage] = useState<{ text: string; kind: 'error' | 'success' } | undefined>(undefined)
  const [keys, setKeys] = useState<KeyPair | undefined>(undefined)
  const subject = props.members.members.find(m => m.peerId === peer)
  const act = async (fn: () => Promise<string>): Promise<void> => {
    try {
      setMessage({ text: await fn(), kind: 'success' })
    } catch (err) {
      setMessage({ text: (err as Error).message, kind: 'error' })
    }
  }
  return (
    <section aria-labelledby="tamper-h">
      <h2 id="tamper-h">4–5. Tamper a node, watch the mesh quarantine it, restore it as the governor</h2>
      <p>
        Real tampering restarts the node with code outside the allowlist (its peers detect it from its heartbeat):
        <code> npx govmesh testnet tamper --dir .testnet node5</code>. Or report it from here (a member's{' '}
        <code>trust.fail</code>):
      </p>
      <div class="row">
        <label>
          node
          <select
            name="peer"
            value={peer}
            onChange={e => {
              setPeer((e.target as HTMLSelectElement).value)
            }}
          >
            {others.map(m => (
              <option key={m.peerId} value={m.peerId}>
                {shortId(m.peerId, 12)} (zone {m.zone ?? '?'}, {m.status})
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          onClick={() => {
            void act(async () => {
              const r = await postJson<{ cid: string }>('/v1/trust/report', {
                peer,
                reason: 'reported from the console demo'
              })
              return `trust.fail ${r.cid} recorded`
            })
          }}
        >
          Report as compromised
        </button>
        <span>
          status:{' '}
          <span class={`badge ${subject?.status ?? 'unknown'}`} data-testid="subject-status">
            {subject?.status ?? 'unknown'}
          </span>
        </span>
      </div>
      <div class="row">
        <label>
          governor key file (stays in this browser)
          <input
            type="file"
            name="governor"
            accept=".key,.json,application/json"
            onChange={e => {
              const f = (e.target as HTMLInputElement).files?.[0]
              if (f !== undefined)
                void f.text().then(t => {
                  try {
                    setKeys(readGovernorKey(t))
                    setMessage(undefined)
                  } catch (err) {
                    setMessage({ text: `not a key file: ${(err as Error).message}`, kind: 'error' })
                  }
                })
            }}
          />
        </label>
        <button
          type="button"
          disabled={keys === undefined || subject === undefined}
          onClick={() => {
            if (keys !== undefined && subject !== undefined)
              void act(async () => {
                const r = await restoreAsGovernor(subject.key, keys)
                return r.restored
                  ? `trust.restore ${r.cid ?? ''}: restored with ${r.approvals}/${r.quorum} approvals`
                  : `approval recorded (${r.approvals}/${r.quorum})`
              })
          }}
        >
          Approve restore
        </button>
      </div>
      {message !== undefined ? <Message text={message.text} kind={message.kind} /> : null}
      <table data-testid="demo-trust">
        <thead>
          <tr>
            <th scope="col">node</th>
            <th scope="col">zone</th>
            <th scope="col">trust</th>
          </tr>
        </thead>
        <tbody>
          {props.members.members.map(m => (
            <tr key={m.peerId} data-peer={m.peerId}>
              <td class="mono">
                {shortId(m.peerId, 14)}
                {m.self ? ' (this node)' : ''}
              </td>
              <td>{m.zone ?? '-'}</td>
              <td>
                <span class={`badge ${m.status}`}>{m.status}</span> {m.reasons.join('; ')}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}

/** `/demo`: the testnet walk-through, live: executions crossing the mesh, fail-closed, restore. */
export function Demo(): preact.JSX.Element {
  const members = useLive(
    () => getJson<MembersAnswer>('/v1/mesh/members'),
    ['trust:changed', 'peer:connect', 'peer:disconnect', 'heartbeat:received'],
    [],
    undefined,
    500
  )
  if (members.error !== undefined)
    return (
      <div class="notice error" role="alert">
        {members.error}
      </div>
    )
  if (members.data === undefined) return <p aria-busy="true">Loading…</p>
  return (
    <>
      <h1>Runtime governance demo</h1>
      <ol class="steps">
        <li>
          Status of every node: <a href="/">health dashboard</a>.
        </li>
        <li>
          An allowed execution (echo through zone b to zone c) and a denied one (deploy): below. Actions need the API
          token (at the top).
        </li>
        <li>
          Tamper and restore: below; the <a href="/governance">governance console</a> shows the failure, its evidence
          and the approvals.
        </li>
        <li>
          Export the execution's proof from the <a href="/lineage">lineage explorer</a> and verify it in the{' '}
          <a href="/proof">proof viewer</a>.
        </li>
      </ol>
      <ExecStep members={members.data} />
      <TamperStep members={members.data} />
    </>
  )
}
