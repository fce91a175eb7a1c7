package io.somastack.connect.outbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.somastack.connect.common.json.RecordJson;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.apache.kafka.connect.errors.DataException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The relay's check of a string or bytes payload refuses exactly what connect-common's RecordJson
 * (with which the transforms parse it) refuses, read as text and as bytes, and its reason never
 * quotes the payload.
 */
class ReadableJsonTest {

  static Stream<String> payloads() {
    return Stream.of(
        "{\"secret\":1}",
        "",
        "  \n",
        "null",
        "\"secret\"",
        "[1, 2.50, -0.0e+3, true, null]",
        "{\"secret\":\"\\ud800\"}",
        "{\"secret\":1} ",
        "{\"secret\":1} secret",
        "{\"secret\":1}{}",
        "1 2",
        "secret text",
        "{\"secret\":1,\"secret\":2}",
        "{\"a\":{\"secret\":1},\"b\":{\"secret\":2}}",
        "{\"secret\":1,}",
        "{\"secret\":NaN}",
        "// secret\n{}",
        "{\"secret\":\"\\x\"}",
        "{\"secret\":\"\u0001\"}",
        "{\"secret\":01}",
        "{\"secret\":",
        "[".repeat(1_000) + "\"secret\"" + "]".repeat(1_000),
        "[".repeat(1_001) + "\"secret\"" + "]".repeat(1_001),
        "{\"secret\":".repeat(1_500) + "1" + "}".repeat(1_500),
        "[1" + "0".repeat(999) + "]",
        "[1" + "0".repeat(1_000) + "]",
        "[1." + "0".repeat(998) + "]",
        "[1." + "0".repeat(999) + "]",
        "[1e400]",
        "[1e99999999999]",
        "[0.1e-2147483648]",
        "{\"" + "s".repeat(50_000) + "\":1}",
        "{\"" + "s".repeat(50_001) + "\":1}",
        // 30,000 characters, 60,000 bytes: a name too long only when read as bytes
        "{\"" + "\u00e9".repeat(30_000) + "\":1}",
        "[\"" + "s".repeat(20_000_000) + "\"]",
        "[\"" + "s".repeat(20_000_001) + "\"]");
  }

  @ParameterizedTest
  @MethodSource("payloads")
  void refusesWhatRecordJsonRefusesAsText(String payload) {
    assertSameVerdict(readable(() -> RecordJson.parse(payload)), ReadableJson.problem(payload));
  }

  @ParameterizedTest
  @MethodSource("payloads")
  void refusesWhatRecordJsonRefusesAsBytes(String payload) {
    byte[] bytes = payload.getBytes(StandardCharsets.UTF_8);
    assertSameVerdict(readable(() -> RecordJson.parse(bytes)), ReadableJson.problem(bytes));
  }

  private static void assertSameVerdict(boolean readable, String problem) {
    assertEquals(
        readable, problem == null, () -> "RecordJson reads it: " + readable + ", " + problem);
    if (problem != null) {
      assertFalse(problem.contains("secret") || problem.contains("sss"), problem);
    }
  }

  private static boolean readable(Runnable parse) {
    try {
      parse.run();
      return true;
    } catch (DataException e) {
      return false;
    }
  }
}
