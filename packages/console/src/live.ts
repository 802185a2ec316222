import { useCallback, useEffect, useRef, useState } from 'preact/hooks'

/** The node's server-sent event names (`GET /v1/events`). */
export type NodeEvent =
  | 'entry:added'
  | 'entry:rejected'
  | 'peer:connect'
  | 'peer:disconnect'
  | 'policy:changed'
  | 'trust:changed'
  | 'exec:refused'
  | 'heartbeat:received'

type Listener = (name: NodeEvent, data: unknown) => void
const NAMES: NodeEvent[] = [
  'entry:added',
  'entry:rejected',
  'peer:connect',
  'peer:disconnect',
  'policy:changed',
  'trust:changed',
  'exec:refused',
  'heartbeat:received'
]
const listeners = new Set<Listener>()
const stateListeners = new Set<(open: boolean) => void>()
let source: EventSource | undefined
let open = false

function ensureSource(): void {
  if (source !== undefined) return
  // One stream per tab, shared by every view; EventSource reconnects by itself.
  source = new EventSource('/v1/events')
  source.onopen = () => {
    setOpen(true)
  }
  source.onerror = () => {
    setOpen(false)
  }
  for (const name of NAMES) {
    source.addEventListener(name, (ev: MessageEvent<string>) => {
      let data: unknown = null
      try {
        data = JSON.parse(ev.data)
      } catch {
        /* keep null */
      }
      for (const l of listeners) l(name, data)
    })
  }
}

function setOpen(value: boolean): void {
  open = value
  for (const l of stateListeners) l(value)
}

/** Calls `listener` for every node event while subscribed. */
export function subscribe(listener: Listener): () => void {
  ensureSource()
  listeners.add(listener)
  return () => {
    listeners.delete(listener)
  }
}

/** Whether the event stream is connected, for the "live" indicator. */
export function useStreamOpen(): boolean {
  const [value, setValue] = useState(open)
  useEffect(() => {
    ensureSource()
    stateListeners.add(setValue)
    return () => {
      stateListeners.delete(setValue)
    }
  }, [])
  return value
}

export interface Live<T> {
  data: T | undefined
  error: string | undefined
  reload: () => void
}

/**
 * Loads data once, then again whenever one of `events` arrives (`filter` may narrow it);
 * reloads are coalesced so a burst of events costs one request.
 */
export function useLive<T>(
  load: () => Promise<T>,
  events: NodeEvent[],
  deps: unknown[] = [],
  filter: (name: NodeEvent, data: unknown) => boolean = () => true,
  coalesceMs = 250
): Live<T> {
  const [data, setData] = useState<T | undefined>(undefined)
  const [error, setError] = useState<string | undefined>(undefined)
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined)
  const run = useCallback(() => {
    load().then(
      d => {
        setData(d)
        setError(undefined)
      },
      (err: Error) => {
        setError(err.message)
      }
    )
  }, deps)
  useEffect(() => {
    run()
    const off = subscribe((name, payload) => {
      if (!events.includes(name) || !filter(name, payload)) return
      if (timer.current !== undefined) return
      timer.current = setTimeout(() => {
        timer.current = undefined
        run()
      }, coalesceMs)
    })
    return () => {
      off()
      if (timer.current !== undefined) clearTimeout(timer.current)
    }
  }, [run])
  return { data, error, reload: run }
}

/** Re-renders every `ms` (ages such as "heartbeat 3 s ago" advance on the local clock). */
export function useTick(ms = 1000): number {
  const [now, setNow] = useState(Date.now())
  useEffect(() => {
    const t = setInterval(() => {
      setNow(Date.now())
    }, ms)
    return () => {
      clearInterval(t)
    }
  }, [ms])
  return now
}
