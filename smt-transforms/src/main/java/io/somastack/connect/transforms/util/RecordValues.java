package io.somastack.connect.transforms.util;

import com.fasterxml.jackson.databind.JsonNode;
import io.somastack.connect.common.json.ConnectJson;
import io.somastack.connect.common.json.JsonValueException;
import io.somastack.connect.common.json.RecordJson;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.Map;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;

/** One side of a record as JSON, with errors that say where the record is but not what it holds. */
public final class RecordValues {

  private RecordValues() {}

  /**
   * The key or value as a JSON tree (null for a tombstone). Parser messages can quote the text they
   * choke on, so text that cannot be read is reported by RecordJson's own reason, said of the side,
   * which does not. A number or other scalar (from LongConverter, say) is named by its type:
   * calling it "not JSON" would send the user looking for malformed text. A map two of whose keys
   * have the same text (1 and "1"), which JSON would make one, is named as such, where it sits.
   */
  public static JsonNode json(ConnectRecord<?> record, RecordSide side) {
    Object value = side.value(record);
    try {
      return RecordJson.toJson(value, side.schema(record), side.label());
    } catch (DataException e) {
      if (value instanceof String || value instanceof byte[] || value instanceof ByteBuffer) {
        // RecordJson's reason says where the text fails, or which limit valid JSON broke, and
        // never quotes it; no cause is chained, so nothing that could quote it reaches a log
        throw Records.error(
            record, "the " + side.label() + " cannot be read as JSON (" + e.getMessage() + ")");
      }
      if (value instanceof Map<?, ?> || value instanceof Struct || value instanceof Collection<?>) {
        if (ConnectJson.isDuplicateName(e)) {
          // where it sits by field names and array positions, a map key as [key]: never data
          String at = e instanceof JsonValueException inside ? inside.loggedPath() : "";
          throw Records.error(
              record,
              "the "
                  + side.label()
                  + (at.isEmpty() ? " is" : " holds at " + at)
                  + " a map two of whose keys have the same text (such as 1 and \"1\"), which"
                  + " JSON would make one, losing an entry");
        }
        throw Records.error(
            record,
            "the "
                + side.label()
                + " holds a value JSON has no representation for (a NaN or an infinity, or a"
                + " type JSON lacks)");
      }
      String type = value.getClass().getSimpleName();
      throw Records.error(
          record,
          "the "
              + side.label()
              + " is "
              + (type.matches("[AEIOU].*") ? "an " : "a ")
              + type
              + ", not a Struct, a Map, a List or JSON text (a String or bytes); only those are"
              + " read");
    }
  }
}
