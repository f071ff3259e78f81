// Prints Kafka's error codes as JSON, one object per org.apache.kafka.common.protocol.Errors value:
// {"code":..,"name":"..","retriable":..,"message":".."}. The codes are not in the JSON message
// definitions, so the generator asks the pinned kafka-clients jar itself:
//   java -cp '<kafka lib dir>/*' DumpErrors.java
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.protocol.Errors;

public class DumpErrors {
    private static String quote(String s) {
        if (s == null) return "null";
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20 || c > 0x7e) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }

    public static void main(String[] args) {
        StringBuilder out = new StringBuilder("[\n");
        Errors[] all = Errors.values();
        for (int i = 0; i < all.length; i++) {
            Errors e = all[i];
            boolean retriable = e.exception() instanceof RetriableException;
            out.append("  {\"code\":").append(e.code())
                .append(",\"name\":").append(quote(e.name()))
                .append(",\"retriable\":").append(retriable)
                .append(",\"message\":").append(quote(e.message()))
                .append(i < all.length - 1 ? "},\n" : "}\n");
        }
        System.out.print(out.append("]\n"));
    }
}
