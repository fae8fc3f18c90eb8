export { UserContext, type WsOptions, type IoOptions } from './user-context.js'
export { UserHttp, type RequestOptions } from './http-client.js'
export { HttpResponse } from './http-response.js'
export { CookieJar } from './cookie-jar.js'
