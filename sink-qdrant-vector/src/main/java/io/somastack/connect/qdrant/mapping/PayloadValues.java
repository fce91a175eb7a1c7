package io.somastack.connect.qdrant.mapping;

import com.google.protobuf.CodedOutputStream;
import io.qdrant.client.grpc.JsonWithInt.NullValue;
import io.qdrant.client.grpc.JsonWithInt.Value;
import io.somastack.connect.common.json.JsonBuilder;
import io.somastack.connect.common.text.Utf8;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.connect.errors.DataException;

/**
 * Qdrant's JSON-with-integers payload values, each the wire form of one {@link Value} message (see
 * {@link EncodedFields} for why not the message, {@link EncodedValue} for how it is kept), built
 * straight from Connect values: integers that fit a long stay integers, as do decimals of scale 0
 * that fit one; every other number is a double (Qdrant has no decimals, nor integers beyond a
 * long), rounded to a double's 17 digits. One beyond a double's range either way, which would be
 * Infinity or 0, is refused.
 */
final class PayloadValues implements JsonBuilder<EncodedValue> {

  static final PayloadValues INSTANCE = new PayloadValues();

  private static final int DOUBLE = Value.DOUBLE_VALUE_FIELD_NUMBER;
  private static final int INTEGER = Value.INTEGER_VALUE_FIELD_NUMBER;

  // the constant values as protobuf itself writes them; shared, so never written into
  private static final EncodedValue NULL =
      constant(Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build());
  private static final EncodedValue TRUE = constant(Value.newBuilder().setBoolValue(true).build());
  private static final EncodedValue FALSE =
      constant(Value.newBuilder().setBoolValue(false).build());

  private PayloadValues() {}

  @Override
  public EncodedValue nullValue() {
    return NULL;
  }

  @Override
  public EncodedValue text(String value) {
    byte[] utf8 = Utf8.strictBytes(value);
    if (utf8 == null) {
      // protobuf would write '?' in its place: a text nobody sent; bad data, as NaN
      throw new DataException(
          "a payload string holds an unpaired UTF-16 surrogate, which UTF-8 cannot encode");
    }
    return new EncodedValue.Text(utf8);
  }

  @Override
  public EncodedValue bool(boolean value) {
    return value ? TRUE : FALSE;
  }

  @Override
  public EncodedValue integer(long value) {
    byte[] out = new byte[CodedOutputStream.computeInt64Size(INTEGER, value)];
    return new EncodedValue.Bytes(write(out, o -> o.writeInt64(INTEGER, value)));
  }

  @Override
  public EncodedValue floating(double value) {
    byte[] out = new byte[CodedOutputStream.computeDoubleSize(DOUBLE, value)];
    return new EncodedValue.Bytes(write(out, o -> o.writeDouble(DOUBLE, value)));
  }

  @Override
  public EncodedValue decimal(BigDecimal value) {
    if (value.scale() == 0 && value.unscaledValue().bitLength() < 64) {
      // a Decimal of scale 0 (what JDBC sources make of NUMBER(10)) is the integer JSON text
      // {"tenant_id":7} gives: an integer payload index must match it alike
      return integer(value.longValue());
    }
    double d = value.doubleValue();
    if (Double.isInfinite(d)) {
      // beyond a double's range (1e400): Infinity, which JSON has no form for; bad data, as NaN
      throw new DataException("a number beyond the range of a double cannot be a Qdrant payload");
    }
    if (d == 0.0 && value.signum() != 0) {
      // too small for a double (1e-400): 0, a value nobody sent, as Infinity is for too large
      throw new DataException(
          "a non-zero number too small for a double (it would be 0) cannot be a Qdrant payload");
    }
    return floating(d);
  }

  @Override
  public Container<EncodedValue> object(int size) {
    EncodedFields fields = new EncodedFields(size);
    return Container.of(fields::put, () -> new EncodedValue.Object(fields));
  }

  @Override
  public Container<EncodedValue> array(int size) {
    List<EncodedValue> items = new ArrayList<>(size);
    return Container.of((name, value) -> items.add(value), () -> new EncodedValue.Array(items));
  }

  private static EncodedValue constant(Value value) {
    return new EncodedValue.Bytes(value.toByteArray());
  }

  private interface Writing {
    void to(CodedOutputStream out) throws IOException;
  }

  /** Fills {@code out}, which was sized for exactly what {@code writing} writes. */
  private static byte[] write(byte[] out, Writing writing) {
    CodedOutputStream o = CodedOutputStream.newInstance(out);
    try {
      writing.to(o);
      o.checkNoSpaceLeft();
    } catch (IOException e) {
      // a byte array does not fail to be written, and was sized exactly: a bug here
      throw new UncheckedIOException(e);
    }
    return out;
  }
}
