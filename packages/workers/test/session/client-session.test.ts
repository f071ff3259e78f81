// The client session and the filter chain without sockets: a scripted client socket and a scripted
// route (session-harness.ts). Real codecs make every frame; the route answers in whatever order a
// test chooses.
import t from 'tap'
import { getApi } from '@kproxy/core/protocol/codec'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import type { Filter, FilterRequest, FilterResponse } from '../../src/filters/filter-api.ts'
import { FILTER_FAILURE_LIMIT, MAX_IN_FLIGHT } from '../../src/session/client-session.ts'
import { decoded, harness, produceBody, request, tick } from './session-harness.ts'

const META = ApiKey.Metadata
const metadataBody = (): any => ({ ...getApi(META).request.create(), topics: [] })
const metadataAnswer = (topic: string): any => {
  const api = getApi(META).response
  return { ...api.create(), topics: [{ ...api.structs.MetadataResponseTopic!(), name: topic }] }
}

t.test('a frame no filter wants goes to the route as the bytes that arrived, no copy', async t => {
  const h = harness()
  const bytes = Buffer.concat(request(META, 12, 1, metadataBody()))
  h.socket.emit('data', bytes)
  t.equal(h.route.forwarded.length, 1)
  const f = h.route.forwarded[0]!
  t.equal(f.frames, null, 'not re-encoded')
  t.equal(f.frame!.chunks[0]!.buffer, bytes.buffer, 'a view of the chunk that was read')
  t.ok(f.frame!.prefix!.buffer === bytes.buffer, 'the size prefix too')
  t.ok(h.route.flushes >= 1, 'written at the end of the socket event')
})

t.test('responses go out in request order, whatever order the route answers in', async t => {
  const h = harness()
  h.socket.send(request(META, 12, 1, metadataBody()), request(META, 12, 2, metadataBody()), request(META, 12, 3, metadataBody()))
  t.equal(h.route.forwarded.length, 3)
  h.route.answer(2, metadataAnswer('c'))
  h.route.answer(1, metadataAnswer('b'))
  t.equal(h.socket.responses().length, 0, 'nothing before the first is answered')
  h.route.answer(0, metadataAnswer('a'))
  const got = h.socket.responses().map(p => decoded(p, META, 12))
  t.same(got.map(d => d.header.correlationId), [1, 2, 3])
  t.same(got.map(d => d.body.topics[0].name), ['a', 'b', 'c'])
  t.equal(h.session.inFlight, 0)
})

t.test('header-level interest reads the client id without decoding the body', async t => {
  let bodyRead = false
  const seen: Array<string | null> = []
  const filter: Filter = {
    interests: { requests: [{ apiKeys: ['Metadata'], level: 'header' }] },
    onRequest (r: FilterRequest) { seen.push(r.header.clientId) }
  }
  const h = harness({ filters: [filter] })
  h.socket.send(request(META, 12, 1, metadataBody(), 'app-7'))
  t.same(seen, ['app-7'])
  t.equal(h.route.forwarded[0]!.frames, null, 'forwarded unchanged')
  t.notOk(bodyRead)
  t.equal(h.session.context.clientId, 'app-7', 'the connection knows the client id')
})

t.test('a filter answers with a body or an error; answers keep their place in the order', async t => {
  const filter: Filter = {
    interests: { requests: [{ apiKeys: ['Metadata'] }] },
    onRequest (r) {
      if (r.correlationId === 2) return { kind: 'respond', body: metadataAnswer('from-filter') }
      if (r.correlationId === 3) return { kind: 'error', errorCode: 'TOPIC_AUTHORIZATION_FAILED' }
      return undefined
    }
  }
  const h = harness({ filters: [filter] })
  const body = { ...metadataBody(), topics: [{ ...getApi(META).request.structs.MetadataRequestTopic!(), name: 'secret' }] }
  h.socket.send(request(META, 12, 1, metadataBody()), request(META, 12, 2, metadataBody()), request(META, 12, 3, body))
  t.equal(h.route.forwarded.length, 1, 'only the first goes upstream')
  t.equal(h.socket.responses().length, 0, 'the filter answers wait behind the first request')
  h.route.answer(0, metadataAnswer('upstream'))
  const got = h.socket.responses().map(p => decoded(p, META, 12))
  t.same(got.map(d => d.header.correlationId), [1, 2, 3])
  t.equal(got[0]!.body.topics[0].name, 'upstream')
  t.equal(got[1]!.body.topics[0].name, 'from-filter')
  t.same(got[2]!.body.topics.map((x: any) => [x.name, x.errorCode]), [['secret', 29]], 'the error per topic, as an authorizer answers')
  t.same(got[2]!.body.brokers.map((b: any) => b.host), ['kproxy'], 'a made-up Metadata answer still lists the advertised brokers')
})

