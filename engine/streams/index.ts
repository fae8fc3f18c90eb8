// Event streams from any server: WebSocket and Socket.IO users, an awaitable inbox, and stream
// accounting from the scenario's extractors or crosstalk's opt-in protocol.
export type { EventExtractors, EventClock } from './extractors.js'
export { IoSocket, type IoEvent } from './io-socket.js'
export { UserSocket, WsMessage, type StreamProtocol } from './user-socket.js'
