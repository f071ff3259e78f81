// The data path reports Produce requests and Produce/Fetch responses to the workers' flow registry
// (metrics.flows, session/flow-recorder.ts), so the flow parts of the integration and browser
// tests run. Kept as a constant so that the tests read as they were written.
export const FLOWS_HOOKED = true

export const FLOWS_TODO = false
