package io.flotilla.storage;

import io.flotilla.oci.Digest;
import io.flotilla.oci.RepositoryName;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The key layout of the metadata database. Every key is a kind letter, then fields separated by
 * {@link #SEP} (0x00, which no repository name, tag or digest can contain), so that all keys of one
 * kind and repository form one ordered, contiguous range and a name is never a prefix of another
 * name's range ({@code team/app\0} sorts apart from {@code team/app/sub\0}):
 *
 * <pre>
 * r \0 repo                      {@link MetaValues.Summary}: version, repository tombstone, counts, fingerprint
 * t \0 repo \0 tag               tag: when it was set, the digest it points at
 * m \0 repo \0 digest            {@link ManifestMeta} as JSON
 * b \0 repo \0 digest            blob link: size, when it was linked
 * x \0 repo \0 t \0 tag          tombstone of a tag: when it was deleted
 * x \0 repo \0 m \0 digest       tombstone of a manifest: when it was deleted
 * s \0 repo \0 subject \0 digest referrer index: the manifest digest has that subject (empty value)
 * z \0 ...                       the store's own bookkeeping (file layout migration)
 * </pre>
 */
final class MetaKeys {
  static final byte SEP = 0;

  private MetaKeys() {}

  static byte[] summary(RepositoryName repo) {
    return key("r", repo.value());
  }

  /** The summary key of a name that may not be valid (a catalog page's {@code last}). */
  static byte[] summary(String name) {
    return key("r", name);
  }

  /** The start of the summary range: every repository name follows it, in name order. */
  static byte[] summaryPrefix() {
    return key("r", "");
  }

  static byte[] tag(RepositoryName repo, String tag) {
    return key("t", repo.value(), tag);
  }

  static byte[] manifest(RepositoryName repo, Digest d) {
    return key("m", repo.value(), d.toString());
  }

  static byte[] blob(RepositoryName repo, Digest d) {
    return key("b", repo.value(), d.toString());
  }

  static byte[] tagTombstone(RepositoryName repo, String tag) {
    return key("x", repo.value(), "t", tag);
  }

  static byte[] manifestTombstone(RepositoryName repo, Digest d) {
    return key("x", repo.value(), "m", d.toString());
  }

  static byte[] referrer(RepositoryName repo, Digest subject, Digest referrer) {
    return key("s", repo.value(), subject.toString(), referrer.toString());
  }

  /** The range of one kind ({@code t}, {@code m}, {@code b}, {@code x}, {@code s}) in one repository. */
  static byte[] repoPrefix(String kind, RepositoryName repo) {
    return key(kind, repo.value(), "");
  }

  /** The range of the subject's referrers in one repository. */
  static byte[] referrerPrefix(RepositoryName repo, Digest subject) {
    return key("s", repo.value(), subject.toString(), "");
  }

  /** A bookkeeping key of the store itself. */
  static byte[] internal(String... fields) {
    String[] all = new String[fields.length + 1];
    all[0] = "z";
    System.arraycopy(fields, 0, all, 1, fields.length);
    return key(all);
  }

  /** The fields of a key after its kind. */
  static String[] fields(byte[] key) {
    String s = new String(key, StandardCharsets.UTF_8);
    String[] parts = s.split("\0", -1);
    return Arrays.copyOfRange(parts, 1, parts.length);
  }

  /** The last field of a key (the tag, digest or name it is about). */
  static String last(byte[] key) {
    int i = key.length - 1;
    while (i >= 0 && key[i] != SEP) {
      i--;
    }
    return new String(key, i + 1, key.length - i - 1, StandardCharsets.UTF_8);
  }

  static boolean startsWith(byte[] key, byte[] prefix) {
    if (key.length < prefix.length) {
      return false;
    }
    return Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
  }

  /** The smallest key after every key that starts with {@code prefix} (an exclusive upper bound). */
  static byte[] end(byte[] prefix) {
    byte[] out = Arrays.copyOf(prefix, prefix.length);
    for (int i = out.length - 1; i >= 0; i--) {
      if (out[i] != (byte) 0xff) {
        out[i]++;
        return Arrays.copyOf(out, i + 1);
      }
    }
    return null;
  }

  private static byte[] key(String... fields) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < fields.length; i++) {
      if (i > 0) {
        b.append('\0');
      }
      b.append(fields[i]);
    }
    return b.toString().getBytes(StandardCharsets.UTF_8);
  }
}
