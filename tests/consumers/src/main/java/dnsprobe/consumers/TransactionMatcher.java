// TransactionMatcher: joins each DNS answer with its query. Both carry the same flow key, so
// they arrive at the same partition and stream task; a state store keyed by (flow, dns.id)
// remembers where each side was seen (partition and task id). Passes every record on unchanged,
// key untouched, so the count downstream needs no repartition.
package dnsprobe.consumers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.UncheckedIOException;
import java.util.HexFormat;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.state.KeyValueStore;

public final class TransactionMatcher implements FixedKeyProcessor<Net5Tuple, String, String> {
    public static final String STORE = "transactions";

    private static final ObjectMapper JSON = new ObjectMapper();
    private final Serializer<Net5Tuple> keys = new Net5TupleSerde().serializer();
    private FixedKeyProcessorContext<Net5Tuple, String> context;
    private KeyValueStore<String, String> transactions;

    /** The store key of a transaction: the flow key in hex, '/', the DNS id. */
    public static String transactionKey(byte[] flowKey, int id) {
        return HexFormat.of().formatHex(flowKey) + "/" + id;
    }

    @Override
    public void init(FixedKeyProcessorContext<Net5Tuple, String> context) {
        this.context = context;
        this.transactions = context.getStateStore(STORE);
    }

    @Override
    public void process(FixedKeyRecord<Net5Tuple, String> record) {
        JsonNode dns;
        try {
            dns = JSON.readTree(record.value()).path("dns");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new UncheckedIOException("record value is not JSON (--format raw?)", e);
        }
        String type = dns.path("type").asText();
        if ((type.equals("query") || type.equals("answer")) && dns.has("id")) {
            String key = transactionKey(keys.serialize(null, record.key()), dns.get("id").asInt());
            String seen = transactions.get(key);
            ObjectNode sides;
            try {
                sides = seen == null ? JSON.createObjectNode() : (ObjectNode) JSON.readTree(seen);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new UncheckedIOException(e);
            }
            if (!sides.has(type)) {
                ObjectNode where = sides.putObject(type);
                where.put("partition", context.recordMetadata().orElseThrow().partition());
                where.put("task", context.taskId().toString());
                transactions.put(key, sides.toString());
            }
        }
        context.forward(record);
    }
}
