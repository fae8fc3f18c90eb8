// Without a PVC the shards write their reports to the pod's own emptyDir, which goes when the pod
// ends, and `kubectl cp` needs a running container: the shard's command then runs `crosstalk run`,
// keeps the pod up for a while after it, and exits with the run's own exit code.

/** The image's CLI (the Dockerfile's ENTRYPOINT): the command below replaces the entrypoint. */
export const IMAGE_CLI = '/app/bin/crosstalk.js'

/**
 * `sh -c <script> crosstalk <args...>`: the args reach the script as "$@", unquoted and unsplit.
 * Kubernetes expands $(VAR) and $$ in a command too, so the script uses neither. SIGTERM (a
 * deleted pod) goes on to the run, which writes an interrupted report; during the wait it ends it.
 */
export function keepReportsCommand (keepS: number, reportsDir: string, namespace: string | undefined): string[] {
  const ns = namespace === undefined ? '' : ` -n ${namespace}`
  const script = [
    `node ${IMAGE_CLI} "$@" &`,
    'pid=$!',
    'trap \'kill -TERM "$pid" 2>/dev/null\' TERM INT',
    'wait "$pid"',
    'code=$?',
    // a trapped signal ends the first wait early: wait again for the run's own exit code
    'if kill -0 "$pid" 2>/dev/null; then wait "$pid"; code=$?; fi',
    `echo "crosstalk: the run exited with $code; its report stays for ${keepS} s: kubectl cp${ns} -c shard $HOSTNAME:${reportsDir}/shard-$JOB_COMPLETION_INDEX ./shard-$JOB_COMPLETION_INDEX" >&2`,
    'trap \'exit "$code"\' TERM INT',
    `sleep ${keepS} &`,
    'wait "$!"',
    'exit "$code"'
  ].join('\n')
  return ['sh', '-c', script, 'crosstalk']
}
