// Confluent's official JavaScript Schema Registry client and serdes
// (@confluentinc/schemaregistry) and kafkajs against a running DataQuarantine
// gateway. Run by conformance_test.go, which starts the gateway and sets:
//   DQ_REGISTRY_URL  the gateway's registry (http://127.0.0.1:port/registry)
//   DQ_KAFKA         its Kafka bootstrap address
// The gateway binds raw-avro, raw-json and raw-proto to the subjects
// <topic>-value (TopicNameStrategy), each seeded with a version 1 by its
// configuration, forwards clean records to validated-events and quarantines
// the others to quarantine-dlq.
import { test } from 'node:test'
import assert from 'node:assert/strict'

import {
  AvroDeserializer, AvroSerializer, CelExecutor, Compatibility, HeaderSchemaIdSerializer,
  JsonDeserializer, JsonSerializer, ProtobufDeserializer, ProtobufSerializer, RuleRegistry,
  SchemaRegistryClient, SerdeType,
} from '@confluentinc/schemaregistry'
import { create, createFileRegistry, createMutableRegistry, fromBinary, toBinary } from '@bufbuild/protobuf'
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt'
import kafkajs from 'kafkajs'

// Stock kafkajs, no codec plugin: the gateway produces uncompressed batches
// by default (kafka.compression: none), which every client reads.
const { Kafka, logLevel } = kafkajs

const registryURL = process.env.DQ_REGISTRY_URL
const bootstrap = process.env.DQ_KAFKA
assert.ok(registryURL && bootstrap, 'DQ_REGISTRY_URL and DQ_KAFKA must be set (conformance_test.go sets them)')

const client = new SchemaRegistryClient({ baseURLs: [registryURL], maxRetries: 0 })
// A client per check that must reach the server, not the client's caches.
const fresh = () => new SchemaRegistryClient({ baseURLs: [registryURL], maxRetries: 0 })

// The schemas, as the gateway's configuration seeds them (version 1 of the
// pipeline subjects) and as a producer writes them: the same schemas with
// their keys in another order, or as a descriptor instead of .proto text.
const avroSchema = JSON.stringify({
  type: 'record', name: 'Payment', namespace: 'shop',
  fields: [{ name: 'id', type: 'string' }, { name: 'cents', type: 'long' }, { name: 'currency', type: 'string', default: 'EUR' }],
})
const avroSchemaReordered = JSON.stringify({
  fields: [{ type: 'string', name: 'id' }, { type: 'long', name: 'cents' }, { default: 'EUR', type: 'string', name: 'currency' }],
  namespace: 'shop', name: 'Payment', type: 'record',
})
const jsonSchema = JSON.stringify({
  type: 'object', required: ['id', 'cents'], additionalProperties: false,
  properties: { id: { type: 'string' }, cents: { type: 'integer', minimum: 0 }, note: { type: 'string' } },
})
const jsonSchemaReordered = JSON.stringify({
  properties: { note: { type: 'string' }, cents: { minimum: 0, type: 'integer' }, id: { type: 'string' } },
  additionalProperties: false, required: ['id', 'cents'], type: 'object',
})
// shop/order.proto, as protoc would describe it:
//   syntax = "proto3"; package shop;
//   message Order { string id = 1; int64 cents = 2; repeated string tags = 3; }
const orderFile = createFileRegistry(create(FileDescriptorProtoSchema, {
  name: 'shop/order.proto', package: 'shop', syntax: 'proto3',
  messageType: [{
    name: 'Order',
    field: [
      { name: 'id', number: 1, label: 1 /* OPTIONAL */, type: 9 /* STRING */, jsonName: 'id' },
      { name: 'cents', number: 2, label: 1, type: 3 /* INT64 */, jsonName: 'cents' },
      { name: 'tags', number: 3, label: 3 /* REPEATED */, type: 9, jsonName: 'tags' },
    ],
  }],
}), () => undefined)
const Order = orderFile.getMessage('shop.Order')
const protoText = 'syntax = "proto3";\npackage shop;\n\nmessage Order {\n  string id = 1;\n  int64 cents = 2;\n  repeated string tags = 3;\n}'

