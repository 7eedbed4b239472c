package io.flotilla.oci;

/**
 * The reference part of a manifest URL: either a tag or a digest, never both. Parsing decides by
 * syntax: anything with a colon is a digest, the rest must be a valid tag.
 */
public record Reference(Tag tag, Digest digest) {
  public Reference {
    if ((tag == null) == (digest == null)) {
      throw new IllegalArgumentException("a reference is a tag or a digest");
    }
  }

  public static Reference parse(String s) {
    if (Digest.looksLikeDigest(s)) {
      return new Reference(null, Digest.parse(s));
    }
    return new Reference(new Tag(s), null);
  }

  public static Reference of(Digest digest) {
    return new Reference(null, digest);
  }

  public static Reference of(Tag tag) {
    return new Reference(tag, null);
  }

  public boolean isDigest() {
    return digest != null;
  }

  @Override
  public String toString() {
    return isDigest() ? digest.toString() : tag.toString();
  }
}
