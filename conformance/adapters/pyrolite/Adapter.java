// brine adapter for Pyrolite (net.razorvine.pickle 1.5, Java), the pickle library PySpark uses
// between the JVM and Python.
//
//   java -cp pickle-1.5.jar:classes Adapter decode   new Unpickler().loads(bytes)
//   java -cp pickle-1.5.jar:classes Adapter encode   new Pickler().dumps(object)
//
// With BRINE_PERSISTENT=1 both sides speak the persistent protocol of conformance/README.md
// (JSON lines); every case gets a fresh Unpickler or Pickler (their memos are per instance;
// the only shared state, Unpickler's table of object constructors, is never changed here).
//
// Decoding: any Exception from loads() is a rejection (exit 1, the exception's simple class
// name), and so are OutOfMemoryError and StackOverflowError, which it throws as the pure-Python
// unpickler raises MemoryError and RecursionError (the JVM goes on). Pyrolite never loads Java
// classes by a pickled name: a global it has no constructor for becomes an inert
// ClassDictConstructor (its objects are ClassDict maps). Any other Error ends the process
// (exit 3), a crash. Values are written as pickle JSON where the Java value tells the Python value: null,
// Boolean, Integer/Long/BigInteger (int), Double (float), String (str), byte[] (bytes; Pyrolite
// makes bytearrays byte[] too: the bytearray leniency), Object[] (tuple), List (list), Map
// (dict; a HashMap has no order: the dict-order leniency). Shared objects are written as
// copies (the sharing leniency); a value that holds a Set (set and frozenset are both a
// HashSet), a ClassDict, a date, Decimal or complex, or a cycle is not written: the case is
// then judged on accept/reject.
//
// Encoding: the document as the Java values Pyrolite pickles (null, Boolean, Long/BigInteger,
// Double, String, byte[] for bytes and bytearray, Object[] for tuples, ArrayList, LinkedHashMap
// for dicts, in order, LinkedHashSet for sets; shared nodes stay shared Java objects), then
// new Pickler().dumps(value) (protocol 2, memo on). Refused: frozenset, globals, objects, strs
// with lone surrogates, and whatever dumps() throws (its memo hashes values, so a list or dict
// that holds itself makes it throw StackOverflowError: refused with that name).
import java.io.*;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.util.*;
import net.razorvine.pickle.Pickler;
import net.razorvine.pickle.Unpickler;

public class Adapter {
    // ---------------------------------------------------------------- JSON (minimal)

    static final class Json {
        final String s;
        int i;

        Json(String s) { this.s = s; }

        static Object parse(String text) {
            Json p = new Json(text);
            p.ws();
            Object v = p.value();
            p.ws();
            if (p.i != p.s.length()) throw new IllegalArgumentException("trailing data");
            return v;
        }

        void ws() { while (i < s.length() && " \t\r\n".indexOf(s.charAt(i)) >= 0) i++; }

        Object value() {
            char c = s.charAt(i);
            if (c == '{') {
                i++;
                LinkedHashMap<String, Object> m = new LinkedHashMap<>();
                ws();
                if (s.charAt(i) == '}') { i++; return m; }
                while (true) {
                    ws();
                    String k = str();
                    ws();
                    i++; // ':'
                    ws();
                    m.put(k, value());
                    ws();
                    if (s.charAt(i++) == '}') return m;
                }
            }
            if (c == '[') {
                i++;
                ArrayList<Object> l = new ArrayList<>();
                ws();
                if (s.charAt(i) == ']') { i++; return l; }
                while (true) {
                    ws();
                    l.add(value());
                    ws();
                    if (s.charAt(i++) == ']') return l;
                }
            }
            if (c == '"') return str();
            if (s.startsWith("true", i)) { i += 4; return Boolean.TRUE; }
            if (s.startsWith("false", i)) { i += 5; return Boolean.FALSE; }
            if (s.startsWith("null", i)) { i += 4; return null; }
            int j = i;
            while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) i++;
            String num = s.substring(j, i);
            if (num.matches("-?\\d+")) return new BigInteger(num);
            return Double.parseDouble(num);
        }

        String str() {
            StringBuilder b = new StringBuilder();
            i++; // '"'
            while (true) {
                char c = s.charAt(i++);
                if (c == '"') return b.toString();
                if (c != '\\') { b.append(c); continue; }
                char e = s.charAt(i++);
                switch (e) {
                    case 'n': b.append('\n'); break;
                    case 't': b.append('\t'); break;
                    case 'r': b.append('\r'); break;
                    case 'b': b.append('\b'); break;
                    case 'f': b.append('\f'); break;
                    case 'u': b.append((char) Integer.parseInt(s.substring(i, i + 4), 16)); i += 4; break;
                    default: b.append(e);
                }
            }
        }

