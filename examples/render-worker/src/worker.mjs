// A simulated render worker: each job runs ingest → render → upscale → export, and each finished
// step is tracked with an id derived from the job and the step (`job-981:render`) and content
// derived from the job alone. Re-running a failed job re-sends the same events, which the
// collector answers `duplicate`: a step is never billed twice, whichever process runs it.

export const STEPS = ['ingest', 'render', 'upscale', 'export']

/** GPU seconds a step takes for a job: deterministic, so a re-run reports the same usage. */
function gpuSecondsOf(job, step) {
  const perFrame = { ingest: 0.01, render: 0.5, upscale: 0.2, export: 0.02 }[step]
  const factor = job.resolution === '4k' ? 4 : 1
  return Math.round(job.frames * perFrame * factor * 100) / 100
}

/**
 * Runs a job's steps, tracking each. `failAt` simulates a crash before that step.
 * Timestamps come from the job (when it was submitted, plus the step's index) rather than the
 * clock, so the event content is identical on a re-run (a different timestamp would be a
 * `conflict`, not a `duplicate`).
 */
export async function runJob(mk, job, { failAt } = {}) {
  for (const [index, step] of STEPS.entries()) {
    if (step === failAt) throw new Error(`job ${job.id} failed at ${step}`)
    await new Promise((resolve) => setTimeout(resolve, 5)) // the work itself
    mk.track({
      id: `${job.id}:${step}`,
      event: 'render.step_completed',
      customerId: job.customerId,
      timestamp: new Date(job.submittedAt + index * 1000),
      properties: { step, gpuSeconds: gpuSecondsOf(job, step), resolution: job.resolution, status: 'succeeded' },
    })
  }
}
