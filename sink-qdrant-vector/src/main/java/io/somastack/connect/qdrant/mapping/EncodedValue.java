package io.somastack.connect.qdrant.mapping;

import static io.somastack.connect.qdrant.mapping.EncodedFields.header;
import static io.somastack.connect.qdrant.mapping.EncodedFields.lengthDelimited;

import com.google.protobuf.CodedOutputStream;
import io.qdrant.client.grpc.JsonWithInt.ListValue;
import io.qdrant.client.grpc.JsonWithInt.Struct;
import io.qdrant.client.grpc.JsonWithInt.Value;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * One payload value in protobuf wire form: the bytes of a {@link Value} message, sized when made
 * and written once, into the point's bytes. An object or array keeps its items instead of copying
 * them into bytes of its own: copied level by level, a deep value cost its depth times its size,
 * and every text was copied once more.
 */
interface EncodedValue {

  /** Bytes of the Value message. */
  int size();

  /**
   * Protobuf message levels of the Value, itself included: 1 for a scalar; a Struct adds itself,
   * its map entry and its deepest field's value, a ListValue itself and its deepest item. A
   * decoder's recursion limit counts these levels (see {@link PointOp#MAX_DEPTH}).
   */
  default int depth() {
    return 1;
  }

  void writeTo(CodedOutputStream out) throws IOException;

  /** The Value message's bytes on their own: for tests. */
  default byte[] toByteArray() {
    byte[] out = new byte[size()];
    CodedOutputStream o = CodedOutputStream.newInstance(out);
    try {
      writeTo(o);
      o.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  /** A value whose bytes are all made: null, a boolean, a number. */
  record Bytes(byte[] bytes) implements EncodedValue {
    @Override
    public int size() {
      return bytes.length;
    }

    @Override
    public void writeTo(CodedOutputStream out) throws IOException {
      out.writeRawBytes(bytes);
    }
  }

  /** A string value: its UTF-8 bytes, written after the field's tag and length. */
  record Text(byte[] utf8) implements EncodedValue {
    @Override
    public int size() {
      return lengthDelimited(Value.STRING_VALUE_FIELD_NUMBER, utf8.length);
    }

    @Override
    public void writeTo(CodedOutputStream out) throws IOException {
      header(out, Value.STRING_VALUE_FIELD_NUMBER, utf8.length);
      out.writeRawBytes(utf8);
    }
  }

  /** A Struct value: its fields, sized once. */
  record Object(EncodedFields fields, int fieldsSize, int depth) implements EncodedValue {
    Object(EncodedFields fields) {
      // Value, Struct, then (when it has fields) a map entry holding each field's Value
      this(fields, fields.size(Struct.FIELDS_FIELD_NUMBER), 2 + fields.depth());
    }

    @Override
    public int size() {
      return lengthDelimited(Value.STRUCT_VALUE_FIELD_NUMBER, fieldsSize);
    }

    @Override
    public void writeTo(CodedOutputStream out) throws IOException {
      header(out, Value.STRUCT_VALUE_FIELD_NUMBER, fieldsSize);
      fields.writeTo(out, Struct.FIELDS_FIELD_NUMBER);
    }
  }

  /** A ListValue value: its items in order, sized once. */
  record Array(List<EncodedValue> items, int itemsSize, int depth) implements EncodedValue {
    Array(List<EncodedValue> items) {
      // Value, ListValue, then each item's Value
      this(items, itemsSize(items), 2 + itemsDepth(items));
    }

    private static int itemsDepth(List<EncodedValue> items) {
      int depth = 0;
      for (EncodedValue item : items) {
        depth = Math.max(depth, item.depth());
      }
      return depth;
    }

    private static int itemsSize(List<EncodedValue> items) {
      int size = 0;
      for (EncodedValue item : items) {
        size += lengthDelimited(ListValue.VALUES_FIELD_NUMBER, item.size());
      }
      return size;
    }

    @Override
    public int size() {
      return lengthDelimited(Value.LIST_VALUE_FIELD_NUMBER, itemsSize);
    }

    @Override
    public void writeTo(CodedOutputStream out) throws IOException {
      header(out, Value.LIST_VALUE_FIELD_NUMBER, itemsSize);
      for (EncodedValue item : items) {
        header(out, ListValue.VALUES_FIELD_NUMBER, item.size());
        item.writeTo(out);
      }
    }
  }
}
