export { validateConstantUsers, planConstantUsers, MAX_USERS, type ConstantUsersConfig } from './constant-users.js'
