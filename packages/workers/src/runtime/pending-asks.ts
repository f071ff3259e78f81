// Questions a worker asks the supervisor over postMessage: each gets a request id, and the
// supervisor's message carrying that id answers it once. An id that is not waiting (answered
// already, or never asked) is ignored.
export class PendingAsks<A> {
  #next = 1
  readonly #waiting = new Map<number, (answer: A) => void>()

  // `send` posts the question with the id it is given; `onAnswer` runs when the answer arrives
  ask (send: (requestId: number) => void, onAnswer: (answer: A) => void): void {
    const requestId = this.#next++
    this.#waiting.set(requestId, onAnswer)
    send(requestId)
  }

  answer (requestId: number, answer: A): void {
    const onAnswer = this.#waiting.get(requestId)
    if (onAnswer === undefined) return
    this.#waiting.delete(requestId)
    onAnswer(answer)
  }

  get waiting (): number {
    return this.#waiting.size
  }
}
