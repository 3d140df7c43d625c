/**
 * Produces a shuffled, duplicated stream of shipment events to the service's input topic (created
 * when missing), the way an upstream system with retries and several producers would deliver it.
 *
 *   npm run produce -- --shipments 2000 [--seed 7] [--partitions 6]
 */
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { shipmentStream } from './stream.ts';

const { values } = parseArgs({
  options: {
    shipments: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '1' },
    partitions: { type: 'string', default: '6' },
    'key-prefix': { type: 'string', default: 's' },
  },
});
const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter((broker) => broker !== '');
if (brokers.length === 0) throw new Error('KAFKA_BROKERS is not set');
const topic = process.env.INPUT_TOPIC ?? 'shipments';

const stream = shipmentStream({
  shipments: Number(values.shipments),
  seed: Number(values.seed),
  keyPrefix: values['key-prefix'],
});
const kafka = new Kafka({ clientId: 'shipment-producer', brokers, logLevel: logLevel.WARN });
const admin = kafka.admin();
await admin.connect();
const existing = await admin.listTopics();
if (!existing.includes(topic)) {
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic, numPartitions: Number(values.partitions), replicationFactor: 1 }],
  });
}
await admin.disconnect();

const producer = kafka.producer();
await producer.connect();
// Keyed by the entity, so one shipment's events share a partition (gatekeeper orders them anyway).
const messages = stream.events.map((event) => ({ key: event.key, value: JSON.stringify(event) }));
for (let at = 0; at < messages.length; at += 500) {
  await producer.send({ topic, messages: messages.slice(at, at + 500) });
}
await producer.disconnect();
console.log(`produced ${messages.length} events for ${stream.histories.length} shipments to ${topic}`);
