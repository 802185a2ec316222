/**
 * Side-effect-only runtime polyfills for Node 20.
 *
 * libp2p 2.10's dependencies call `Promise.withResolvers` (ES2024, Node 22+).
 * Import this module before anything that loads libp2p, e.g. as the first
 * import of every entry point; vitest loads it through `setupFiles`.
 *
 * @example
 * ```ts
 * import './polyfill.js'
 * import { createMeshLibp2p } from './libp2p.js'
 * ```
 *
 * @packageDocumentation
 */

interface Resolvers<T> {
  promise: Promise<T>
  resolve: (value: T | PromiseLike<T>) => void
  reject: (reason?: unknown) => void
}

// The project's `lib` is ES2023, so the static is not in PromiseConstructor's
// type; a local structural view avoids a global augmentation that would clash
// once the lib is raised to ES2024.
const PromiseCtor = Promise as unknown as {
  withResolvers?: <T>() => Resolvers<T>
}

if (typeof PromiseCtor.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    // Match the native property shape (non-enumerable, writable, configurable).
    configurable: true,
    writable: true,
    enumerable: false,
    value: function withResolvers<T>(this: PromiseConstructor): Resolvers<T> {
      let resolve!: Resolvers<T>['resolve']
      let reject!: Resolvers<T>['reject']
      // `this` keeps subclass semantics (`MyPromise.withResolvers()`), as the spec does.
      const Ctor = typeof this === 'function' ? this : Promise
      const promise = new Ctor<T>((res, rej) => {
        resolve = res
        reject = rej
      })
      return { promise, resolve, reject }
    }
  })
}

export {}
