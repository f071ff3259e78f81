// A topic pattern as the config writes it (faultInjection's match.topics, topicPolicy's topics):
// a /regular expression/, a glob with * (any run of characters) and ? (one character), or a plain
// topic name. Compiled once, when a filter is built, into one test per topic name.
export type TopicTest = (topic: string) => boolean

export function compileTopicPattern (pattern: string): TopicTest {
  if (pattern.length > 2 && pattern.startsWith('/') && pattern.endsWith('/')) {
    const re = new RegExp(pattern.slice(1, -1))
    return topic => re.test(topic)
  }
  if (!pattern.includes('*') && !pattern.includes('?')) return topic => topic === pattern
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.')
  const re = new RegExp(`^${source}$`)
  return topic => re.test(topic)
}