t.test('a changed body is re-encoded; the response filter sees the request it read and changes the answer', async t => {
  const filter: Filter = {
    interests: { requests: [{ apiKeys: ['Metadata'] }], responses: [{ apiKeys: ['Metadata'] }] },
    onRequest (r) {
      r.body.topics = [{ ...getApi(META).request.structs.MetadataRequestTopic!(), name: 'renamed' }]
      r.markChanged()
      r.attributes.set('mark', 'kept')
    },
    onResponse (res: FilterResponse) {
      res.body.topics[0].name = `${String(res.request.attributes.get('mark'))}:${String(res.request.body.topics[0].name)}`
      res.markChanged()
    }
  }
  const h = harness({ filters: [filter] })
  h.socket.send(request(META, 12, 5, metadataBody()))
  const f = h.route.forwarded[0]!
  t.ok(f.frames !== null, 're-encoded')
  const req = getApi(META).request
  t.same(req.decode(new (await import('@kproxy/core/protocol/primitives/reader')).Reader(f.payload, (await import('@kproxy/core/protocol/headers')).readRequestHeader(f.payload).headerLength), 12).topics.map((x: any) => x.name), ['renamed'])
  h.route.answer(0, metadataAnswer('x'))
  const [r] = h.socket.responses().map(p => decoded(p, META, 12))
  t.equal(r!.header.correlationId, 5)
  t.equal(r!.body.topics[0].name, 'kept:renamed')
})

t.test('a held request: later requests wait behind it, earlier answers still go out, then all continue in order', async t => {
  let release!: () => void
  const filter: Filter = {
    interests: { requests: [{ apiKeys: ['Metadata'], level: 'header' }] },
    onRequest (r) {
      if (r.correlationId === 2) return new Promise<void>(resolve => { release = resolve })
      return undefined
    }
  }
  const h = harness({ filters: [filter] })
  h.socket.send(request(META, 12, 1, metadataBody()), request(META, 12, 2, metadataBody()), request(META, 12, 3, metadataBody()))
  t.equal(h.route.forwarded.length, 1, 'request 3 waits behind the held request 2')
  h.route.answer(0, metadataAnswer('a'))
  t.same(h.socket.responses().map(p => decoded(p, META, 12).header.correlationId), [1], 'the answer to 1 is written while 2 is held')
  t.notOk(h.socket.paused, 'the socket is still read')
  release()
  await tick()
  t.same(h.route.forwarded.map(f => f.entry!.correlationId), [1, 2, 3], 'forwarded in arrival order')
  h.route.answer(2, metadataAnswer('c'))
  h.route.answer(1, metadataAnswer('b'))
  t.same(h.socket.responses().map(p => decoded(p, META, 12).header.correlationId), [1, 2, 3])
})

t.test('a hold past the deadline: REQUEST_TIMED_OUT for that request, logged with the filter\'s name; a late answer is ignored', async t => {
  let late!: () => void
  const filter: Filter = {
    interests: { requests: [{ apiKeys: ['Metadata'] }] },
    onRequest (r) { if (r.correlationId === 1) return new Promise<void>(resolve => { late = resolve }); return undefined }
  }
  const h = harness({ filters: [{ label: 'slowpoke', filter }], holdTimeoutMs: 30 })
  const body = { ...metadataBody(), topics: [{ ...getApi(META).request.structs.MetadataRequestTopic!(), name: 't' }] }
  h.socket.send(request(META, 12, 1, body), request(META, 12, 2, metadataBody()))
  await new Promise(resolve => setTimeout(resolve, 80))
  const first = h.socket.responses().map(p => decoded(p, META, 12))
  t.same(first.map(d => [d.header.correlationId, d.body.topics[0]?.errorCode]), [[1, 7]], 'REQUEST_TIMED_OUT per topic')
  t.same(h.route.forwarded.map(f => f.entry!.correlationId), [2], 'the next request went on')
  t.ok(h.logs.some(l => l.code === 'KPROXY_ERR_FILTER_TIMEOUT' && l.filter === 'slowpoke'))
  late()
  await tick()
  t.same(h.route.forwarded.map(f => f.entry!.correlationId), [2], 'the late resolution forwards nothing')
})

