export { run } from './run.js'
export { checkOutDir } from './preflight.js'