// rejects asserts that p fails with a registry error of this code.
async function rejects(p, errorCode) {
  await assert.rejects(p, (err) => {
    assert.equal(err.errorCode, errorCode, `error ${err.message}: want error code ${errorCode}`)
    return true
  })
}

const formats = [
  { name: 'AVRO', type: 'AVRO', schema: avroSchema, other: avroSchemaReordered, incompatible: JSON.stringify({ type: 'record', name: 'Payment', namespace: 'shop', fields: [{ name: 'id', type: 'int' }] }) },
  { name: 'JSON', type: 'JSON', schema: jsonSchema, other: jsonSchemaReordered, incompatible: JSON.stringify({ type: 'object', properties: { id: { type: 'integer' } } }) },
  { name: 'PROTOBUF', type: 'PROTOBUF', schema: protoText, other: null, incompatible: 'syntax = "proto3";\npackage shop;\n\nmessage Order {\n  int32 id = 1;\n}' },
]

for (const f of formats) {
  test(`registry API, ${f.name}: register, lookup, get in both formats, compatibility, config, delete`, async () => {
    const subject = `api-${f.name.toLowerCase()}`
    const info = { schemaType: f.type, schema: f.schema }
    const registered = await client.registerFullResponse(subject, info)
    assert.equal(registered.version, 1)
    assert.ok(registered.id > 0)
    assert.match(registered.guid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'register answers a guid (Confluent Platform 8)')

    // The same schema in another form: keys reordered (Avro, JSON), or a
    // base64 FileDescriptorProto (Protobuf) is the same schema.
    let other = f.other
    if (f.type === 'PROTOBUF') {
      const serialized = await fresh().getSchemaMetadata(subject, 1, false, 'serialized')
      other = serialized.schema
      const fd = fromBinary(FileDescriptorProtoSchema, Buffer.from(other, 'base64'))
      assert.equal(fd.package, 'shop')
      assert.deepEqual(fd.messageType.map((m) => m.name), ['Order'])
      assert.deepEqual(fd.messageType[0].field.map((x) => [x.name, x.number]), [['id', 1], ['cents', 2], ['tags', 3]])
    }
    const again = await fresh().registerFullResponse(subject, { schemaType: f.type, schema: other })
    assert.equal(again.id, registered.id, 'the same schema in another form registers no new id')
    assert.equal(again.version, 1, 'nor a new version')
    const found = await fresh().getIdFullResponse(subject, { schemaType: f.type, schema: other })
    assert.equal(found.id, registered.id)
    assert.equal(found.guid, registered.guid, 'lookup answers the guid')
    assert.equal(await fresh().getVersion(subject, { schemaType: f.type, schema: other }), 1)

    // Get by version, id and GUID, as stored and (Protobuf) serialized.
    const byVersion = await fresh().getSchemaMetadata(subject, 1)
    assert.equal(byVersion.guid, registered.guid)
    assert.equal(byVersion.id, registered.id)
    const byID = await fresh().getBySubjectAndId(subject, registered.id)
    assert.equal(byID.schema, byVersion.schema)
    const byIDSerialized = await fresh().getBySubjectAndId(subject, registered.id, 'serialized')
    if (f.type === 'PROTOBUF') {
      assert.notEqual(byIDSerialized.schema, byID.schema)
      assert.equal(fromBinary(FileDescriptorProtoSchema, Buffer.from(byIDSerialized.schema, 'base64')).messageType[0].name, 'Order')
    } else {
      assert.equal(byIDSerialized.schema, byID.schema, 'format=serialized leaves a non-Protobuf schema as it is')
    }
    const byGUID = await fresh().getByGuid(registered.guid)
    assert.equal(byGUID.schema, byID.schema)
    const latest = await fresh().getLatestSchemaMetadata(subject)
    assert.equal(latest.version, 1)

    // An unknown schema is 40403, an unknown subject 40401.
    const unknown = f.type === 'PROTOBUF' ? unknownDescriptor(other) : f.incompatible
    await rejects(fresh().getId(subject, { schemaType: f.type, schema: unknown }), 40403)
    await rejects(fresh().getId('no-such-subject', info), 40401)

    // Compatibility, then the subject's level.
    assert.equal(await client.testSubjectCompatibility(subject, { schemaType: f.type, schema: f.incompatible }), false)
    assert.equal(await client.testCompatibility(subject, 1, info), true)
    await client.updateCompatibility(subject, Compatibility.NONE)
    assert.equal(await fresh().getCompatibility(subject), Compatibility.NONE)
    assert.equal(await client.testSubjectCompatibility(subject, { schemaType: f.type, schema: f.incompatible }), true)
    const v2 = await client.registerFullResponse(subject, { schemaType: f.type, schema: f.incompatible })
    assert.equal(v2.version, 2)
    assert.deepEqual(await client.getAllVersions(subject), [1, 2])

    // Delete: soft, then permanent.
    assert.equal(await client.deleteSubjectVersion(subject, 2), 2)
    assert.deepEqual(await fresh().getAllVersions(subject), [1])
    assert.equal(await client.deleteSubjectVersion(subject, 2, true), 2)
    assert.deepEqual(await client.deleteSubject(subject), [1])
    await rejects(fresh().getAllVersions(subject), 40401)
    assert.deepEqual(await client.deleteSubject(subject, true), [1])
    assert.ok(!(await client.getAllSubjects()).includes(subject))
  })
}

