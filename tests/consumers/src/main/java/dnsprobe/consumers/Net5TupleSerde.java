// Net5TupleSerde: the Kafka Serde of dnsprobe's binary record key. The deserializer reads the
// 38 bytes (network byte order) into a Net5Tuple; the serializer writes the same 38 bytes back,
// so Java producers of other topics can key them by flow and co-partition with dnsprobe's.
package dnsprobe.consumers;

import java.nio.ByteBuffer;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

public final class Net5TupleSerde implements Serde<Net5Tuple> {
    public static final int KEY_SIZE = 38;

    public static final class Net5TupleSerializer implements Serializer<Net5Tuple> {
        @Override
        public byte[] serialize(String topic, Net5Tuple t) {
            if (t == null) {
                return null;
            }
            ByteBuffer b = ByteBuffer.allocate(KEY_SIZE); // big-endian
            b.put((byte) t.version());
            b.put((byte) t.protocol());
            b.put(t.addressABytes());
            b.put(t.addressBBytes());
            b.putShort((short) t.portA());
            b.putShort((short) t.portB());
            return b.array();
        }
    }

    public static final class Net5TupleDeserializer implements Deserializer<Net5Tuple> {
        @Override
        public Net5Tuple deserialize(String topic, byte[] data) {
            if (data == null) {
                return null;
            }
            if (data.length != KEY_SIZE) {
                throw new SerializationException("dnsprobe flow key of " + data.length
                        + " bytes in " + topic + ": expected " + KEY_SIZE
                        + " (was the topic written with --key-format binary?)");
            }
            ByteBuffer b = ByteBuffer.wrap(data); // big-endian
            int version = Byte.toUnsignedInt(b.get());
            int protocol = Byte.toUnsignedInt(b.get());
            byte[] a = new byte[16];
            byte[] z = new byte[16];
            b.get(a);
            b.get(z);
            int portA = Short.toUnsignedInt(b.getShort());
            int portB = Short.toUnsignedInt(b.getShort());
            return new Net5Tuple(version, protocol, a, z, portA, portB);
        }
    }

    @Override
    public Serializer<Net5Tuple> serializer() {
        return new Net5TupleSerializer();
    }

    @Override
    public Deserializer<Net5Tuple> deserializer() {
        return new Net5TupleDeserializer();
    }
}
