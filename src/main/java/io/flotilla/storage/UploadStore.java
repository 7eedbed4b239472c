package io.flotilla.storage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.oci.OciError;
import io.flotilla.oci.RepositoryName;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * Upload sessions on disk under {@code <root>/uploads/<id>/} ({@code data} plus {@code state.json}
 * with the acknowledged offset), indexed in memory. Sessions created by a plain POST are persisted
 * and survive restarts; the throw-away session of a single-request monolithic upload is not.
 * Folders without a state file are leftovers of a crash and are removed at start-up.
 */
public final class UploadStore {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path root;
  private final Executor pool;
  private final ConcurrentHashMap<String, UploadSession> sessions = new ConcurrentHashMap<>();

  private final String idSuffix;

  public UploadStore(Path dataDir, Executor pool) {
    this(dataDir, pool, null);
  }

  /**
   * @param nodeName when set, session ids end in {@code .<nodeName>} so that any node of a cluster
   *     can tell which node holds a session from its id alone
   */
  public UploadStore(Path dataDir, Executor pool, String nodeName) {
    this.root = dataDir.resolve("uploads");
    this.pool = pool;
    this.idSuffix = nodeName == null ? "" : "." + nodeName;
  }

  /** The node named in a session id, or null for ids without one. */
  public static String nodeOf(String uploadId) {
    if (uploadId == null) {
      return null;
    }
    int dot = uploadId.indexOf('.');
    return dot < 0 || dot == uploadId.length() - 1 ? null : uploadId.substring(dot + 1);
  }

  /** Loads persisted sessions; blocking, called once at start-up. */
  public void load() throws IOException {
    Files.createDirectories(root);
    List<Path> dirs = new ArrayList<>();
    try (var list = Files.list(root)) {
      list.filter(Files::isDirectory).forEach(dirs::add);
    }
    for (Path dir : dirs) {
      Path state = dir.resolve(UploadSession.STATE);
      if (!Files.exists(state)) {
        Fs.deleteTree(dir);
        continue;
      }
      try {
        JsonNode node = JSON.readTree(state.toFile());
        RepositoryName repo = RepositoryName.of(node.get("repository").asText());
        long offset = node.get("offset").asLong();
        long created = node.get("created").asLong();
        Path data = dir.resolve(UploadSession.DATA);
        if (offset > 0 && (!Files.exists(data) || Files.size(data) < offset)) {
          Fs.deleteTree(dir);
          continue;
        }
        String id = dir.getFileName().toString();
        sessions.put(id, new UploadSession(id, repo, dir, pool, true, offset, created));
      } catch (IOException | RuntimeException corrupt) {
        Fs.deleteTree(dir);
      }
    }
  }

  /** Starts a session; blocking (creates its folder and, when persistent, its state file). */
  public UploadSession create(RepositoryName repository, boolean persistent) {
    String id = UUID.randomUUID() + idSuffix;
    Path dir = root.resolve(id);
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    UploadSession s = new UploadSession(id, repository, dir, pool, persistent, 0,
        System.currentTimeMillis());
    if (persistent) {
      s.writeState(false);
    }
    sessions.put(id, s);
    return s;
  }

  /** The session with this id in this repository, or BLOB_UPLOAD_UNKNOWN. */
  public UploadSession get(RepositoryName repository, String id) {
    UploadSession s = id == null ? null : sessions.get(id);
    if (s == null || !s.repository().equals(repository)) {
      throw OciError.BLOB_UPLOAD_UNKNOWN.with("upload " + abbreviate(id) + " is not known in " + repository);
    }
    return s;
  }

  /** Forgets a session and deletes its files; blocking. */
  public void remove(UploadSession s) {
    sessions.remove(s.id(), s);
    s.close();
    try {
      // the usual folder holds at most these two; anything else takes the general walk
      Files.deleteIfExists(s.dataFile());
      Files.deleteIfExists(s.dir().resolve(UploadSession.STATE));
      Files.deleteIfExists(s.dir());
    } catch (IOException e) {
      Fs.deleteTree(s.dir());
    }
  }

  public Collection<UploadSession> all() {
    return List.copyOf(sessions.values());
  }

  public Path tempDir() {
    return root;
  }

  private static String abbreviate(String s) {
    if (s == null) {
      return "(none)";
    }
    return s.length() > 64 ? s.substring(0, 64) + "..." : s;
  }
}