// unknownDescriptor returns, in base64, a descriptor of a schema nobody
// registered: the Order of b64 without its tags.
function unknownDescriptor(b64) {
  const fd = fromBinary(FileDescriptorProtoSchema, Buffer.from(b64, 'base64'))
  fd.messageType[0].field = fd.messageType[0].field.filter((x) => x.name !== 'tags')
  return Buffer.from(toBinary(FileDescriptorProtoSchema, fd)).toString('base64')
}

test('registry API: global compatibility level, metadata and the latest version with metadata', async () => {
  const before = await client.getDefaultCompatibility()
  assert.equal(await client.updateDefaultCompatibility(Compatibility.FULL), Compatibility.FULL)
  assert.equal(await fresh().getDefaultCompatibility(), Compatibility.FULL)
  await client.updateDefaultCompatibility(before)

  const subject = 'api-metadata'
  const metadata = { properties: { owner: 'payments-team', tier: 'gold' }, tags: { id: ['PII'] }, sensitive: ['id'] }
  const v1 = await client.registerFullResponse(subject, { schemaType: 'JSON', schema: jsonSchema, metadata })
  assert.deepEqual(v1.metadata, metadata, 'metadata is stored and returned')
  const got = await fresh().getSchemaMetadata(subject, 1)
  assert.deepEqual(got.metadata, metadata)
  const withMeta = await fresh().getLatestWithMetadata(subject, { owner: 'payments-team' })
  assert.equal(withMeta.version, 1)
  await rejects(fresh().getLatestWithMetadata(subject, { owner: 'nobody' }), 40402)
  // The same schema without metadata inherits the latest version's, as in
  // Confluent: no new version.
  const again = await fresh().registerFullResponse(subject, { schemaType: 'JSON', schema: jsonSchema })
  assert.equal(again.version, 1)
  assert.deepEqual(again.metadata, metadata)
})

// Kafka through the gateway.
const kafka = new Kafka({ clientId: 'dq-confluent-js', brokers: [bootstrap], logLevel: logLevel.NOTHING })
const producer = kafka.producer()
let collected = { 'validated-events': [], 'quarantine-dlq': [] }
let consumer

async function startConsumer() {
  if (consumer) return
  consumer = kafka.consumer({ groupId: `dq-confluent-js-${Date.now()}` })
  await consumer.connect()
  await consumer.subscribe({ topics: ['validated-events', 'quarantine-dlq'], fromBeginning: true })
  await consumer.run({ eachMessage: async ({ topic, message }) => { collected[topic].push(message) } })
  await producer.connect()
}

