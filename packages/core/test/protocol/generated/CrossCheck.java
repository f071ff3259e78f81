// Reads lines "<message class> <version> <hex>" on stdin; for each, Kafka's own generated Java
// class parses the bytes and writes them again. Prints "SAME <json>" when Kafka's bytes equal the
// input, "DIFF <hex> <json>" otherwise (json: Kafka's JSON converter view of the message), or
// "ERR <exception>" when Kafka cannot read them. Used by java-interop.test.ts:
//   java -cp '<kafka lib dir>/*' CrossCheck.java
// (also with kafka-clients 3.9.x, for the bridged versions)
import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Message;
import org.apache.kafka.common.protocol.ObjectSerializationCache;

public class CrossCheck {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in), 1 << 20);
        PrintStream out = new PrintStream(new BufferedOutputStream(System.out, 1 << 20));
        String line;
        while ((line = in.readLine()) != null) {
            String[] p = line.split(" ");
            try {
                short version = Short.parseShort(p[1]);
                byte[] bytes = p.length > 2 ? HexFormat.of().parseHex(p[2]) : new byte[0];
                Class<?> c = Class.forName("org.apache.kafka.common.message." + p[0]);
                Message m = (Message) c.getConstructor(org.apache.kafka.common.protocol.Readable.class, short.class)
                    .newInstance(new ByteBufferAccessor(ByteBuffer.wrap(bytes)), version);
                // size() and write() rather than MessageUtil, whose helpers differ between 3.x and 4.x
                ObjectSerializationCache cache = new ObjectSerializationCache();
                byte[] again = new byte[m.size(cache, version)];
                m.write(new ByteBufferAccessor(ByteBuffer.wrap(again)), cache, version);
                Class<?> jc = Class.forName("org.apache.kafka.common.message." + p[0] + "JsonConverter");
                JsonNode json;
                try {
                    json = (JsonNode) jc.getMethod("write", c, short.class, boolean.class).invoke(null, m, version, true);
                } catch (NoSuchMethodException e) {
                    json = (JsonNode) jc.getMethod("write", c, short.class).invoke(null, m, version);
                }
                out.println((Arrays.equals(again, bytes) ? "SAME " : "DIFF " + HexFormat.of().formatHex(again) + " ") + json);
            } catch (Throwable t) {
                Throwable cause = t;
                while (cause.getCause() != null) cause = cause.getCause();
                out.println("ERR " + cause.toString().replace('\n', ' '));
            }
        }
        out.flush();
    }
}
