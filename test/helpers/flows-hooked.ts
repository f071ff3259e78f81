// Whether the data path reports Produce requests and Produce/Fetch responses to the workers' flow
// registry (metrics.flows), so that flows have traffic in them.
// TODO(lead, issue 8): set to true once the new sessions call flows.produce / produceResponse /
// fetch (see docs/architecture.md, "Flows"); until then the flow parts of the tests are skipped
// with this TODO as the reason.
// KPROXY_TEST_FLOWS=1 runs them anyway (with a hook applied locally).
export const FLOWS_HOOKED = process.env.KPROXY_TEST_FLOWS === '1'

export const FLOWS_TODO = FLOWS_HOOKED ? false : 'TODO(lead): the data path does not report to metrics.flows yet (issue 8); set FLOWS_HOOKED in test/helpers/flows-hooked.ts'