        static void quote(StringBuilder b, String v) {
            b.append('"');
            for (int k = 0; k < v.length(); k++) {
                char c = v.charAt(k);
                switch (c) {
                    case '"': b.append("\\\""); break;
                    case '\\': b.append("\\\\"); break;
                    case '\n': b.append("\\n"); break;
                    case '\r': b.append("\\r"); break;
                    case '\t': b.append("\\t"); break;
                    default:
                        if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                        else b.append(c);
                }
            }
            b.append('"');
        }

        @SuppressWarnings("unchecked")
        static void write(StringBuilder b, Object v) {
            if (v == null) b.append("null");
            else if (v instanceof String) quote(b, (String) v);
            else if (v instanceof Boolean || v instanceof Number) b.append(v);
            else if (v instanceof Map) {
                b.append('{');
                boolean first = true;
                for (Map.Entry<String, Object> e : ((Map<String, Object>) v).entrySet()) {
                    if (!first) b.append(',');
                    first = false;
                    quote(b, e.getKey());
                    b.append(':');
                    write(b, e.getValue());
                }
                b.append('}');
            } else if (v instanceof List) {
                b.append('[');
                boolean first = true;
                for (Object x : (List<Object>) v) {
                    if (!first) b.append(',');
                    first = false;
                    write(b, x);
                }
                b.append(']');
            } else throw new IllegalArgumentException("JSON of " + v.getClass());
        }
    }

    // ---------------------------------------------------------------- decoding

    static final class NoNode extends RuntimeException {
        NoNode(String m) { super(m, null, false, false); }
    }

    static Map<String, Object> n(String t) {
        LinkedHashMap<String, Object> m = new LinkedHashMap<>();
        m.put("t", t);
        return m;
    }

    static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : b) s.append(String.format("%02x", x & 0xff));
        return s.toString();
    }

    /** Python's repr(float): the shortest correctly rounded digits that read back. */
    static String pyFloat(double d) {
        if (Double.isNaN(d)) return "nan";
        if (Double.isInfinite(d)) return d > 0 ? "inf" : "-inf";
        if (d == 0) return (1 / d < 0) ? "-0.0" : "0.0";
        String sign = d < 0 ? "-" : "";
        BigDecimal exact = new BigDecimal(Math.abs(d));
        BigDecimal r = null;
        for (int p = 1; p <= 17; p++) {
            r = exact.round(new MathContext(p, RoundingMode.HALF_EVEN));
            if (r.doubleValue() == Math.abs(d)) break;
        }
        String digits = r.unscaledValue().toString().replaceAll("0+$", "");
        if (digits.isEmpty()) digits = "0";
        int exp = r.precision() - r.scale() - 1; // decimal exponent of the first digit
        if (exp >= -4 && exp < 16) {
            if (exp >= 0) {
                StringBuilder ds = new StringBuilder(digits);
                while (ds.length() < exp + 1) ds.append('0');
                String frac = ds.substring(exp + 1);
                return sign + ds.substring(0, exp + 1) + "." + (frac.isEmpty() ? "0" : frac);
            }
            return sign + "0." + "0".repeat(-exp - 1) + digits;
        }
        String rest = digits.length() > 1 ? "." + digits.substring(1) : "";
        return sign + digits.charAt(0) + rest + "e" + (exp < 0 ? "-" : "+")
                + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
    }

    /** A str node; a lone surrogate makes it a "hex" node (UTF-8 surrogatepass). */
    static Map<String, Object> strNode(String s) {
        Map<String, Object> m = n("str");
        boolean lone = false;
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            if (Character.isHighSurrogate(c) && k + 1 < s.length() && Character.isLowSurrogate(s.charAt(k + 1))) { k++; continue; }
            if (Character.isSurrogate(c)) { lone = true; break; }
        }
        if (!lone) { m.put("v", s); return m; }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int k = 0; k < s.length(); k++) {
            int cp = s.codePointAt(k);
            if (Character.isSupplementaryCodePoint(cp)) k++;
            if (cp < 0x80) out.write(cp);
            else if (cp < 0x800) { out.write(0xc0 | cp >> 6); out.write(0x80 | cp & 0x3f); }
            else if (cp < 0x10000) { out.write(0xe0 | cp >> 12); out.write(0x80 | cp >> 6 & 0x3f); out.write(0x80 | cp & 0x3f); }
            else { out.write(0xf0 | cp >> 18); out.write(0x80 | cp >> 12 & 0x3f); out.write(0x80 | cp >> 6 & 0x3f); out.write(0x80 | cp & 0x3f); }
        }
        m.put("hex", hex(out.toByteArray()));
        return m;
    }

    static final class Writer {
        final IdentityHashMap<Object, Boolean> open = new IdentityHashMap<>();
        int budget = 2_000_000;

        Object node(Object v) {
            if (--budget < 0) throw new NoNode("too large without sharing");
            if (v == null) return n("none");
            if (v instanceof Boolean) { Map<String, Object> m = n("bool"); m.put("v", v); return m; }
            if (v instanceof Integer || v instanceof Long || v instanceof BigInteger) {
                Map<String, Object> m = n("int"); m.put("v", v.toString()); return m;
            }
            if (v instanceof Double) { Map<String, Object> m = n("float"); m.put("v", pyFloat((Double) v)); return m; }
            if (v instanceof String) return strNode((String) v);
            if (v instanceof byte[]) { Map<String, Object> m = n("bytes"); m.put("v", hex((byte[]) v)); return m; }
            if (v instanceof Set) throw new NoNode("a Set: set or frozenset");
            if (v.getClass().getName().startsWith("net.razorvine.")) throw new NoNode(v.getClass().getSimpleName());
            if (!(v instanceof Object[] || v instanceof List || v instanceof Map)) throw new NoNode(v.getClass().getName());
            if (open.containsKey(v)) throw new NoNode("a cycle");
            open.put(v, true);
            try {
                ArrayList<Object> items = new ArrayList<>();
                Map<String, Object> m;
                if (v instanceof Map) {
                    m = n("dict");
                    for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) items.add(Arrays.asList(node(e.getKey()), node(e.getValue())));
                } else {
                    m = n(v instanceof Object[] ? "tuple" : "list");
                    Iterable<?> it = v instanceof Object[] ? Arrays.asList((Object[]) v) : (List<?>) v;
                    for (Object x : it) items.add(node(x));
                }
                m.put("items", items);
                return m;
            } finally {
                open.remove(v);
            }
        }
    }

    /** One decoder case: {"exit", "node"?}. */
    static Map<String, Object> decode(byte[] data) {
        LinkedHashMap<String, Object> a = new LinkedHashMap<>();
        Object result;
        try {
            result = new Unpickler().loads(data);
        } catch (Exception | OutOfMemoryError | StackOverflowError e) {
            Map<String, Object> err = n("error");
            err.put("type", e.getClass().getSimpleName());
            err.put("message", String.valueOf(e.getMessage()));
            a.put("exit", 1);
            a.put("node", err);
            return a;
        }
        a.put("exit", 0);
        try {
            a.put("node", new Writer().node(result));
        } catch (NoNode e) {
            System.err.println("pyrolite adapter: no node for the value: " + e.getMessage());
        }
        return a;
    }

    // ---------------------------------------------------------------- encoding

    static final class Refused extends RuntimeException {
        Refused(String m) { super(m, null, false, false); }
    }

    static final class Builder {
        final Map<Object, Object> defs = new HashMap<>();
        final Set<Object> open = new HashSet<>();

        @SuppressWarnings("unchecked")
        Object value(Map<String, Object> n) {
            String t = (String) n.get("t");
            Object id = n.get("id");
            if (t.equals("ref")) {
                if (open.contains(id) || !defs.containsKey(id)) throw new Refused("a ref to a tuple or set still being built");
                return defs.get(id);
            }
            switch (t) {
                case "none": return null;
                case "bool": return n.get("v");
                case "int": {
                    BigInteger b = new BigInteger((String) n.get("v"));
                    return b.bitLength() < 64 ? (Object) b.longValue() : b;
                }
                case "float": {
                    String v = (String) n.get("v");
                    return v.equals("nan") ? Double.NaN : v.equals("inf") ? Double.POSITIVE_INFINITY
                            : v.equals("-inf") ? Double.NEGATIVE_INFINITY : Double.parseDouble(v);
                }
                case "str": {
                    if (n.containsKey("hex")) throw new Refused("a str with a lone surrogate");
                    return keep(id, n.get("v"));
                }
                case "bytes": case "bytearray": return keep(id, unhex((String) n.get("v")));
                case "list": {
                    ArrayList<Object> l = new ArrayList<>();
                    keep(id, l);
                    for (Object x : (List<Object>) n.get("items")) l.add(value((Map<String, Object>) x));
                    return l;
                }
                case "tuple": {
                    if (id != null) open.add(id);
                    List<Object> items = (List<Object>) n.get("items");
                    Object[] a = new Object[items.size()];
                    for (int k = 0; k < a.length; k++) a[k] = value((Map<String, Object>) items.get(k));
                    if (id != null) open.remove(id);
                    return keep(id, a);
                }
                case "dict": {
                    LinkedHashMap<Object, Object> m = new LinkedHashMap<>();
                    keep(id, m);
                    for (Object p : (List<Object>) n.get("items")) {
                        List<Object> pair = (List<Object>) p;
                        m.put(value((Map<String, Object>) pair.get(0)), value((Map<String, Object>) pair.get(1)));
                    }
                    return m;
                }
                case "set": {
                    if (id != null) open.add(id);
                    LinkedHashSet<Object> s = new LinkedHashSet<>();
                    for (Object x : (List<Object>) n.get("items")) s.add(value((Map<String, Object>) x));
                    if (id != null) open.remove(id);
                    return keep(id, s);
                }
                default: throw new Refused(t + " has no Java value Pyrolite pickles as it");
            }
        }

        Object keep(Object id, Object v) {
            if (id != null) defs.put(id, v);
            return v;
        }
    }

    static byte[] unhex(String h) {
        byte[] b = new byte[h.length() / 2];
        for (int k = 0; k < b.length; k++) b[k] = (byte) Integer.parseInt(h.substring(2 * k, 2 * k + 2), 16);
        return b;
    }

    /** One encoder case: {"exit", "pickle"? (bytes), "message"?}. */
    @SuppressWarnings("unchecked")
    static Object[] encode(Object document) {
        try {
            Object v = new Builder().value((Map<String, Object>) document);
            return new Object[] {new Pickler().dumps(v), null};
        } catch (Refused e) {
            return new Object[] {null, e.getMessage()};
        } catch (Exception | OutOfMemoryError | StackOverflowError e) {
            return new Object[] {null, "dumps: " + e.getClass().getSimpleName() + ": " + e.getMessage()};
        }
    }

    // ---------------------------------------------------------------- protocols

    static void serve(String mode) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8), 1 << 20);
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
        System.setOut(System.err); // nothing else may reach the answer stream
        String line;
        while ((line = in.readLine()) != null) {
            if (line.trim().isEmpty()) continue;
            @SuppressWarnings("unchecked")
            Map<String, Object> req = (Map<String, Object>) Json.parse(line);
            LinkedHashMap<String, Object> answer = new LinkedHashMap<>();
            answer.put("case", req.get("case"));
            if (mode.equals("encode")) {
                Object[] r = encode(req.get("document"));
                if (r[0] != null) { answer.put("exit", 0); answer.put("pickle", hex((byte[]) r[0])); }
                else { answer.put("exit", 1); answer.put("message", r[1]); }
            } else {
                answer.putAll(decode(unhex((String) req.get("pickle"))));
            }
            StringBuilder b = new StringBuilder();
            Json.write(b, answer);
            out.print(b.append('\n'));
            out.flush();
        }
    }

    static void once(String mode) throws IOException {
        byte[] input = System.in.readAllBytes();
        if (mode.equals("encode")) {
            Object[] r = encode(Json.parse(new String(input, StandardCharsets.UTF_8)));
            if (r[0] == null) { System.err.println(r[1]); System.exit(1); }
            System.out.write((byte[]) r[0]);
            System.out.flush();
            System.exit(0);
        }
        Map<String, Object> a = decode(input);
        if (a.containsKey("node")) {
            StringBuilder b = new StringBuilder();
            Json.write(b, a.get("node"));
            PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
            out.println(b);
        }
        System.exit((Integer) a.get("exit"));
    }

    public static void main(String[] args) throws Exception {
        String mode = args.length > 0 ? args[0] : "decode";
        boolean persistent = "1".equals(System.getenv("BRINE_PERSISTENT"));
        // a big stack for deep values (the writer and JSON reader recurse); any Throwable that
        // escapes (a Java Error from the library, or an adapter bug) ends the process: exit 3
        Thread t = new Thread(null, () -> {
            try {
                if (persistent) serve(mode); else once(mode);
                System.exit(0);
            } catch (Throwable e) {
                e.printStackTrace();
                System.exit(3);
            }
        }, "adapter", 1L << 29);
        t.start();
        t.join();
    }
}
