package io.flotilla.scan;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The one JSON form of scanning's stored values ({@link ImageScan}, {@link LayerInventory}): Jackson over
 * the records themselves, so a field added to a record is stored without more code. Unknown fields are
 * ignored when reading, so an older node reads a newer file.
 */
public final class ScanJson {
  private static final ObjectMapper JSON = new ObjectMapper()
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  private ScanJson() {}

  /** The JSON bytes of {@code value}. */
  public static byte[] write(Object value) {
    try {
      return JSON.writeValueAsBytes(value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Reads a value of {@code type}; fails with IOException on bytes that are not one. */
  public static <T> T read(byte[] json, Class<T> type) throws IOException {
    return JSON.readValue(json, type);
  }
}