t.test('a filter that throws, returns nonsense or rejects: only that request fails; the third failure closes the connection', async t => {
  let mode = 0
  const filter: Filter = {
    interests: { requests: [{ apiKeys: ['Metadata'] }] },
    onRequest () {
      mode++
      if (mode === 1) throw new Error('boom')
      if (mode === 2) return { kind: 'teleport' } as any
      if (mode === 3) return undefined
      return Promise.reject(new Error('async boom'))
    }
  }
  const h = harness({ filters: [{ label: 'buggy', filter }] })
  const body = { ...metadataBody(), topics: [{ ...getApi(META).request.structs.MetadataRequestTopic!(), name: 't' }] }
  h.socket.send(request(META, 12, 1, body), request(META, 12, 2, body), request(META, 12, 3, body))
  t.equal(h.route.forwarded.length, 1, 'the request after two failures passes')
  h.route.answer(0, metadataAnswer('ok'))
  const got = h.socket.responses().map(p => decoded(p, META, 12))
  t.same(got.map(d => [d.header.correlationId, d.body.topics[0].errorCode]), [[1, -1], [2, -1], [3, 0]], 'UNKNOWN_SERVER_ERROR for each failed request')
  t.equal(h.logs.filter(l => l.code === 'KPROXY_ERR_FILTER_FAILED' && l.filter === 'buggy').length, 2)
  t.notOk(h.session.closed)
  h.socket.send(request(META, 12, 4, body))
  await tick()
  t.ok(h.session.closed, `closed after ${FILTER_FAILURE_LIMIT} failures`)
  t.ok(h.logs.some(l => l.code === 'KPROXY_ERR_FILTER_FAILING'))
  t.ok(h.socket.destroyed)
  t.ok(h.route.closed)
})

t.test('a response filter that throws: the answer carries UNKNOWN_SERVER_ERROR instead, the connection stays', async t => {
  const filter: Filter = {
    interests: { responses: [{ apiKeys: ['Metadata'] }] },
    onResponse () { throw new Error('bad response filter') }
  }
  const h = harness({ filters: [filter] })
  h.socket.send(request(META, 12, 1, metadataBody()))
  h.route.answer(0, metadataAnswer('x'))
  const [r] = h.socket.responses().map(p => decoded(p, META, 12))
  t.equal(r!.body.topics[0].errorCode, -1)
  t.notOk(h.session.closed)
})

t.test('Produce acks=0 is forwarded and never waited for; an error answer to it is dropped', async t => {
  const deny: Filter = {
    interests: { requests: [{ apiKeys: ['Produce'] }] },
    onRequest (r) { return r.body.topicData[0].name === 'no' ? { kind: 'error', errorCode: 29 } : undefined }
  }
  const h = harness({ filters: [deny] })
  h.socket.send(request(0, 9, 1, produceBody(['yes'], 0)), request(0, 9, 2, produceBody(['no'], 0)), request(META, 12, 3, metadataBody()))
  t.same(h.route.forwarded.map(f => f.entry === null ? 'acks0' : f.entry.correlationId), ['acks0', 3])
  t.equal(h.session.inFlight, 1, 'only the Metadata request waits for an answer')
  h.route.answer(1, metadataAnswer('m'))
  t.same(h.socket.responses().map(p => decoded(p, META, 12).header.correlationId), [3], 'no answer for either produce')
})

t.test('backpressure: a full upstream pauses reading; a client that does not read pauses the route\'s answers', async t => {
  const h = harness()
  t.notOk(h.socket.paused)
  h.route.sink.routeFull(true)
  t.ok(h.socket.paused, 'upstream full: the client is not read')
  h.route.sink.routeFull(false)
  t.notOk(h.socket.paused)
  h.socket.full = true
  h.socket.send(request(META, 12, 1, metadataBody()))
  h.route.answer(0, metadataAnswer('a'))
  t.ok(h.route.answersPaused, 'the route stops reading answers for a client that does not read')
  t.ok(h.socket.paused, 'and the client is not read either')
  h.socket.full = false
  h.socket.emit('drain')
  t.notOk(h.route.answersPaused)
  t.notOk(h.socket.paused)
})

