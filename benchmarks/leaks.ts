// Leak detection: false-positive rate on the clean fixture, and how many operations it takes to
// flag a ~100 bytes/operation leak (the first reading at which the verdict becomes 'leak').
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { analyzeHeapTrend } from '../engine/leaks/index.js'
import type { HeapSample } from '../engine/result/index.js'
import { fmt, here, log, runClient, show, stat } from './lib.js'

const CLEAN_RUNS = Number(process.env.BENCH_LEAK_RUNS ?? 20)
const LEAK_ROUNDS = 5
const LEAK_CHARS = 84 // + 16 bytes of string header = 100 bytes retained per request

interface Report { verdict: string, bytesPerOp: number, samples: HeapSample[] }

function leakyServer (): Promise<{ url: string, inspector: string, stop: () => void }> {
  const child = spawn(process.execPath, ['--inspect=127.0.0.1:0', here('./clients/leaky-server.js'), String(LEAK_CHARS)], { stdio: ['ignore', 'pipe', 'ignore'] })
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (line) => {
      const info = JSON.parse(line) as { url: string, inspector: string }
      resolve({ ...info, stop: () => child.kill('SIGTERM') })
    })
    child.once('exit', code => reject(new Error(`leaky server exited ${code}`)))
  })
}

export async function benchLeaks (): Promise<{ results: Record<string, unknown>, markdown: string }> {
  const verdicts: Record<string, number> = { leak: 0, 'no-leak': 0, inconclusive: 0 }
  for (let i = 1; i <= CLEAN_RUNS; i++) {
    const r = runClient<Report>('./clients/leak-client.js', ['fixture', '', '', '6'])
    verdicts[r.verdict] = (verdicts[r.verdict] ?? 0) + 1
    log(`leaks clean run ${i}/${CLEAN_RUNS}: ${r.verdict} (${fmt(r.bytesPerOp, 0)} B/op, ${r.samples.length} readings)`)
  }
  const opsToFlag: number[] = []
  const slopes: number[] = []
  for (let round = 1; round <= LEAK_ROUNDS; round++) {
    const server = await leakyServer()
    try {
      const r = runClient<Report>('./clients/leak-client.js', ['target', server.url, server.inspector.replace(/^ws:\/\//, '').split('/')[0]!, '15'])
      // replay the readings: the first prefix of the run that the detector would already flag
      let flaggedAt: number | undefined
      for (let k = 3; k <= r.samples.length && flaggedAt === undefined; k++) {
        if (analyzeHeapTrend(r.samples.slice(0, k)).verdict === 'leak') flaggedAt = r.samples[k - 1]!.ops
      }
      if (flaggedAt !== undefined) opsToFlag.push(flaggedAt)
      slopes.push(r.bytesPerOp)
      log(`leaks 100 B/op round ${round}/${LEAK_ROUNDS}: ${r.verdict}, measured ${fmt(r.bytesPerOp, 0)} B/op, flagged after ${flaggedAt === undefined ? 'never' : fmt(flaggedAt, 0)} ops`)
    } finally {
      server.stop()
    }
  }
  const ops = opsToFlag.length > 0 ? stat(opsToFlag) : undefined
  const fpRate = verdicts.leak! / CLEAN_RUNS
  const markdown = `## Leak detection (soak scenario, 50 users, remote inspector, a reading every 1000 operations)

False positives on the clean fixture: **${verdicts.leak} of ${CLEAN_RUNS} runs** flagged as leaks (${(fpRate * 100).toFixed(0)}%);
${verdicts['no-leak']} no-leak, ${verdicts.inconclusive} inconclusive (6 s runs).

A server built to retain about 100 bytes per request (\`benchmarks/clients/leaky-server.ts\`: an 84-character string kept per request; string header and array slot bring it higher), ${LEAK_ROUNDS} runs of 15 s:
measured slope ${show(stat(slopes), 0)} B/op; flagged in ${opsToFlag.length} of ${LEAK_ROUNDS} runs, after
**${ops === undefined ? 'never' : `${show(ops, 0)} operations`}** (the first reading at which the verdict on the readings so far is 'leak').
`
  return {
    results: { cleanRuns: CLEAN_RUNS, verdicts, falsePositiveRate: fpRate, leak100: { rounds: LEAK_ROUNDS, flagged: opsToFlag.length, opsToFlag: ops ?? null, measuredBytesPerOp: stat(slopes) } },
    markdown
  }
}
