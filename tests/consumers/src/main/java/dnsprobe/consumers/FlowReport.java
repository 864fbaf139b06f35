// FlowReport: a Kafka Streams application over dnsprobe's topic (binary keys, JSON values).
// It counts records per flow (groupByKey().count() on the Net5Tuple key) and joins each answer
// with its query (TransactionMatcher), runs until the counts add up to the number of records the
// caller says the topic holds, then prints JSON lines to stdout, one per flow:
//   {"flow": {...}, "key": HEX, "count": N, "partition": P, "java_partition": J}
// (P the partition whose task counted the flow; J = Utils.toPositive(Utils.murmur2(key)) % the
// partition count, the Java producer's placement) and one per (flow, dns.id):
//   {"transaction": "HEX/ID", "partition": P, "query": {"partition": .., "task": ..}, "answer": ..}
// Usage: FlowReport BOOTSTRAP TOPIC PARTITIONS RECORDS STATE_DIR TIMEOUT_SECONDS
// Exit 0 on success, 1 when the records were not all consumed in time, 2 on bad arguments.
package dnsprobe.consumers;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Consumer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.Stores;

public final class FlowReport {
    static final String COUNTS = "flow-counts";
    private static final ObjectMapper JSON = new ObjectMapper();

    static Topology topology(String topic) {
        Net5TupleSerde keySerde = new Net5TupleSerde();
        StreamsBuilder builder = new StreamsBuilder();
        builder.addStateStore(Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(TransactionMatcher.STORE), Serdes.String(),
                Serdes.String()));
        builder.stream(topic, Consumed.with(keySerde, Serdes.String()))
                .processValues(TransactionMatcher::new, TransactionMatcher.STORE)
                .groupByKey(Grouped.with(keySerde, Serdes.String()))
                .count(Materialized.<Net5Tuple, Long, KeyValueStore<Bytes, byte[]>>as(COUNTS)
                        .withKeySerde(keySerde)
                        .withValueSerde(Serdes.Long()));
        return builder.build();
    }

    public static void main(String[] args) throws InterruptedException {
        if (args.length != 6) {
            System.err.println("usage: FlowReport BOOTSTRAP TOPIC PARTITIONS RECORDS STATE_DIR "
                    + "TIMEOUT_SECONDS");
            System.exit(2);
        }
        String topic = args[1];
        int partitions = Integer.parseInt(args[2]);
        long records = Long.parseLong(args[3]);
        long deadline = System.nanoTime() + Duration.ofSeconds(Long.parseLong(args[5])).toNanos();

        Properties config = new Properties();
        config.put(StreamsConfig.APPLICATION_ID_CONFIG,
                "dnsprobe-flow-report-" + UUID.randomUUID());
        config.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        config.put(StreamsConfig.STATE_DIR_CONFIG, args[4]);
        config.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
        config.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
        // Records keep their capture time, and so do the changelog records of the stores: let the
        // changelog topics take any timestamp (by default Kafka 4 rejects ones over an hour ahead).
        config.put(StreamsConfig.topicPrefix("message.timestamp.after.max.ms"), Long.MAX_VALUE);
        config.put(StreamsConfig.topicPrefix("message.timestamp.before.max.ms"), Long.MAX_VALUE);

        Topology topology = topology(topic);
        System.err.println(topology.describe());
        KafkaStreams streams = new KafkaStreams(topology, config);
        streams.setStateListener((now, before) ->
                System.err.printf("FlowReport: %s -> %s%n", before, now));
        streams.setUncaughtExceptionHandler(e -> {
            e.printStackTrace();
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        streams.start();
        try {
            long counted = -1;
            while (counted != records) {
                KafkaStreams.State state = streams.state();
                if (state == KafkaStreams.State.PENDING_ERROR || state == KafkaStreams.State.ERROR
                        || state == KafkaStreams.State.PENDING_SHUTDOWN
                        || state == KafkaStreams.State.NOT_RUNNING) {
                    System.err.printf("FlowReport: the application stopped (%s)%n", state);
                    System.exit(1);
                }
                if (System.nanoTime() > deadline) {
                    System.err.printf("FlowReport: counted %d of %d records before the deadline%n",
                            counted, records);
                    System.exit(1);
                }
                Thread.sleep(500);
                counted = countedRecords(streams);
            }
            Serializer<Net5Tuple> keys = new Net5TupleSerde().serializer();
            for (int p = 0; p < partitions; p++) {
                int partition = p;
                forEach(streams, COUNTS, p, (KeyValue<Net5Tuple, Long> kv) -> {
                    byte[] key = keys.serialize(topic, kv.key);
                    ObjectNode line = JSON.createObjectNode();
                    line.set("flow", flow(kv.key));
                    line.put("key", HexFormat.of().formatHex(key));
                    line.put("count", kv.value);
                    line.put("partition", partition);
                    line.put("java_partition", Utils.toPositive(Utils.murmur2(key)) % partitions);
                    System.out.println(line);
                });
                forEach(streams, TransactionMatcher.STORE, p, (KeyValue<String, String> kv) -> {
                    ObjectNode line = JSON.createObjectNode();
                    line.put("transaction", kv.key);
                    line.put("partition", partition);
                    try {
                        line.setAll((ObjectNode) JSON.readTree(kv.value));
                    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                        throw new IllegalStateException(e);
                    }
                    System.out.println(line);
                });
            }
            System.out.flush();
        } finally {
            streams.close(Duration.ofSeconds(30));
            streams.cleanUp();
        }
    }

    private static ObjectNode flow(Net5Tuple t) {
        ObjectNode f = JSON.createObjectNode();
        f.put("version", t.version());
        f.put("protocol", t.protocol());
        f.put("address_a", t.addressA().getHostAddress());
        f.put("address_b", t.addressB().getHostAddress());
        f.put("port_a", t.portA());
        f.put("port_b", t.portB());
        f.put("text", t.toString());
        return f;
    }

    /** The sum of all per-flow counts so far; -1 while the stores are not queryable. */
    private static long countedRecords(KafkaStreams streams) {
        if (streams.state() != KafkaStreams.State.RUNNING) {
            return -1;
        }
        try {
            ReadOnlyKeyValueStore<Net5Tuple, Long> store = streams.store(StoreQueryParameters
                    .fromNameAndType(COUNTS, QueryableStoreTypes.<Net5Tuple, Long>keyValueStore()));
            long sum = 0;
            try (KeyValueIterator<Net5Tuple, Long> it = store.all()) {
                while (it.hasNext()) {
                    sum += it.next().value;
                }
            }
            return sum;
        } catch (InvalidStateStoreException e) {
            return -1; // rebalancing or restoring
        }
    }

    private static <K, V> void forEach(KafkaStreams streams, String name, int partition,
            Consumer<KeyValue<K, V>> action) {
        ReadOnlyKeyValueStore<K, V> store = streams.store(StoreQueryParameters
                .fromNameAndType(name, QueryableStoreTypes.<K, V>keyValueStore())
                .withPartition(partition));
        try (KeyValueIterator<K, V> it = store.all()) {
            it.forEachRemaining(action);
        }
    }
}
