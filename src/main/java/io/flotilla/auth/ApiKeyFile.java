package io.flotilla.auth;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.storage.Fs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * The node's API keys on disk: one JSON file, {@code <dataDir>/_auth/apikeys.json}, replaced
 * atomically and durably on every change ({@link Fs#writeAtomic}: temp file, fsync, rename, fsync
 * of the folder), so a crash leaves the old set or the new one. Holds hashes, never secrets.
 * Blocking: call from worker threads.
 *
 * <pre>{"version":1,"savedMillis":1700000000000,"keys":[{"id":..,"user":..,"name":..,
 *   "createdMillis":..,"expiresMillis":0,"revokedMillis":0,"secretSha256":"<hex>"}]}</pre>
 */
final class ApiKeyFile {
  static final int VERSION = 1;
  private static final ObjectMapper JSON = new ObjectMapper()
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /** The file's content: when it was written and the keys. */
  record Content(int version, long savedMillis, List<ApiKey> keys) {
    Content {
      keys = List.copyOf(keys == null ? List.of() : keys);
    }
  }

  private final Path file;

  ApiKeyFile(Path dataDir) {
    this.file = dataDir.resolve("_auth").resolve("apikeys.json");
  }

  Path path() {
    return file;
  }

  /** The saved content, or null when there is no file yet. */
  Content load() {
    try {
      Content c = JSON.readValue(Files.readAllBytes(file), Content.class);
      if (c.version() != VERSION) {
        throw new IOException("unsupported version " + c.version());
      }
      return c;
    } catch (NoSuchFileException e) {
      return null;
    } catch (IOException e) {
      throw new UncheckedIOException("read " + file, e);
    }
  }

  void save(long nowMillis, List<ApiKey> keys) {
    try {
      Fs.writeAtomic(file, JSON.writeValueAsBytes(new Content(VERSION, nowMillis, keys)));
    } catch (IOException e) {
      throw new UncheckedIOException("encode " + file, e);
    }
  }
}
