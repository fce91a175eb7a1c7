package io.somastack.connect.transforms.util;

import io.somastack.connect.common.path.FieldPath;
import io.somastack.connect.common.template.RecordTemplate;
import org.apache.kafka.connect.connector.ConnectRecord;

/**
 * Field paths read into maps that need not be keyed by text. A sorted map (a TreeMap) keyed by
 * numbers, as a converter or an earlier transform may hand over, throws ClassCastException when
 * asked for a text key, where a HashMap of the same keys answers null. Such a map holds no key a
 * path (text) names, so it reads as the HashMap does: the field is missing, and each transform does
 * what it does for a missing field, never failing with an exception that names neither the record
 * nor the problem.
 */
public final class FieldReads {

  private FieldReads() {}

  /** The value at the path, as {@link FieldPath#get}; null where a map cannot hold the name. */
  public static Object get(FieldPath path, Object root) {
    try {
      return path.get(root);
    } catch (ClassCastException keysNotText) {
      return null;
    }
  }

  /** The template rendered, as {@link RecordTemplate#render}; null where a field is missing. */
  public static String render(RecordTemplate template, ConnectRecord<?> record) {
    try {
      return template.render(record);
    } catch (ClassCastException keysNotText) {
      return null;
    }
  }
}
