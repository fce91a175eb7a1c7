package io.somastack.connect.deploy;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;

/** The deploy files (pipelines, topics) read as JSON. */
public final class JsonFiles {

  private static final ObjectMapper JSON = new ObjectMapper();

  private JsonFiles() {}

  /**
   * The file's JSON tree. A file that is not JSON is refused naming the line and column only: the
   * parser's message quotes the token it met, which in a pipeline file may be a password whose
   * quotes were forgotten, and the refusal is printed to the console and CI logs.
   */
  public static JsonNode read(Path path) throws IOException {
    try {
      return JSON.readTree(path.toFile());
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      String where = at == null ? "" : ": line " + at.getLineNr() + ", column " + at.getColumnNr();
      throw new IOException(path + " is not JSON" + where);
    }
  }
}
