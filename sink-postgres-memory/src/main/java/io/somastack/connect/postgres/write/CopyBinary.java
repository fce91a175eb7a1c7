package io.somastack.connect.postgres.write;

import io.somastack.connect.postgres.record.EventRow;
import io.somastack.connect.postgres.record.JsonBytes;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Rows in COPY's binary format: each value as its length and the type's own binary form. Nothing is
 * escaped, so neither side scans the JSON text byte by byte for tabs and backslashes (in text
 * format that scan was a tenth of the task's CPU, and PostgreSQL undoes it again on its side); a
 * jsonb value is a version byte and the JSON text as it arrived. Only tables whose columns have
 * exactly the types the layout declares take it ({@link #typeFor}): a binary value is read by the
 * column's own type, with none of text format's conversions.
 */
final class CopyBinary extends CopyBuffer {

  /** What to write for a column, by the column's type as PostgreSQL names it. */
  enum Encoding {
    TEXT,
    JSONB,
    INT4,
    INT8,
    FLOAT8,
    BOOL,
    TIMESTAMPTZ,
    UUID
  }

  /** The layout's SQL types, and the name PostgreSQL's format_type gives each. */
  private static final Map<String, String> CATALOG_NAMES =
      Map.of(
          "text", "text",
          "jsonb", "jsonb",
          "integer", "integer",
          "bigint", "bigint",
          "double precision", "double precision",
          "boolean", "boolean",
          "timestamptz", "timestamp with time zone",
          "uuid", "uuid");

  private static final Map<String, Encoding> ENCODINGS =
      Map.of(
          "text", Encoding.TEXT,
          "jsonb", Encoding.JSONB,
          "integer", Encoding.INT4,
          "bigint", Encoding.INT8,
          "double precision", Encoding.FLOAT8,
          "boolean", Encoding.BOOL,
          "timestamptz", Encoding.TIMESTAMPTZ,
          "uuid", Encoding.UUID);

  private static final byte[] SIGNATURE =
      "PGCOPY\n\377\r\n\0".getBytes(StandardCharsets.ISO_8859_1);

  /** PostgreSQL's epoch, 2000-01-01T00:00:00Z, in microseconds after Java's. */
  private static final long POSTGRES_EPOCH_MICROS = 946_684_800_000_000L;

  private static final byte JSONB_VERSION = 1;

  private final Encoding[] encodings;

  /** Per column, the last String written and its UTF-8 (the topic is one String on every row). */
  private final String[] lastText;

  private final byte[][] lastUtf8;

  CopyBinary(List<TableLayout.Column> columns) {
    encodings = new Encoding[columns.size()];
    for (int i = 0; i < encodings.length; i++) {
      encodings[i] = ENCODINGS.get(columns.get(i).sqlType());
      if (encodings[i] == null) {
        throw new IllegalArgumentException("no binary COPY for type " + columns.get(i).sqlType());
      }
    }
    lastText = new String[encodings.length];
    lastUtf8 = new byte[encodings.length][];
  }

  /**
   * The catalog's name (format_type) of the type a layout column declares, or null when this
   * encoder has no binary form for it.
   */
  static String typeFor(TableLayout.Column column) {
    return CATALOG_NAMES.get(column.sqlType());
  }

  /** Replaces the contents with these rows. */
  CopyBinary fill(List<EventRow> rows) {
    length = 0;
    put(SIGNATURE);
    putInt(0); // flags: no OIDs
    putInt(0); // no header extension
    for (EventRow row : rows) {
      Object[] values = row.values();
      putShort(values.length);
      for (int i = 0; i < values.length; i++) {
        value(i, values[i]);
      }
    }
    putShort(-1); // end of data
    return this;
  }

  private void value(int column, Object value) {
    if (value == null) {
      putInt(-1);
      return;
    }
    switch (encodings[column]) {
      case TEXT -> text(column, value);
      case JSONB -> jsonb(value);
      case INT4 -> {
        putInt(4);
        putInt(((Number) value).intValue());
      }
      case INT8 -> {
        putInt(8);
        putLong(((Number) value).longValue());
      }
      case FLOAT8 -> {
        putInt(8);
        putLong(Double.doubleToRawLongBits(((Number) value).doubleValue()));
      }
      case BOOL -> {
        putInt(1);
        put((byte) (((Boolean) value) ? 1 : 0));
      }
      case TIMESTAMPTZ -> {
        // the row mapper checked the range (years 1 to 9999) and truncated to microseconds
        Instant instant = value instanceof Instant i ? i : Instant.parse(value.toString());
        long micros =
            Math.addExact(
                Math.multiplyExact(instant.getEpochSecond(), 1_000_000L), instant.getNano() / 1000);
        putInt(8);
        putLong(micros - POSTGRES_EPOCH_MICROS);
      }
      case UUID -> {
        UUID uuid = value instanceof UUID u ? u : UUID.fromString(value.toString());
        putInt(16);
        putLong(uuid.getMostSignificantBits());
        putLong(uuid.getLeastSignificantBits());
      }
    }
  }

  private void text(int column, Object value) {
    byte[] utf8;
    if (value == lastText[column]) {
      utf8 = lastUtf8[column];
    } else {
      String text = value.toString();
      utf8 = text.getBytes(StandardCharsets.UTF_8);
      lastText[column] = text;
      lastUtf8[column] = utf8;
    }
    putInt(utf8.length);
    put(utf8);
  }

  private void jsonb(Object value) {
    byte[] utf8 =
        value instanceof JsonBytes json
            ? json.utf8() // JSON text as it arrived: no String on the way
            : value.toString().getBytes(StandardCharsets.UTF_8);
    putInt(utf8.length + 1);
    put(JSONB_VERSION);
    put(utf8);
  }

  private void putShort(int v) {
    ensure(2);
    bytes[length++] = (byte) (v >>> 8);
    bytes[length++] = (byte) v;
  }

  private void putInt(int v) {
    ensure(4);
    bytes[length++] = (byte) (v >>> 24);
    bytes[length++] = (byte) (v >>> 16);
    bytes[length++] = (byte) (v >>> 8);
    bytes[length++] = (byte) v;
  }

  private void putLong(long v) {
    putInt((int) (v >>> 32));
    putInt((int) v);
  }
}