t.test('a route that is not ready yet: nothing is read until it is', async t => {
  const h = harness({ routeReady: false })
  t.ok(h.socket.paused)
  h.route.ready = true
  h.route.sink.routeReady()
  t.notOk(h.socket.paused)
})

t.test('a client that pipelines past the in-flight limit is paused until answers catch up', async t => {
  const h = harness()
  const frames = Array.from({ length: MAX_IN_FLIGHT }, (_, i) => request(META, 12, i, metadataBody()))
  h.socket.send(...frames)
  t.ok(h.socket.paused, `paused at ${MAX_IN_FLIGHT} in flight`)
  for (let i = 0; i < MAX_IN_FLIGHT / 2; i++) h.route.answer(i, metadataAnswer('x'))
  t.notOk(h.socket.paused, 'resumed at half')
})

t.test('drain: no more reading, closed once the last answer is out', async t => {
  const h = harness()
  h.socket.send(request(META, 12, 1, metadataBody()))
  h.session.drain()
  t.ok(h.socket.paused)
  t.notOk(h.session.closed)
  h.route.answer(0, metadataAnswer('a'))
  t.ok(h.session.closed)
  t.ok(h.socket.ended, 'ended gracefully, answers first')
  t.equal(h.socket.responses().length, 1)
  t.equal(h.closedSessions, 1)
})

t.test('drain of a SaslHandshake v0 relay with a request still in flight: closed once it is answered (found by the session fuzz)', async t => {
  const h = harness()
  const SASL = ApiKey.SaslHandshake
  h.socket.send(request(SASL, 0, 1, { mechanism: 'PLAIN' }), request(META, 12, 2, metadataBody()))
  h.route.answer(0, { ...getApi(SASL).response.create(), errorCode: 0, mechanisms: ['PLAIN'] })
  t.equal(h.session.state, 'passthrough', 'a successful v0 handshake makes the connection a relay')
  t.equal(h.session.inFlight, 1, 'the Metadata request read before it is still in flight')
  h.session.drain()
  t.notOk(h.session.closed)
  h.route.answer(1, metadataAnswer('a'))
  t.ok(h.session.closed, 'closed once the last answer is out, not left to the shutdown timeout')
  t.ok(h.socket.ended, 'gracefully')
})

t.test('drain while a held request has an acks=0 Produce behind it: closed once both are gone (found by the session fuzz)', async t => {
  let release!: (v: unknown) => void
  const filter: Filter = {
    interests: { requests: [{ apiKeys: ['Metadata'], level: 'header' }] },
    onRequest () { return new Promise(resolve => { release = resolve }) as any }
  }
  const h = harness({ filters: [filter] })
  h.socket.send(request(META, 12, 1, metadataBody()), request(ApiKey.Produce, 9, 2, produceBody(['t'], 0)))
  t.equal(h.session.inFlight, 2, 'the held Metadata request and the Produce waiting behind it')
  h.session.drain()
  release({ kind: 'error', errorCode: 'NOT_CONTROLLER' })
  await tick()
  t.equal(h.route.forwarded.length, 1, 'the Produce went upstream (no answer expected)')
  t.equal(h.socket.responses().length, 1, 'the Metadata request was answered')
  t.ok(h.session.closed, 'the draining session closed: nothing is left in flight')
})

