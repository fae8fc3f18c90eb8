export { defineScenario, type Scenario } from './define.js'
export { loadScenario, importScenario, resolveScenario, builtInScenarios, DEFAULT_SCENARIO, type LoadedScenario } from './load.js'
export { importModule, importableModule } from './import-module.js'
