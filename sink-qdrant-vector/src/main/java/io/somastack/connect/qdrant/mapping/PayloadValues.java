package io.somastack.connect.qdrant.mapping;

import io.qdrant.client.grpc.JsonWithInt.ListValue;
import io.qdrant.client.grpc.JsonWithInt.NullValue;
import io.qdrant.client.grpc.JsonWithInt.Struct;
import io.qdrant.client.grpc.JsonWithInt.Value;
import io.somastack.connect.common.json.JsonBuilder;
import io.somastack.connect.common.text.Utf8;
import java.math.BigDecimal;
import org.apache.kafka.connect.errors.DataException;

/**
 * Qdrant's JSON-with-integers payload values, built straight from Connect values: integers that fit
 * a long stay integers, as do decimals of scale 0 that fit one; every other number is a double
 * (Qdrant has no decimals, nor integers beyond a long), rounded to a double's 17 digits. One beyond
 * a double's range either way, which would be Infinity or 0, is refused.
 */
final class PayloadValues implements JsonBuilder<Value> {

  static final PayloadValues INSTANCE = new PayloadValues();

  private static final Value NULL = Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build();

  private PayloadValues() {}

  @Override
  public Value nullValue() {
    return NULL;
  }

  @Override
  public Value text(String value) {
    if (Utf8.hasUnpairedSurrogate(value)) {
      // protobuf would write '?' in its place: a text nobody sent; bad data, as NaN
      throw new DataException(
          "a payload string holds an unpaired UTF-16 surrogate, which UTF-8 cannot encode");
    }
    return Value.newBuilder().setStringValue(value).build();
  }

  @Override
  public Value bool(boolean value) {
    return Value.newBuilder().setBoolValue(value).build();
  }

  @Override
  public Value integer(long value) {
    return Value.newBuilder().setIntegerValue(value).build();
  }

  @Override
  public Value floating(double value) {
    return Value.newBuilder().setDoubleValue(value).build();
  }

  @Override
  public Value decimal(BigDecimal value) {
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
  public Container<Value> object(int size) {
    Struct.Builder struct = Struct.newBuilder();
    return Container.of(struct::putFields, () -> Value.newBuilder().setStructValue(struct).build());
  }

  @Override
  public Container<Value> array(int size) {
    ListValue.Builder list = ListValue.newBuilder();
    return Container.of(
        (name, value) -> list.addValues(value),
        () -> Value.newBuilder().setListValue(list).build());
  }
}
