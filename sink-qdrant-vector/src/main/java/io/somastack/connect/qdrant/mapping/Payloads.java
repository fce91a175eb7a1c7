package io.somastack.connect.qdrant.mapping;

import com.fasterxml.jackson.databind.JsonNode;
import io.somastack.connect.common.json.ConnectJson;
import io.somastack.connect.common.json.JsonValueException;
import io.somastack.connect.common.json.MapNames;
import io.somastack.connect.common.path.FieldPath;
import io.somastack.connect.common.record.StructFields;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;

/**
 * The payload of a point: the record value, narrowed to the configured fields. It reads the value
 * as the converter made it (a schemaless {@link Map}, a {@link Struct}, or the tree of JSON text)
 * and builds Qdrant's values from it directly: a Jackson tree in between was a third of the
 * mapping's CPU per point.
 */
public final class Payloads {

  private final Included included = new Included();
  private final Excluded excluded = new Excluded();

  /**
   * include empty means the whole value; exclude is applied after include. A path of either goes
   * through every element of an array on its way: contacts.email names the email of each of the
   * contacts, so that an excluded one (personal data, say) is left out of every element.
   */
  public Payloads(List<FieldPath> include, List<FieldPath> exclude) {
    for (FieldPath path : include) {
      Included node = included;
      for (String segment : path.segments()) {
        node = node.under.computeIfAbsent(segment, name -> new Included());
      }
      node.whole = true;
    }
    for (FieldPath path : exclude) {
      Excluded node = excluded;
      for (String segment : path.segments()) {
        node = node.under.computeIfAbsent(segment, name -> new Excluded());
      }
      node.whole = true;
    }
  }

  /**
   * Excluded paths as a tree: a field is left out whole, or has fields under it left out. Only a
   * field with an excluded path inside is rebuilt field by field; vectors and long texts that are
   * not excluded are converted once, as they are.
   */
  private static final class Excluded {
    boolean whole;
    final Map<String, Excluded> under = new HashMap<>();
  }

  /** Included paths as a tree: a field is taken whole, or only the included fields under it. */
  private static final class Included {
    boolean whole;
    final Map<String, Included> under = new LinkedHashMap<>();
  }

  /**
   * Puts the payload fields of a value (a Map, Struct or JSON object tree; schema is the Connect
   * schema of a Struct or Map, or null) into the point's payload. A value with no payload form is a
   * {@link PayloadFieldException} naming its path in the record value.
   */
  EncodedFields of(Object value, Schema schema) {
    EncodedFields payload = new EncodedFields(8);
    try {
      if (included.under.isEmpty()) {
        putFields(value, schema, excluded, payload::put);
      } else {
        pickInto(value, schema, included, excluded, payload::put);
      }
      return payload;
    } catch (JsonValueException e) {
      // the field's path, never its value; map keys only where the record goes (its dead letter)
      throw new PayloadFieldException(e);
    }
  }

