export { defineScenario, type Scenario } from './define.js'
export { loadScenario, importScenario, builtInScenarios, type LoadedScenario } from './load.js'
export { importModule } from './import-module.js'
export { readUsersFile, userRowOf, type UserRow, type UsersFileSpec } from './users-file.js'
