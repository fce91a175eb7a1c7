package io.somastack.connect.common.record;

import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Struct;

/** Reading a Struct's fields as the producer wrote them. */
public final class StructFields {

  private StructFields() {}

  /**
   * The field's value as written. {@link Struct#get(Field)} hands over the schema default for a
   * null, so an optional field explicitly set to null (JsonConverter with
   * replace.null.with.default=false, Avro) would be stored as its default: a value nobody sent. A
   * required field can be null only when left unset (no converter hands over a null for one), and
   * there the default is what the schema promises, so it is read with it.
   */
  public static Object valueOf(Struct struct, Field field) {
    return field.schema().isOptional() ? struct.getWithoutDefault(field.name()) : struct.get(field);
  }
}
