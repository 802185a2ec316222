/** Every service has a Startable lifecycle: started in order after the store opens, stopped in reverse. */
export interface Startable {
  start: () => Promise<void> | void
  stop: () => Promise<void> | void
}
