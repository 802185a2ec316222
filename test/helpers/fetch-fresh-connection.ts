/**
 * Test processes ask the nodes' APIs with a fresh connection per request (`connection: close`).
 *
 * A node closes an idle keep-alive connection after 5 s; fetch reuses one until its own, shorter
 * timer runs out. On a starved CI machine that timer fires late, the request goes out on a socket
 * the node is closing, and fails with "other side closed": a race in the test client, not in the
 * node (the CLI opens one connection per command). Every test request therefore opens its own.
 */
const originalFetch = globalThis.fetch

globalThis.fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
  const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined))
  if (!headers.has('connection')) headers.set('connection', 'close')
  return await originalFetch(input, { ...init, headers })
}
