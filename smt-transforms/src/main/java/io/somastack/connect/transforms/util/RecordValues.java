package io.somastack.connect.transforms.util;

import com.fasterxml.jackson.databind.JsonNode;
import io.somastack.connect.common.json.RecordJson;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.errors.DataException;

/** One side of a record as JSON, with errors that say where the record is but not what it holds. */
public final class RecordValues {

  private RecordValues() {}

  /**
   * The key or value as a JSON tree (null for a tombstone). Parser messages can quote the text they
   * choke on, so a non-JSON record is reported without them.
   */
  public static JsonNode json(ConnectRecord<?> record, RecordSide side) {
    try {
      return RecordJson.toJson(side.value(record), side.schema(record));
    } catch (DataException e) {
      throw Records.error(record, "the " + side.label() + " is not JSON; only JSON is accepted");
    }
  }
}
