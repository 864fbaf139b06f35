// Net5Tuple: the flow of a dnsprobe record, as its 38-byte Kafka key carries it (docs/architecture.md,
// docs/records.md "Keys"): IP version, IP protocol, address A, address B (16 bytes each, IPv4 as
// IPv4-mapped IPv6), port A, port B; endpoint A is the lower (address, port) pair.
package dnsprobe.consumers;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.Objects;

public final class Net5Tuple {
    private final int version;
    private final int protocol;
    private final byte[] addressA;
    private final byte[] addressB;
    private final int portA;
    private final int portB;

    public Net5Tuple(int version, int protocol, byte[] addressA, byte[] addressB, int portA,
            int portB) {
        if (addressA.length != 16 || addressB.length != 16) {
            throw new IllegalArgumentException("addresses are 16 bytes (IPv4 as ::ffff:a.b.c.d)");
        }
        this.version = version;
        this.protocol = protocol;
        this.addressA = addressA.clone();
        this.addressB = addressB.clone();
        this.portA = portA;
        this.portB = portB;
    }

    public int version() {
        return version;
    }

    public int protocol() {
        return protocol;
    }

    public byte[] addressABytes() {
        return addressA.clone();
    }

    public byte[] addressBBytes() {
        return addressB.clone();
    }

    /** Address A: an Inet4Address in an IPv4 flow, an Inet6Address in an IPv6 flow. */
    public InetAddress addressA() {
        return address(addressA);
    }

    public InetAddress addressB() {
        return address(addressB);
    }

    public int portA() {
        return portA;
    }

    public int portB() {
        return portB;
    }

    private InetAddress address(byte[] bytes) {
        try {
            // InetAddress.getByAddress would turn ::ffff:a.b.c.d in an IPv6 flow into IPv4.
            return version == 6 ? Inet6Address.getByAddress(null, bytes, -1)
                                : InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // only thrown for a wrong length
        }
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Net5Tuple)) {
            return false;
        }
        Net5Tuple t = (Net5Tuple) o;
        return version == t.version && protocol == t.protocol && portA == t.portA
                && portB == t.portB && Arrays.equals(addressA, t.addressA)
                && Arrays.equals(addressB, t.addressB);
    }

    @Override
    public int hashCode() {
        return Objects.hash(version, protocol, Arrays.hashCode(addressA),
                Arrays.hashCode(addressB), portA, portB);
    }

    @Override
    public String toString() {
        String name = protocol == 17 ? "udp" : protocol == 6 ? "tcp" : "proto-" + protocol;
        return name + " " + endpoint(addressA(), portA) + " " + endpoint(addressB(), portB);
    }

    private String endpoint(InetAddress a, int port) {
        String host = a.getHostAddress();
        return (version == 6 ? "[" + host + "]" : host) + ":" + port;
    }
}
