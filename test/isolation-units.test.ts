// Canaries, scanner, redaction and the probe directory, without a server.
import test from 'ava'
import { Directory, encodeDirectory, type DirectoryEntry } from '../engine/isolation/index.js'
import { CanaryScanner } from '../engine/isolation/scanner.js'
import { mintCanary, parseCanaryAt } from '../engine/isolation/canary.js'
import { kindFromTemplate } from '../engine/probes/probes.js'
import { redact, excerptAround } from '../engine/shared/index.js'

const SECRET = 'a'.repeat(64)
const RUN = 'abc123def456'

test('a canary names its owner and verifies only with the run secret', t => {
  const c = mintCanary(SECRET, RUN, 42, 'note')
  t.regex(c, /^ctk_abc123def456_42_note_[0-9a-f]{16}$/)
  t.is(mintCanary(SECRET, RUN, 42, 'note'), c, 'deterministic')
  t.not(mintCanary('b'.repeat(64), RUN, 42, 'note'), c, 'depends on the secret')
  t.not(mintCanary(SECRET, RUN, 43, 'note'), c, 'depends on the owner')
  t.not(mintCanary(SECRET, RUN, 42, 'other'), c, 'depends on the label')
  t.throws(() => mintCanary(SECRET, RUN, 1, 'Bad_Label'), { instanceOf: TypeError })
  const parsed = parseCanaryAt(c, 0, `ctk_${RUN}_`.length)
  t.like(parsed, { owner: 42, label: 'note', text: c })
})

test('the scanner reports valid foreign canaries in bytes and strings, never own or forged ones', t => {
  const scanner = new CanaryScanner(SECRET, RUN)
  const mine = mintCanary(SECRET, RUN, 1, 'x')
  const theirs = mintCanary(SECRET, RUN, 2, 'x')
  const forged = theirs.replace('_2_x_', '_3_x_') // right shape, MAC of another owner
  const otherRun = mintCanary(SECRET, 'ffffffffffff', 2, 'x')
  const body = JSON.stringify({ a: mine, b: theirs, c: forged, d: otherRun, e: 'ctk_' + RUN + '_9_' })
  for (const data of [body, Buffer.from(body)]) {
    const found = scanner.scan(data, 1)
    t.is(found?.length, 1)
    t.like(found?.[0], { owner: 2, label: 'x', text: theirs, index: body.indexOf(theirs) })
  }
  t.is(scanner.forged, 2, 'the forged canary was seen in both scans and rejected')
  t.is(scanner.scan(Buffer.from(`{"note":"${mine}"}`), 1), undefined)
  t.is(scanner.scan(Buffer.from('plain text without markers'), 1), undefined)
  // a canary cut short at the end of a frame is not a canary
  t.is(scanner.scan(Buffer.from(theirs.slice(0, -3)), 1), undefined)
})

test('excerpts are bounded and redacted', t => {
  const secretish = 'f'.repeat(40)
  const text = `{"token":"${secretish}","auth":"Bearer abc.def","note":"${mintCanary(SECRET, RUN, 2, 'n')}","pad":"${'x'.repeat(500)}"}`
  const ex = excerptAround(text, text.indexOf('ctk_'), 40)
  t.true(ex.length <= 170)
  t.false(ex.includes(secretish))
  t.false(ex.includes('abc.def'))
  t.true(ex.includes(`ctk_${RUN}_2_n_`), 'the canary itself stays readable')
  t.is(redact('sid=0123456789abcdef0123456789abcdef; Path=/'), 'sid=[redacted]; Path=/')
})

test('probe victims come from other threads when there are any', t => {
  const entry = (user: number, thread: number, items: string[]): DirectoryEntry => ({ user, thread, resources: { items }, credentials: { cookie: `sid=${user}` } })
  const d = new Directory([entry(0, 1, ['a']), entry(1, 1, ['b']), entry(2, 2, ['c']), entry(3, 2, [])])
  for (let i = 0; i < 50; i++) {
    const v = d.pickVictim(0, 1, 'items')
    t.is(v?.user, 2, 'the only other-thread user with an item')
  }
  t.is(d.pickVictim(0, 1, 'orders'), undefined)
  const onlyMine = new Directory([entry(0, 1, ['a'])])
  t.is(onlyMine.pickVictim(0, 1, 'items'), undefined)
  t.is(kindFromTemplate('/items/:id'), 'items')
  t.is(kindFromTemplate('/users/:uid/orders/:id'), 'users')
})

test('a directory from shared memory is decoded on first use: a thread whose users never probe holds no entries', t => {
  const entry = (user: number, thread: number, items: string[]): DirectoryEntry => ({ user, thread, resources: { items }, credentials: { cookie: `sid=${user}` } })
  const sab = encodeDirectory([entry(0, 1, ['a']), entry(1, 1, ['b']), entry(2, 2, ['c'])])
  const d = Directory.decode(sab)
  // the buffer changes after decode(): what is read is what it holds when a probe first needs it
  new Uint8Array(sab).set(Buffer.from(JSON.stringify([entry(0, 1, ['a']), entry(7, 2, ['z'])]).padEnd(sab.byteLength, ' ')))
  t.is(d.pickVictim(0, 1, 'items')?.user, 7)
  t.deepEqual(d.entries.map(e => e.user), [0, 7])
  t.deepEqual(d.pickVictim(0, 1, 'items')?.credentials, { cookie: 'sid=7' })
})
