// Small pieces the built-in filters' config parsers share: one error that lists every problem,
// and topic patterns (an exact name, a glob with * and ?, or /a regular expression/).
export type TopicMatcher = (topic: string) => boolean

// One Error whose message has a problem per line; the loader adds the file, the key and the filter.
export function configProblems (problems: readonly string[]): Error {
  return new Error(problems.join('\n'))
}

export function parseTopicMatcher (raw: unknown, at: string, problems: string[]): TopicMatcher | null {
  if (typeof raw !== 'string' || raw === '') {
    problems.push(`${at}: got ${JSON.stringify(raw)}, allowed: a topic name, a glob (orders.*) or a /regular expression/`)
    return null
  }
  const re = /^\/(.*)\/([imsu]*)$/s.exec(raw)
  if (re !== null) {
    try {
      const regex = new RegExp(re[1]!, re[2])
      return t => regex.test(t)
    } catch (err) {
      problems.push(`${at}: ${raw} is not a valid regular expression (${(err as Error).message})`)
      return null
    }
  }
  if (raw.includes('*') || raw.includes('?')) {
    const regex = new RegExp('^' + raw.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$')
    return t => regex.test(t)
  }
  return t => t === raw
}
