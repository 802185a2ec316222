import { defaultConfig } from '@chainsafe/libp2p-yamux/config'
import { StreamState, YamuxStream } from '@chainsafe/libp2p-yamux/stream'
import { defaultLogger } from '@libp2p/logger'
import { Uint8ArrayList } from 'uint8arraylist'
import { describe, expect, it } from 'vitest'
import { installHalfWindowUpdates, windowUpdateDue } from '../src/yamux-window.js'

// Frame type of a yamux WINDOW_UPDATE (spec: 0x1).
const WINDOW_UPDATE = 1

/** A real yamux stream whose outgoing frames are recorded, fed `count` data frames of `size` bytes. */
async function framesSentWhileReading (count: number, size: number): Promise<Array<{ type: number, length: number }>> {
  const sent: Array<{ type: number, length: number }> = []
  const stream = new YamuxStream({
    id: '1',
    name: 'test',
    state: StreamState.Established,
    direction: 'inbound',
    sendFrame: (header) => { sent.push({ type: header.type, length: header.length }) },
    onEnd: () => {},
    log: defaultLogger().forComponent('test:yamux'),
    config: defaultConfig,
    getRTT: () => -1
  })
  const reading = (async () => {
    let got = 0
    for await (const chunk of stream.source) {
      got += chunk.byteLength
      if (got >= count * size) return
    }
  })()
  for (let i = 0; i < count; i++) {
    await stream.handleData(
      { type: 0, flag: 0, streamID: 1, length: size, version: 0 },
      async () => new Uint8ArrayList(new Uint8Array(size))
    )
  }
  await reading
  return sent.filter(f => f.type === WINDOW_UPDATE)
}

describe('yamux window updates at half the window', () => {
  it('a stream reading 500 small messages sends one window update per half window, not one per message', async () => {
    installHalfWindowUpdates()
    const updates = await framesSentWhileReading(500, 600)
    // 500 × 600 bytes = 300,000 bytes: one update each time half the 256 KiB window is consumed
    // (the library alone sends one per message, 500).
    expect(updates.length).toBe(Math.floor(500 * 600 / (defaultConfig.initialStreamWindowSize / 2)))
    expect(updates[0]!.length).toBeGreaterThanOrEqual(defaultConfig.initialStreamWindowSize / 2)
  })

  it('the sender is never starved: the window is reopened before it is spent', async () => {
    installHalfWindowUpdates()
    // 2 MB through the stream: without updates the sender would stop at 256 KiB.
    const updates = await framesSentWhileReading(2000, 1000)
    const granted = updates.reduce((sum, u) => sum + u.length, 0)
    expect(defaultConfig.initialStreamWindowSize + granted).toBeGreaterThanOrEqual(2000 * 1000)
  })

  it('the rule itself: handshake flags go at once, otherwise only past half the window', () => {
    const window = defaultConfig.initialStreamWindowSize
    expect(windowUpdateDue({ state: StreamState.Init, recvWindow: window, recvWindowCapacity: window })).toBe(true)
    expect(
      windowUpdateDue({ state: StreamState.SYNReceived, recvWindow: window, recvWindowCapacity: window })
    ).toBe(true)
    expect(
      windowUpdateDue({ state: StreamState.Established, recvWindow: window, recvWindowCapacity: window - 100 })
    ).toBe(false)
    expect(
      windowUpdateDue({ state: StreamState.Established, recvWindow: window, recvWindowCapacity: window / 2 })
    ).toBe(true)
    // Fields of another library version: never suppress.
    expect(windowUpdateDue({ state: StreamState.Established, recvWindow: undefined, recvWindowCapacity: 5 })).toBe(true)
  })
})