  private static void putFields(
      Object value, Schema schema, Excluded excluded, BiConsumer<String, EncodedValue> into) {
    if (value instanceof Struct struct) {
      for (Field field : struct.schema().fields()) {
        Object child = StructFields.valueOf(struct, field);
        put(field.name(), false, child, field.schema(), excluded, into);
      }
    } else if (value instanceof Map<?, ?> map) {
      Schema valueSchema = schema == null ? null : schema.valueSchema();
      Schema keySchema = schema == null ? null : schema.keySchema();
      // keys of one text (1 and "1") would be one payload field, the later one kept: refused, as
      // ConnectJson refuses them (a set made only for a map with a key other than a String)
      Set<String> names = MapNames.seen(map);
      for (Map.Entry<?, ?> entry : map.entrySet()) {
        String name = ConnectJson.fieldName(entry.getKey(), keySchema);
        MapNames.add(names, name);
        put(name, true, entry.getValue(), valueSchema, excluded, into);
      }
    } else {
      Iterator<Map.Entry<String, JsonNode>> fields = ((JsonNode) value).fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> field = fields.next();
        put(field.getKey(), true, field.getValue(), null, excluded, into);
      }
    }
  }

  /** A field (a map key, record data, when isKey) minus what is excluded under it. */
  private static void put(
      String name,
      boolean isKey,
      Object value,
      Schema schema,
      Excluded excluded,
      BiConsumer<String, EncodedValue> into) {
    Excluded under = excluded == null ? null : excluded.under.get(name);
    try {
      if (under == null) {
        into.accept(name, ConnectJson.convert(value, schema, PayloadValues.INSTANCE));
      } else if (!under.whole) {
        into.accept(name, without(value, schema, under));
      }
    } catch (DataException e) {
      throw isKey ? JsonValueException.underKey(name, e) : JsonValueException.under(name, e);
    }
  }

  /**
   * A value minus the excluded fields under it: inside an object, and inside every element of an
   * array (an array of arrays too); other values have no fields to leave out.
   */
  private static EncodedValue without(Object value, Schema schema, Excluded excluded) {
    if (isObject(value)) {
      EncodedFields struct = new EncodedFields(8);
      putFields(value, schema, excluded, struct::put);
      return new EncodedValue.Object(struct);
    }
    if (isArray(value)) {
      List<EncodedValue> list = new ArrayList<>();
      Schema elementSchema = schema == null ? null : schema.valueSchema();
      int index = 0;
      for (Object element : elements(value)) {
        try {
          list.add(without(element, elementSchema, excluded));
        } catch (DataException e) {
          throw JsonValueException.under(index, e);
        }
        index++;
      }
      return new EncodedValue.Array(list);
    }
    return ConnectJson.convert(value, schema, PayloadValues.INSTANCE);
  }

  /**
   * Puts the included paths of an object (Map, Struct or JSON object), each at its own path and
   * minus the excluded fields under it (excluded may be null: none); false when it has none of
   * them. Paths the value lacks, or where it is null, are left out. An included path found but
   * excluded counts as found: exclude narrows what include picked. A refused value's path is its
   * path in the object, under the included names (the configuration's, so no record data).
   */
  private static boolean pickInto(
      Object object,
      Schema schema,
      Included included,
      Excluded excluded,
      BiConsumer<String, EncodedValue> into) {
    boolean found = false;
    for (Map.Entry<String, Included> entry : included.under.entrySet()) {
      String name = entry.getKey();
      try {
        found |= pickField(object, schema, name, entry.getValue(), excluded, into);
      } catch (DataException e) {
        throw JsonValueException.under(name, e);
      }
    }
    return found;
  }

  private static boolean pickField(
      Object object,
      Schema schema,
      String name,
      Included included,
      Excluded excluded,
      BiConsumer<String, EncodedValue> into) {
    Object child = child(object, schema, name);
    if (child == null || child instanceof JsonNode json && json.isNull()) {
      return false;
    }
    Schema childSchema = childSchema(object, schema, name);
    Excluded under = excluded == null ? null : excluded.under.get(name);
    if (included.whole) {
      if (under == null) {
        into.accept(name, ConnectJson.convert(child, childSchema, PayloadValues.INSTANCE));
      } else if (!under.whole) {
        into.accept(name, without(child, childSchema, under));
      }
      return true;
    }
    EncodedValue part = pickUnder(child, childSchema, included, under);
    if (part != null && (under == null || !under.whole)) {
      into.accept(name, part);
    }
    return part != null;
  }

  /**
   * The included paths under a value: an object's, or each array element's (elements without any
   * are left out, and an array with none at all is); a scalar has none. An element's position in a
   * refused value's path is its position in the value's array, those left out counted.
   */
  private static EncodedValue pickUnder(
      Object value, Schema schema, Included included, Excluded excluded) {
    if (isObject(value)) {
      EncodedFields struct = new EncodedFields(8);
      boolean found = pickInto(value, schema, included, excluded, struct::put);
      return found ? new EncodedValue.Object(struct) : null;
    }
    if (!isArray(value)) {
      return null;
    }
    List<EncodedValue> picked = new ArrayList<>();
    Schema elementSchema = schema == null ? null : schema.valueSchema();
    int index = 0;
    for (Object element : elements(value)) {
      try {
        EncodedValue part =
            element == null ? null : pickUnder(element, elementSchema, included, excluded);
        if (part != null) {
          picked.add(part);
        }
      } catch (DataException e) {
        throw JsonValueException.under(index, e);
      }
      index++;
    }
    return picked.isEmpty() ? null : new EncodedValue.Array(picked);
  }

  private static boolean isObject(Object value) {
    return value instanceof Map<?, ?>
        || value instanceof Struct
        || value instanceof JsonNode json && json.isObject();
  }

  private static boolean isArray(Object value) {
    return value instanceof Collection<?> || value instanceof JsonNode json && json.isArray();
  }

  private static Iterable<?> elements(Object array) {
    return array instanceof JsonNode json ? json : (Collection<?>) array;
  }

  /**
   * A field of an object by name. A map entry is named by its key's text ({@link
   * ConnectJson#fieldName}), as the payload and payload.exclude name it: payload.include=m.1 picks
   * key 1 of a map keyed by numbers (or a Date's, or bytes' key by its text) as it picks key "1".
   * Text keys are looked up; other keys are compared only when that finds nothing, and two of one
   * text are refused, as the payload refuses them.
   */
  private static Object child(Object object, Schema schema, String name) {
    Object child = FieldPath.child(object, name);
    if (child != null || !(object instanceof Map<?, ?> map)) {
      return child;
    }
    Schema keySchema = schema == null ? null : schema.keySchema();
    if (keySchema != null && keySchema.type() == Schema.Type.STRING) {
      return null; // keys of text only: looked up already
    }
    Object found = null;
    boolean matched = false;
    for (Map.Entry<?, ?> entry : map.entrySet()) {
      Object key = entry.getKey();
      if (key instanceof String || !name.equals(ConnectJson.fieldName(key, keySchema))) {
        continue;
      }
      if (matched) {
        throw ConnectJson.duplicateName();
      }
      matched = true;
      found = entry.getValue();
    }
    return found;
  }

  private static Schema childSchema(Object object, Schema schema, String name) {
    if (object instanceof Struct struct) {
      Field field = struct.schema().field(name);
      return field == null ? null : field.schema();
    }
    return object instanceof Map<?, ?> && schema != null ? schema.valueSchema() : null;
  }
}
