package io.flotilla.auth;

import io.flotilla.config.ConfigException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.springframework.security.crypto.bcrypt.BCrypt;

/**
 * The users of an htpasswd file, bcrypt entries only ({@code htpasswd -B}: {@code $2y$}, also
 * {@code $2a$}/{@code $2b$}). Any other hash kind (MD5 {@code $apr1$}, SHA1 {@code {SHA}}, crypt,
 * plain) is refused at start with an error naming the line, rather than silently accepted.
 * {@link #check} is deliberately slow (bcrypt): call it on a worker thread.
 */
public final class Htpasswd {
  private static final Pattern BCRYPT = Pattern.compile("\\$2[aby]\\$(0[4-9]|[12][0-9]|3[01])\\$[./A-Za-z0-9]{53}");
  private static final Pattern USER = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@-]{0,127}");
  /** A valid hash of a random password: users that do not exist cost the same time as wrong passwords. */
  private static final String DUMMY = BCrypt.hashpw("flotilla-no-such-user", BCrypt.gensalt(10));

  private final Map<String, String> hashes;

  private Htpasswd(Map<String, String> hashes) {
    this.hashes = Map.copyOf(hashes);
  }

  /** Loads and validates a file. */
  public static Htpasswd load(Path file) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigException("auth.htpasswd", "cannot read " + file + ": " + e.getMessage());
    }
    return parse(file.toString(), lines);
  }

  static Htpasswd parse(String source, List<String> lines) {
    Map<String, String> out = new HashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String where = source + " line " + (i + 1);
      int colon = line.indexOf(':');
      if (colon <= 0) {
        throw new ConfigException("auth.htpasswd", where + " is not user:hash");
      }
      String user = line.substring(0, colon);
      String hash = line.substring(colon + 1);
      if (!USER.matcher(user).matches() || user.equals(Principal.ANONYMOUS) || user.equals("authenticated")
          || user.equals("flotilla")) {
        throw new ConfigException("auth.htpasswd", where + ": '" + user + "' is not a valid user name");
      }
      if (!BCRYPT.matcher(hash).matches()) {
        throw new ConfigException("auth.htpasswd", where + " (user " + user + ") is not a bcrypt hash ("
            + kind(hash) + "); only bcrypt is accepted: create entries with htpasswd -B");
      }
      if (out.put(user, hash) != null) {
        throw new ConfigException("auth.htpasswd", where + ": user " + user + " appears twice");
      }
    }
    return new Htpasswd(out);
  }

  private static String kind(String hash) {
    if (hash.startsWith("$apr1$")) {
      return "Apache MD5";
    }
    if (hash.startsWith("{SHA}")) {
      return "SHA-1";
    }
    if (hash.startsWith("$1$") || hash.startsWith("$5$") || hash.startsWith("$6$")) {
      return "crypt";
    }
    if (hash.startsWith("$2")) {
      return "malformed bcrypt";
    }
    return "unknown or plain text";
  }

  public boolean contains(String user) {
    return hashes.containsKey(user);
  }

  public int size() {
    return hashes.size();
  }

  /** Whether {@code password} is {@code user}'s; constant work whether or not the user exists. Blocking. */
  public boolean check(String user, String password) {
    String hash = hashes.get(user);
    if (hash == null) {
      BCrypt.checkpw(password, DUMMY);
      return false;
    }
    try {
      return BCrypt.checkpw(password, hash);
    } catch (IllegalArgumentException e) {
      return false;
    }
  }
}
