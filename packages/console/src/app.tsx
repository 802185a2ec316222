import { useEffect, useState } from 'preact/hooks'
import { getToken, setToken } from './api.js'
import { useStreamOpen } from './live.js'
import { Dashboard } from './views/dashboard.js'
import { Governance } from './views/governance.js'
import { Lineage } from './views/lineage.js'
import { Demo } from './views/demo.js'

const VIEWS = [
  { path: '/', title: 'Health', view: Dashboard },
  { path: '/governance', title: 'Governance', view: Governance },
  { path: '/lineage', title: 'Lineage', view: Lineage },
  { path: '/proof', title: 'Proof viewer', view: undefined },
  { path: '/demo', title: 'Demo', view: Demo }
] as const

/** Client-side navigation between the app views (the proof viewer is a separate, offline page). */
export function navigate(href: string): void {
  history.pushState(null, '', href)
  dispatchEvent(new PopStateEvent('popstate'))
}

function usePath(): string {
  const [path, setPath] = useState(location.pathname)
  useEffect(() => {
    const on = (): void => {
      setPath(location.pathname)
    }
    addEventListener('popstate', on)
    return () => {
      removeEventListener('popstate', on)
    }
  }, [])
  return path
}

function TokenField(): preact.JSX.Element {
  const [value, setValue] = useState(getToken() ?? '')
  const [saved, setSaved] = useState(getToken() !== null)
  return (
    <form
      class="inline"
      aria-label="API token"
      onSubmit={e => {
        e.preventDefault()
        setToken(value.trim())
        setSaved(value.trim().length > 0)
      }}
    >
      <label>
        API token (for actions)
        <input
          type="password"
          name="token"
          autoComplete="off"
          value={value}
          size={24}
          onInput={e => {
            setValue((e.target as HTMLInputElement).value)
          }}
        />
      </label>
      <button type="submit" class="secondary">
        {saved ? 'Update' : 'Use token'}
      </button>
      <span class="muted" aria-live="polite">
        {saved ? 'token set for this tab' : 'read-only'}
      </span>
    </form>
  )
}

export function App(): preact.JSX.Element {
  const path = usePath()
  const open = useStreamOpen()
  const current = VIEWS.find(v => v.path === path) ?? VIEWS[0]
  const View = current.view ?? Dashboard
  useEffect(() => {
    document.title = `${current.title} · govmesh console`
  }, [current])
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">govmesh</span>
        <nav aria-label="Console views">
          <ul>
            {VIEWS.map(v => (
              <li key={v.path}>
                <a
                  href={v.path}
                  aria-current={v.path === current.path ? 'page' : undefined}
                  onClick={e => {
                    if (v.view !== undefined) {
                      e.preventDefault()
                      navigate(v.path)
                    }
                  }}
                >
                  {v.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="spacer" />
        <span class={`live ${open ? 'on' : 'off'}`} role="status" data-testid="live">
          {open ? 'live' : 'reconnecting'}
        </span>
        <TokenField />
      </header>
      <main id="main" tabIndex={-1}>
        <View />
      </main>
    </>
  )
}
