// Isolation scanning of a Socket.IO connection on the Engine.IO messages as they arrive, before
// socket.io-client decodes them: the text is already there, so an event costs one substring search
// instead of re-serializing its decoded payload. Every message of the user's connection is scanned
// (its Manager is never shared, so nothing on it is another user's), binary attachments included,
// which a serialized payload showed only as arrays of numbers. Acks are left to the socket, which
// scans each reply under the name of the event it answers.
//
// Socket.IO packet text (socket.io-parser, protocol 5): <type>[<attachments>-][<nsp>,][<ack id>][<JSON>],
// types 0 connect, 1 disconnect, 2 event, 3 ack, 4 connect error, 5 binary event, 6 binary ack;
// an event's JSON is an array whose first item is its name.
const LABELS = ['connect', 'disconnect', '', 'ack', 'connect_error', '', 'ack']
const QUOTE = 34
const BRACKET = 91

export type PayloadSink = (event: string, payload: string | Buffer) => void

export class IoPacketScan {
  readonly #sink: PayloadSink
  /** binary attachments still to come for the last binary packet, and under which name they are scanned */
  #attachments = 0
  #attachmentsOf: string | undefined
  /** the last event name seen, reused while the next event has the same one (no string per event) */
  #lastEvent = ''

  constructor (sink: PayloadSink) {
    this.#sink = sink
  }

  /** One Engine.IO message of the connection: a packet's text, or a binary attachment. */
  onMessage (data: unknown): void {
    if (typeof data === 'string') this.#onText(data)
    else this.#onBinary(data)
  }

  #onText (text: string): void {
    const type = text.charCodeAt(0) - 48
    let i = 1
    if (type === 5 || type === 6) {
      const dash = text.indexOf('-', 1)
      this.#attachments = Number(text.slice(1, dash))
      i = dash + 1
    }
    if (type === 3 || type === 6) { this.#attachmentsOf = undefined; return }
    if (type !== 2 && type !== 5) { this.#sink(LABELS[type] ?? 'packet', text); return }
    const name = this.#eventName(text, i)
    if (type === 5) this.#attachmentsOf = name
    this.#sink(name, text)
  }

  #onBinary (data: unknown): void {
    if (this.#attachments === 0) return this.#scanBinary('binary', data)
    this.#attachments--
    // a binary ack's attachments belong to its reply, scanned by the socket
    if (this.#attachmentsOf !== undefined) this.#scanBinary(this.#attachmentsOf, data)
  }

  #scanBinary (event: string, data: unknown): void {
    if (Buffer.isBuffer(data)) this.#sink(event, data)
    else if (data instanceof ArrayBuffer) this.#sink(event, Buffer.from(data))
    else if (ArrayBuffer.isView(data)) this.#sink(event, Buffer.from(data.buffer, data.byteOffset, data.byteLength))
  }

  /** The event's name, read at the start of its JSON array (after the namespace and ack id). */
  #eventName (text: string, from: number): string {
    let i = from
    if (text.charCodeAt(i) === 47) i = text.indexOf(',', i) + 1 // '/nsp,'
    while (i < text.length && text.charCodeAt(i) !== BRACKET) i++
    if (text.charCodeAt(i + 1) !== QUOTE) return ''
    const last = this.#lastEvent
    if (last !== '' && text.startsWith(last, i + 2) && text.charCodeAt(i + 2 + last.length) === QUOTE) return last
    const end = text.indexOf('"', i + 2)
    let name = text.slice(i + 2, end)
    // an escape in the name: let JSON read it (rare; the names are the scenario's own)
    if (name.includes('\\')) name = this.#parsedName(text, i)
    this.#lastEvent = name
    return name
  }

  #parsedName (text: string, at: number): string {
    try {
      const args = JSON.parse(text.slice(at)) as unknown[]
      return typeof args[0] === 'string' ? args[0] : ''
    } catch {
      return ''
    }
  }
}
