package io.somastack.connect.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading one file of connector-configs/ into the string map Connect's REST API takes. */
class PipelineFileTest {

  @TempDir Path dir;

  private Path write(String config) throws IOException {
    Path file = dir.resolve("p.json");
    Files.writeString(
        file, "{\"name\": \"p\", \"config\": {\"connector.class\": \"x.Y\", " + config + "}}");
    return file;
  }

  /** A JSON null was sent to Connect as the four-letter string "null". */
  @Test
  void aNullValueIsRefusedNamingFileAndKey() throws IOException {
    Path file = write("\"connection.password\": null");
    IOException e = assertThrows(IOException.class, () -> PipelineFile.read(file));
    assertEquals(
        file
            + ": config connection.password is null; configs are strings: quote the"
            + " value, or leave the key out for its default",
        e.getMessage());
  }

  /**
   * An array or object was sent as its JSON text (["a","b"] where Connect's lists are "a,b"): the
   * REST API itself refuses those, so this refuses them first, naming the key, without the value.
   */
  @Test
  void arraysAndObjectsAreRefusedWithoutQuotingThem() throws IOException {
    for (String value : new String[] {"[\"secret-a\", \"secret-b\"]", "{\"k\": \"secret\"}"}) {
      Path file = write("\"topics\": " + value);
      IOException e = assertThrows(IOException.class, () -> PipelineFile.read(file));
      assertTrue(e.getMessage().startsWith(file + ": config topics is "), e.getMessage());
      assertFalse(e.getMessage().contains("secret"), e.getMessage());
    }
  }

  /**
   * A value whose quotes were forgotten is no JSON; the parser's own message quotes the token it
   * met, which is then printed to the console and CI logs. The error names file, line and column.
   */
  @Test
  void aFileThatIsNotJsonIsRefusedWithoutQuotingIt() throws IOException {
    Path file = write("\"connection.password\": s3cr3t-pw,\n \"tasks.max\": 1");
    IOException e = assertThrows(IOException.class, () -> PipelineFile.read(file));
    assertTrue(e.getMessage().startsWith(file + " is not JSON: line 1, column "), e.getMessage());
    assertFalse(e.getMessage().contains("s3cr3t"), e.getMessage());
    assertEquals(null, e.getCause(), "the parser's exception, which quotes it, is not kept");
  }

  /** A blank name was PUT to /connectors//config, which Connect answers with a bare 404. */
  @Test
  void aBlankNameIsRefused() throws IOException {
    Path file = dir.resolve("blank.json");
    Files.writeString(file, "{\"name\": \" \", \"config\": {\"connector.class\": \"x.Y\"}}");
    IOException e = assertThrows(IOException.class, () -> PipelineFile.read(file));
    assertTrue(e.getMessage().contains("is not a Connect REST body"), e.getMessage());
  }

  /** The convention kept: a number or boolean is sent as its JSON text, as Connect reads it. */
  @Test
  void numbersAndBooleansAreSentAsTheirText() throws IOException {
    PipelineFile pipeline =
        PipelineFile.read(write("\"tasks.max\": 3, \"flag\": true, \"ratio\": 0.5, \"s\": \"x\""));
    assertEquals(
        Map.of(
            "connector.class", "x.Y",
            "tasks.max", "3",
            "flag", "true",
            "ratio", "0.5",
            "s", "x",
            "name", "p"),
        pipeline.config());
  }

  /**
   * A config "name" unlike the file's name: Connect refuses the PUT (the URL names the other), but
   * the Strimzi resource silently took the file's name, so the two paths deployed different things.
   */
  @Test
  void aConfigNameUnlikeTheFilesNameIsRefused() throws IOException {
    Path file = write("\"name\": \"q\"");
    IOException e = assertThrows(IOException.class, () -> PipelineFile.read(file));
    assertTrue(
        e.getMessage().contains("config name q is not the pipeline's name p"), e.getMessage());
    assertEquals("p", PipelineFile.read(write("\"name\": \"p\"")).config().get("name"));
  }
}
