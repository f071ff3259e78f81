// Worker threads: listeners, connections and proxy pipelines (broker mode arrives with issue 3).
export {}
