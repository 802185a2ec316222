// Talks to the node that served the console (same origin): JSON reads need no token,
// every action sends the node's bearer token, which the user gives once per tab.

const TOKEN_KEY = 'govmesh.token'

/** A non-2xx answer from the node, with its stable error code. */
export class ApiError extends Error {
  override readonly name = 'ApiError'
  constructor(
    readonly status: number,
    readonly code: string,
    message: string
  ) {
    super(message)
  }
}

/** An action was attempted before the user entered the node's API token. */
export class TokenRequiredError extends Error {
  override readonly name = 'TokenRequiredError'
  constructor() {
    super(
      "this action needs the node's API token (the api-token file of its data dir); enter it at the top of the page"
    )
  }
}

/** Takes `#token=…` from the URL (as `npm run testnet` prints it) into session storage and out of the address bar. */
export function adoptTokenFromUrl(): void {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash)
  if (m?.[1] === undefined) return
  setToken(decodeURIComponent(m[1]))
  history.replaceState(null, '', location.pathname + location.search)
}

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY)
}

export function setToken(token: string | null): void {
  if (token === null || token.length === 0) sessionStorage.removeItem(TOKEN_KEY)
  else sessionStorage.setItem(TOKEN_KEY, token)
}

async function parse<T>(res: Response): Promise<T> {
  const text = await res.text()
  let body: unknown
  try {
    body = text.length > 0 ? JSON.parse(text) : {}
  } catch {
    throw new ApiError(res.status, 'not-json', `the node answered ${res.status} with a body that is not JSON`)
  }
  if (!res.ok) {
    const b = body as { error?: string; message?: string }
    throw new ApiError(res.status, b.error ?? 'error', b.message ?? `HTTP ${res.status}`)
  }
  return body as T
}

/** GET a JSON resource of the node's API. */
export async function getJson<T>(path: string): Promise<T> {
  return await parse<T>(await fetch(path, { headers: { accept: 'application/json' } }))
}

/**
 * POST JSON with the bearer token. Statuses in `accept` (e.g. 422 for a rejected entry)
 * are returned as bodies instead of thrown.
 */
export async function postJson<T>(path: string, body: unknown, accept: number[] = []): Promise<T> {
  const token = getToken()
  if (token === null) throw new TokenRequiredError()
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body)
  })
  if (accept.includes(res.status)) return (await res.json()) as T
  return await parse<T>(res)
}
