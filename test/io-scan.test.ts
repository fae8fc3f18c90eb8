// Socket.IO isolation scanning on the raw Engine.IO messages: a server written here hands each user
// another user's canary in one carrier at a time (an event in a namespace whose name needs a JSON
// escape, a binary attachment, an ack reply); the clean server sends the user's own canary in all
// three, which must yield nothing.
import test from 'ava'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Server } from 'socket.io'
import { run, METRICS, type RunResult } from '../engine/index.js'
import { tempDir, writeScenario } from './support.js'

type Mode = 'clean' | 'event' | 'binary' | 'ack'
const EVENT = 'got "note"'

/** On `note` (a canary): answers with the previous note of another user (`mode`), or with the sender's own (clean). */
async function noteServer (mode: Mode): Promise<{ url: string, notes: () => number, close: () => Promise<void> }> {
  const http = createServer()
  const io = new Server(http, { serveClient: false })
  let last: { user: string, note: string } | undefined
  let notes = 0
  io.of('/chat').on('connection', (socket) => {
    const user = String(socket.handshake.auth.user)
    socket.on('note', (note: string, ack: (r: unknown) => void) => {
      notes++
      const other = last !== undefined && last.user !== user ? last.note : undefined
      if (last?.user !== user) last = { user, note }
      const leak = (carrier: Mode): string => mode === carrier && other !== undefined ? other : note
      socket.emit(EVENT, { note: leak('event') })
      socket.emit('blob', { bytes: Buffer.from(leak('binary')) })
      ack({ ok: true, note: leak('ack') })
    })
  })
  await new Promise<void>(resolve => http.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    notes: () => notes,
    close: async () => { await io.close() }
  }
}

const SCENARIO = `export default defineScenario({
  name: 'io-notes',
  async setup (user) {
    user.state.io = await user.io('/chat', { auth: { user: user.name }, inbox: 0 })
  },
  async iteration (user) {
    await user.state.io.emitWithAck('note', user.canary('note'))
    await user.sleep(100)
  }
})`

async function notesRun (t: Parameters<typeof tempDir>[0] & { teardown: (fn: () => Promise<void>) => void }, mode: Mode): Promise<{ r: RunResult, notes: number }> {
  const s = await noteServer(mode)
  t.teardown(() => s.close())
  const file = writeScenario(tempDir(t), 'io-notes.mjs', SCENARIO)
  const r = await run({ scenario: file, target: s.url, users: 6, duration: '1s', workers: 1, out: null })
  return { r, notes: s.notes() }
}

test('the user\'s own canary in an escaped event name, a binary attachment and an ack yields no violation', async t => {
  const { r, notes } = await notesRun(t, 'clean')
  t.is(r.isolation.violations, 0, JSON.stringify(r.isolation.samples[0]))
  t.true(notes >= 6, `${notes} notes`)
  t.like(r.metrics[`${METRICS.ioEventsReceived}{event:${EVENT}}`], { count: notes })
  t.like(r.metrics[`${METRICS.ioEventsReceived}{event:blob}`], { count: notes })
})

for (const [mode, channel] of [['event', `socket.io/chat ${EVENT}`], ['binary', 'socket.io/chat blob'], ['ack', 'socket.io/chat note']] as const) {
  test(`another user's canary in ${mode === 'binary' ? 'a binary attachment' : mode === 'ack' ? 'an ack reply' : 'an event with an escaped name'} is a foreign event on '${channel}'`, async t => {
    const { r } = await notesRun(t, mode)
    t.true((r.isolation.byKind['foreign-event'] ?? 0) > 0, JSON.stringify(r.isolation))
    t.deepEqual([...new Set(r.isolation.samples.map(v => v.where.channel))], [channel])
    const sample = r.isolation.samples[0]!
    t.not(sample.user, sample.owner)
    t.is(r.status, 'failed')
  })
}
