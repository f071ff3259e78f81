// Kafka 3.9's own record classes, for the cross-implementation tests of the old message formats
// (message-set-java.test.ts). Reads one command per line on stdin, answers one line each
// ("ERR <exception>" when Kafka refuses the input):
//   W <magic> <codec id> <logAppendTime 0|1> <baseOffset> <records>   -> hex of the message set Kafka writes
//       records: ';'-separated "timestamp,keyhex,valuehex" ('-' = null, hex may be empty)
//   R <hex>             -> Kafka reads the records (validating CRCs):
//                          "offset,timestamp,timestampType,keyhex,valuehex" space-separated
//   D <magic> <hex>     -> hex of Kafka's own down-conversion of record batches to that magic
//   X <codec> <magic> <hex>   -> hex Kafka decompresses (the codec's stream for that magic)
//   C <codec> <magic> <hex>   -> hex Kafka compresses
// Run: java -cp '<kafka-clients 3.9 lib dir>/*' LegacyRecords.java
import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MemoryRecordsBuilder;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.utils.BufferSupplier;
import org.apache.kafka.common.utils.ByteBufferOutputStream;
import org.apache.kafka.common.utils.Time;

public class LegacyRecords {
    static final HexFormat HEX = HexFormat.of();

    static byte[] bytesOrNull(String s) {
        return s.equals("-") ? null : HEX.parseHex(s);
    }

    static String hexOrDash(ByteBuffer b) {
        if (b == null) return "-";
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return HEX.formatHex(a);
    }

    static String hex(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return HEX.formatHex(a);
    }

    // an empty hex argument is dropped by split(" ")
    static String arg(String[] p, int i) {
        return p.length > i ? p[i] : "";
    }

    static Compression codec(String id) {
        return Compression.of(CompressionType.forId(Integer.parseInt(id))).build();
    }

    static String write(String[] p) {
        byte magic = Byte.parseByte(p[1]);
        boolean logAppend = p[3].equals("1");
        long base = Long.parseLong(p[4]);
        ByteBuffer buf = ByteBuffer.allocate(1 << 20);
        MemoryRecordsBuilder b = MemoryRecords.builder(buf, magic, codec(p[2]),
            logAppend ? TimestampType.LOG_APPEND_TIME : TimestampType.CREATE_TIME, base, logAppend ? 1700000000999L : RecordBatch.NO_TIMESTAMP);
        long offset = base;
        for (String r : (p.length > 5 ? p[5] : "").split(";")) {
            if (r.isEmpty()) continue;
            String[] f = r.split(",", -1);
            b.appendWithOffset(offset++, Long.parseLong(f[0]), bytesOrNull(f[1]), bytesOrNull(f[2]));
        }
        return hex(b.build().buffer());
    }

    static String read(String h) {
        MemoryRecords records = MemoryRecords.readableRecords(ByteBuffer.wrap(HEX.parseHex(h)));
        List<String> out = new ArrayList<>();
        for (RecordBatch batch : records.batches()) {
            batch.ensureValid();
            for (Record r : batch) {
                r.ensureValid();
                out.add(r.offset() + "," + r.timestamp() + "," + batch.timestampType().id + "," + hexOrDash(r.key()) + "," + hexOrDash(r.value()));
            }
        }
        return String.join(" ", out);
    }

    static String down(String[] p) {
        MemoryRecords records = MemoryRecords.readableRecords(ByteBuffer.wrap(HEX.parseHex(p[2])));
        return hex(records.downConvert(Byte.parseByte(p[1]), 0, Time.SYSTEM).records().buffer());
    }

    static String decompress(String[] p) throws Exception {
        try (InputStream in = codec(p[1]).wrapForInput(ByteBuffer.wrap(HEX.parseHex(arg(p, 3))), Byte.parseByte(p[2]), BufferSupplier.NO_CACHING)) {
            return HEX.formatHex(in.readAllBytes());
        }
    }

    static String compress(String[] p) throws Exception {
        ByteBufferOutputStream sink = new ByteBufferOutputStream(1024);
        try (OutputStream out = codec(p[1]).wrapForOutput(sink, Byte.parseByte(p[2]))) {
            out.write(HEX.parseHex(arg(p, 3)));
        }
        ByteBuffer b = sink.buffer();
        b.flip();
        return hex(b);
    }

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in), 1 << 20);
        PrintStream out = new PrintStream(new BufferedOutputStream(System.out, 1 << 20));
        String line;
        while ((line = in.readLine()) != null) {
            String[] p = line.split(" ");
            try {
                switch (p[0]) {
                    case "W" -> out.println(write(p));
                    case "R" -> out.println(read(p.length > 1 ? p[1] : ""));
                    case "D" -> out.println(down(p));
                    case "X" -> out.println(decompress(p));
                    case "C" -> out.println(compress(p));
                    default -> out.println("ERR unknown command " + p[0]);
                }
            } catch (Throwable t) {
                Throwable cause = t;
                while (cause.getCause() != null) cause = cause.getCause();
                out.println("ERR " + cause.toString().replace('\n', ' '));
            }
        }
        out.flush();
    }
}
