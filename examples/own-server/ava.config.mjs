// For the example only: the project's own ava.config.js runs the compiled suite in dist/test.
export default { files: ['examples/own-server/*.test.mjs'], workerThreads: false, timeout: '2m' }
