/** URL of this compiled module: lets a runtime locate (and measure) the core's own code. */
export const CORE_MODULE_URL: string = import.meta.url
