package io.somastack.connect.qdrant.mapping;

import static com.google.protobuf.CodedOutputStream.computeStringSize;
import static com.google.protobuf.CodedOutputStream.computeTagSize;
import static com.google.protobuf.CodedOutputStream.computeUInt32SizeNoTag;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Fields of a JSON object (a point's payload, or a Struct value) as protobuf {@code map<string,
 * Value>} entries, each value already encoded (see {@link PayloadValues}). Writing the wire form
 * straight away spares the sink a message object per value and protobuf's map serialisation, which
 * builds an entry message per field every time it sizes or writes one: together they cost more CPU
 * per point than all the rest of the mapping. On the wire a field put twice is two entries, and the
 * reader keeps the later one, as a map put would.
 */
final class EncodedFields {

  private static final int KEY = 1;
  private static final int VALUE = 2;

  private final List<String> keys;
  private final List<EncodedValue> values;

  /** The deepest value's {@link EncodedValue#depth}, 0 while there is none. */
  private int deepest;

  EncodedFields(int size) {
    keys = new ArrayList<>(size);
    values = new ArrayList<>(size);
  }

  void put(String key, EncodedValue value) {
    keys.add(key);
    values.add(value);
    deepest = Math.max(deepest, value.depth());
  }

  /**
   * Protobuf message levels below the message holding these fields: a map entry, then its Value's
   * levels; 0 when there are none.
   */
  int depth() {
    return deepest == 0 ? 0 : 1 + deepest;
  }

  boolean isEmpty() {
    return keys.isEmpty();
  }

  /** Bytes of the entries as repeated field {@code field} of the message holding them. */
  int size(int field) {
    int size = 0;
    for (int i = 0; i < keys.size(); i++) {
      size += lengthDelimited(field, entrySize(i));
    }
    return size;
  }

  void writeTo(CodedOutputStream out, int field) throws IOException {
    for (int i = 0; i < keys.size(); i++) {
      header(out, field, entrySize(i));
      out.writeString(KEY, keys.get(i));
      header(out, VALUE, values.get(i).size());
      values.get(i).writeTo(out);
    }
  }

  private int entrySize(int i) {
    return computeStringSize(KEY, keys.get(i)) + lengthDelimited(VALUE, values.get(i).size());
  }

  /** Bytes of a length-delimited field of {@code size} bytes: its tag, its length and the bytes. */
  static int lengthDelimited(int field, int size) {
    return computeTagSize(field) + computeUInt32SizeNoTag(size) + size;
  }

  /** Writes the tag and length of a length-delimited field; its {@code size} bytes follow. */
  static void header(CodedOutputStream out, int field, int size) throws IOException {
    out.writeTag(field, WireFormat.WIRETYPE_LENGTH_DELIMITED);
    out.writeUInt32NoTag(size);
  }
}