t.test('a filter\'s frames answer that is not one response frame for the request is a filter failure, never written (found by the session fuzz)', async t => {
  const garbage = Buffer.from([0, 0, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8])
  const wrongId = Buffer.from([0, 0, 0, 8, 0, 0, 0, 77, 0, 0, 0, 0])
  const answers: unknown[] = [{ kind: 'frames', frames: [garbage] }, { kind: 'frames', frames: [wrongId] }, { kind: 'frames', frames: [] }]
  const filter: Filter = {
    interests: { requests: [{ apiKeys: ['Metadata'] }] },
    onRequest () { return answers.shift() as any }
  }
  const h = harness({ filters: [filter] })
  h.socket.send(request(META, 12, 1, metadataBody()), request(META, 12, 2, metadataBody()))
  const got = h.socket.responses().map(p => decoded(p, META, 12))
  t.same(got.map(d => d.header.correlationId), [1, 2], 'each request answered once, in order')
  t.same(got.map(d => d.body.topics.length), [0, 0])
  const failures = h.logs.filter(l => l.code === 'KPROXY_ERR_FILTER_FAILED').map(l => l.err)
  t.match(failures, [/have a size prefix of 9 for 8 bytes/, /carry correlation id 77 instead of the request's 2/], JSON.stringify(failures))
  h.socket.send(request(META, 12, 3, metadataBody()))
  t.ok(h.session.closed, 'the third failure closes the connection')
  t.ok(h.logs.some(l => l.code === 'KPROXY_ERR_FILTER_FAILING'))
})

t.test('taps see every request and every response with its latency; connection hooks run', async t => {
  const seen: string[] = []
  const opened: number[] = []
  const closed: number[] = []
  const filter: Filter = {
    interests: {},
    onConnectionOpen (c) { opened.push(c.id) },
    onConnectionClose (c) { closed.push(c.id) }
  }
  const h = harness({ filters: [filter], taps: [{ request: (k, v, size) => { seen.push(`req ${k}/${v} ${size > 0}`) }, response: (k, v, us) => { seen.push(`res ${k}/${v} ${us >= 0}`) } }] })
  h.socket.send(request(META, 12, 1, metadataBody()))
  h.route.answer(0, metadataAnswer('a'))
  t.same(seen, ['req 3/12 true', 'res 3/12 true'])
  h.socket.emit('close')
  t.same(opened, [h.session.context.id])
  t.same(closed, [h.session.context.id])
})

t.test('versions outside the pinned range: ApiVersions answered by kproxy, Produce v0-2 forwarded, old versions to filters that want them, the rest closed', async t => {
  const h = harness()
  const frame = Buffer.from([0, 0, 0, 11, 0, 18, 0, 99, 0, 0, 0, 4, 0, 1, 0x78])
  h.socket.emit('data', frame)
  const [r] = h.socket.responses()
  t.equal(decoded(r!, ApiKey.ApiVersions, 0).body.errorCode, 35)
  t.equal(h.route.forwarded.length, 0)
  // Produce v2 is not in the 4.3.1 range; with no filter it is forwarded for the broker to answer
  const old = Buffer.alloc(4 + 10 + 10)
  old.writeInt32BE(20, 0); old.writeInt16BE(0, 4); old.writeInt16BE(2, 6); old.writeInt32BE(9, 8); old.writeInt16BE(0, 12)
  old.writeInt16BE(1, 14); old.writeInt32BE(1000, 16); old.writeInt32BE(0, 20)
  h.socket.emit('data', old)
  t.equal(h.route.forwarded.length, 1, 'forwarded undecoded')
  // a filter that wants Produce v0-2 gets it decoded (the codecs read the versions Kafka 4 dropped)
  const acks: number[] = []
  const wants: Filter = { interests: { requests: [{ apiKeys: ['Produce'], maxVersion: 2 }] }, onRequest (r) { acks.push(r.body.acks); return undefined } }
  const h2 = harness({ filters: [wants] })
  h2.socket.emit('data', Buffer.from(old))
  t.same(acks, [1])
  t.equal(h2.route.forwarded.length, 1)
  // a version nobody can read: closed with a coded reason
  const h3 = harness({ filters: [wants] })
  h3.socket.emit('data', Buffer.concat(request(3, 12, 1, { ...getApi(3).request.create(), topics: [] })).fill(99, 7, 8))
  t.ok(h3.session.closed)
  t.ok(h3.logs.some(l => l.code === 'KPROXY_ERR_UNSUPPORTED_VERSION'))
})

t.test('a filter that sets upstreamVersion: the request goes up at that version, the answer comes back at the client\'s', async t => {
  const LO = ApiKey.ListOffsets
  const lo = getApi(LO)
  const v0Body = (): any => ({
    ...lo.request.create(),
    replicaId: -1,
    topics: [{ ...lo.request.structs.ListOffsetsTopic!(), name: 'orders', partitions: [{ ...lo.request.structs.ListOffsetsPartition!(), partitionIndex: 0, timestamp: -1n, maxNumOffsets: 1 }] }]
  })
  const v1Answer = (): any => ({
    ...lo.response.create(),
    topics: [{ ...lo.response.structs.ListOffsetsTopicResponse!(), name: 'orders', partitions: [{ ...lo.response.structs.ListOffsetsPartitionResponse!(), partitionIndex: 0, timestamp: -1n, offset: 42n }] }]
  })
  const seen: string[] = []
  const bridge: Filter = {
    interests: { requests: [{ apiKeys: ['ListOffsets'], maxVersion: 0 }], responses: [{ apiKeys: ['ListOffsets'], maxVersion: 0 }] },
    onRequest (r: FilterRequest) { r.upstreamVersion = 1 },
    onResponse (res: FilterResponse) {
      seen.push(`bridge sees v${res.apiVersion} for a v${res.request.apiVersion} client`)
      for (const p of res.body.topics[0].partitions) p.oldStyleOffsets = [p.offset]
      res.markChanged()
    }
  }
  const after: Filter = {
    interests: { requests: [{ apiKeys: ['ListOffsets'] }], responses: [{ apiKeys: ['ListOffsets'] }] },
    onRequest (r: FilterRequest) { seen.push(`next filter sees v${r.upstreamVersion} of a v${r.apiVersion} request`) },
    onResponse (res: FilterResponse) { seen.push(`next filter sees a v${res.apiVersion} answer`) }
  }
  const h = harness({ filters: [bridge, after] })
  h.socket.send(request(LO, 0, 7, v0Body()))
  const f = h.route.forwarded[0]!
  t.equal(f.payload.readInt16BE(2), 1, 'sent upstream at v1')
  h.route.answer(0, v1Answer())
  const [r] = h.socket.responses().map(p => decoded(p, LO, 0))
  t.equal(r!.header.correlationId, 7)
  t.same(r!.body.topics[0].partitions[0].oldStyleOffsets, [42n], 'answered at v0 with what the filter set')
  t.same(seen, ['next filter sees v1 of a v0 request', 'next filter sees a v1 answer', 'bridge sees v1 for a v0 client'])

  // a filter after the version change answers with an error: made at v1, handed back at v0
  const deny: Filter = { interests: { requests: [{ apiKeys: ['ListOffsets'] }] }, onRequest () { return { kind: 'error', errorCode: 'NOT_LEADER_OR_FOLLOWER' } } }
  const h2 = harness({ filters: [bridge, deny] })
  h2.socket.send(request(LO, 0, 8, v0Body()))
  t.equal(h2.route.forwarded.length, 0)
  const [r2] = h2.socket.responses().map(p => decoded(p, LO, 0))
  t.equal(r2!.body.topics[0].partitions[0].errorCode, 6)

  // a filter that changes the version without response interest: the answer is still re-encoded
  const blind: Filter = { interests: { requests: [{ apiKeys: ['ListOffsets'], maxVersion: 0 }] }, onRequest (r: FilterRequest) { r.upstreamVersion = 1 } }
  const h3 = harness({ filters: [blind] })
  h3.socket.send(request(LO, 0, 9, v0Body()))
  h3.route.answer(0, v1Answer())
  const [r3] = h3.socket.responses().map(p => decoded(p, LO, 0))
  t.equal(r3!.header.correlationId, 9)
  t.equal(r3!.body.topics[0].partitions[0].errorCode, 0)

  // a version kproxy cannot write is refused where it is set
  const wrong: Filter = { interests: { requests: [{ apiKeys: ['ListOffsets'], maxVersion: 0 }] }, onRequest (r: FilterRequest) { r.upstreamVersion = 99 } }
  const h4 = harness({ filters: [wrong] })
  h4.socket.send(request(LO, 0, 10, v0Body()))
  t.equal(h4.route.forwarded.length, 0)
  t.ok(h4.logs.some(l => l.code === 'KPROXY_ERR_FILTER_FAILED' && /version 99/.test(l.err)))
})

t.test('a malformed frame closes only this connection with a coded reason', async t => {
  const h = harness()
  h.socket.emit('data', Buffer.from([0, 0, 0, 3, 1, 2, 3]))
  t.ok(h.session.closed)
  t.ok(h.logs.some(l => l.code === 'KPROXY_ERR_DECODE'))
})