// waitFor polls the collected records for one with this key.
async function waitFor(topic, key) {
  const deadline = Date.now() + 60_000
  for (;;) {
    const m = collected[topic].find((x) => x.key?.toString() === key)
    if (m) return m
    if (Date.now() > deadline) throw new Error(`no record with key ${key} on ${topic} within 60s (have ${collected[topic].length})`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

// roundTrip serializes msg, produces it to topic, waits for the gateway to
// forward it to validated-events, and deserializes what arrives.
async function roundTrip(topic, key, serializer, deserializer, msg) {
  const headers = {}
  const value = await serializer.serialize(topic, msg, headers)
  await producer.send({ topic, messages: [{ key, value, headers }] })
  const out = await waitFor('validated-events', key)
  assert.ok(out.value.equals(value), 'the gateway forwards the value byte for byte')
  return { value, headers: out.headers, decoded: await deserializer.deserialize(topic, out.value, out.headers) }
}

const idInPayload = {}
const guidInHeaders = { schemaIdSerializer: HeaderSchemaIdSerializer }

test('Avro round trips through the gateway: id in the payload, GUID in headers', async () => {
  await startConsumer()
  const topic = 'raw-avro'
  // Version 1 came from the gateway's configuration, with its keys in
  // another order: registering the producer's schema finds it.
  const reg = await client.registerFullResponse(`${topic}-value`, { schemaType: 'AVRO', schema: avroSchema })
  assert.equal(reg.version, 1)
  const payment = { id: 'p-1', cents: 1250, currency: 'USD' }
  for (const [name, conf] of [['id', idInPayload], ['guid', guidInHeaders]]) {
    const ser = new AvroSerializer(fresh(), SerdeType.VALUE, { useLatestVersion: true, ...conf })
    const de = new AvroDeserializer(fresh(), SerdeType.VALUE, {})
    const { value, headers, decoded } = await roundTrip(topic, `avro-${name}`, ser, de, payment)
    assert.deepEqual({ ...decoded }, payment) // an avsc record: compare its fields
    if (name === 'id') {
      assert.equal(value[0], 0)
      assert.equal(value.readInt32BE(1), reg.id)
    } else {
      assert.equal(headers.__value_schema_id[0], 1)
      assert.equal(headers.__value_schema_id.subarray(1).toString('hex'), reg.guid.replaceAll('-', ''))
    }
  }
})

test('JSON Schema round trips through the gateway: id in the payload, GUID in headers', async () => {
  await startConsumer()
  const topic = 'raw-json'
  const reg = await client.registerFullResponse(`${topic}-value`, { schemaType: 'JSON', schema: jsonSchemaReordered })
  assert.equal(reg.version, 1, 'the configuration seeded this schema with its keys in another order')
  const order = { id: 'j-1', cents: 99, note: 'gift' }
  for (const [name, conf] of [['id', idInPayload], ['guid', guidInHeaders]]) {
    const ser = new JsonSerializer(fresh(), SerdeType.VALUE, { useLatestVersion: true, ...conf })
    const de = new JsonDeserializer(fresh(), SerdeType.VALUE, {})
    const { decoded } = await roundTrip(topic, `json-${name}`, ser, de, order)
    assert.deepEqual(decoded, order)
  }
})

test('Protobuf round trips through the gateway: the serializer registers and looks up a descriptor', async () => {
  await startConsumer()
  const topic = 'raw-proto'
  const msg = create(Order, { id: 'o-1', cents: 4200n, tags: ['gift', 'express'] })
  const cases = [
    ['auto-register', { autoRegisterSchemas: true }],
    ['lookup', { autoRegisterSchemas: false }],
    ['guid', { autoRegisterSchemas: false, ...guidInHeaders }],
  ]
  for (const [name, conf] of cases) {
    const ser = new ProtobufSerializer(fresh(), SerdeType.VALUE, { ...conf, registry: createMutableRegistry(Order) })
    const de = new ProtobufDeserializer(fresh(), SerdeType.VALUE, {})
    const { value, decoded } = await roundTrip(topic, `proto-${name}`, ser, de, msg)
    if (name !== 'guid') {
      const v1 = await fresh().getSchemaMetadata(`${topic}-value`, 1)
      assert.equal(value.readInt32BE(1), v1.id, 'the descriptor is version 1, seeded as .proto text')
    }
    assert.equal(decoded.$typeName, 'shop.Order')
    assert.equal(decoded.id, 'o-1')
    assert.equal(decoded.cents, 4200n)
    assert.deepEqual(decoded.tags, ['gift', 'express'])
  }
  assert.deepEqual(await fresh().getAllVersions(`${topic}-value`), [1], 'no version was added')
  // A descriptor the subject does not have is not found (40403), not invalid.
  const v1 = await fresh().getSchemaMetadata(`${topic}-value`, 1, false, 'serialized')
  await rejects(fresh().getId(`${topic}-value`, { schemaType: 'PROTOBUF', schema: unknownDescriptor(v1.schema) }), 40403)
})

test('rule sets: stored for clients, CEL conditions run by the client and by the gateway', async () => {
  await startConsumer()
  const topic = 'raw-json'
  const subject = `${topic}-value`
  const ruleSet = {
    domainRules: [{
      name: 'positive_cents', kind: 'CONDITION', mode: 'WRITE', type: 'CEL', expr: 'message.cents > 0',
      params: { message: 'cents must be positive', field: '/cents' }, onFailure: 'ERROR',
    }],
    migrationRules: [{ name: 'rename_note', kind: 'TRANSFORM', mode: 'UPGRADE', type: 'JSONATA', expr: "$merge([$sift($, function($v, $k) {$k != 'memo'}), {'note': $.memo}])" }],
  }
  const v2 = await client.registerFullResponse(subject, { schemaType: 'JSON', schema: jsonSchema, ruleSet })
  assert.equal(v2.version, 2, 'the same schema with rules is a new version')
  const stored = await fresh().getSchemaMetadata(subject, 2)
  assert.deepEqual(stored.ruleSet, ruleSet, 'every well-formed rule is stored and returned, the JSONATA migration rule included')

  // The client runs the CEL condition it read from the registry.
  const rules = new RuleRegistry()
  rules.registerExecutor(new CelExecutor())
  const checked = new JsonSerializer(fresh(), SerdeType.VALUE, { useLatestVersion: true }, rules)
  await assert.rejects(checked.serialize(topic, { id: 'r-0', cents: 0 }), /positive_cents|condition/i)
  const ok = await checked.serialize(topic, { id: 'r-1', cents: 5 })

  // A producer that skips the rule: the gateway runs it and quarantines.
  const skipping = new RuleRegistry()
  skipping.registerExecutor(new CelExecutor())
  skipping.registerOverride({ type: 'CEL', disabled: true })
  const unchecked = new JsonSerializer(fresh(), SerdeType.VALUE, { useLatestVersion: true }, skipping)
  const bad = await unchecked.serialize(topic, { id: 'r-2', cents: 0 })
  assert.equal(bad.readInt32BE(1), v2.id)
  await producer.send({ topic, messages: [{ key: 'rule-ok', value: ok }, { key: 'rule-bad', value: bad }] })
  const passed = await waitFor('validated-events', 'rule-ok')
  assert.ok(passed.value.equals(ok))
  const quarantined = await waitFor('quarantine-dlq', 'rule-bad')
  assert.equal(quarantined.headers['dq.error.type'].toString(), 'RULE_VIOLATION')
  assert.equal(quarantined.headers['dq.error.field'].toString(), '/cents')
  assert.equal(quarantined.headers['dq.error.message'].toString(), 'cents must be positive')
  assert.ok(quarantined.value.equals(bad), 'the DLQ record is the record as produced')
})

test('close', async () => {
  if (consumer) await consumer.disconnect()
  await producer.disconnect()
})
