package io.flotilla.scan;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * npm packages, read with Jackson's streaming parser (nothing but the wanted fields is kept):
 * <ul>
 *   <li>{@code package-lock.json} outside {@code node_modules}: lockfile versions 2 and 3 from the
 *       {@code packages} map (keys {@code node_modules/...}; the root entry, workspace folders and
 *       {@code link} entries are not packages; an entry's {@code name} names an aliased package), version 1
 *       from the nested {@code dependencies} map;</li>
 *   <li>{@code node_modules/<name>/package.json} and {@code node_modules/@scope/<name>/package.json}:
 *       top-level {@code name} and {@code version}.</li>
 * </ul>
 */
final class NpmAnalyzer implements Analyzer {
  private static final JsonFactory JSON = new JsonFactory();
  private static final String NODE_MODULES = "node_modules/";

  @Override
  public boolean accepts(String path, String name, boolean executable) {
    if (name.equals("package-lock.json")) {
      return !path.startsWith(NODE_MODULES) && !path.contains("/" + NODE_MODULES);
    }
    return name.equals("package.json") && isPackageRoot(path);
  }

  /** {@code .../node_modules/<name>/package.json} or {@code .../node_modules/@scope/<name>/package.json}. */
  static boolean isPackageRoot(String path) {
    String[] parts = path.split("/");
    int n = parts.length;
    if (n >= 3 && parts[n - 3].equals("node_modules") && !parts[n - 2].startsWith("@")) {
      return true;
    }
    return n >= 4 && parts[n - 4].equals("node_modules") && parts[n - 3].startsWith("@");
  }

  @Override
  public long maxBytes(String path, ScanLimits limits) {
    return path.endsWith("package-lock.json") ? limits.maxDatabaseFileBytes() : limits.maxMetadataFileBytes();
  }

  @Override
  public void analyze(Findings out, InputStream in) throws IOException {
    boolean lockfile = out.path().endsWith("package-lock.json");
    try (JsonParser p = JSON.createParser(in)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new IOException("not a JSON object");
      }
      if (lockfile) {
        lockfile(p, out);
      } else {
        manifest(p, out);
      }
    }
  }

  private static void manifest(JsonParser p, Findings out) throws IOException {
    String name = "";
    String version = "";
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      JsonToken value = p.nextToken();
      if (value == JsonToken.VALUE_STRING && field.equals("name")) {
        name = p.getText();
      } else if (value == JsonToken.VALUE_STRING && field.equals("version")) {
        version = p.getText();
      } else {
        p.skipChildren();
      }
    }
    if (!name.isEmpty() && !version.isEmpty()) {
      out.add(InstalledPackage.of(PackageType.NPM, name, version, out.path()));
    }
  }

  private static void lockfile(JsonParser p, Findings out) throws IOException {
    List<String[]> packages = null;
    List<String[]> dependencies = null;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      JsonToken value = p.nextToken();
      if (value == JsonToken.START_OBJECT && field.equals("packages")) {
        packages = packagesMap(p);
      } else if (value == JsonToken.START_OBJECT && field.equals("dependencies")) {
        dependencies = new ArrayList<>();
        dependenciesV1(p, dependencies);
      } else {
        p.skipChildren();
      }
    }
    // lockfile v2 carries both; the packages map is the complete one
    List<String[]> found = packages != null ? packages : dependencies != null ? dependencies : List.of();
    for (String[] nv : found) {
      out.add(InstalledPackage.of(PackageType.NPM, nv[0], nv[1], out.path()));
    }
  }

  private static List<String[]> packagesMap(JsonParser p) throws IOException {
    List<String[]> found = new ArrayList<>();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String key = p.currentName();
      if (p.nextToken() != JsonToken.START_OBJECT) {
        p.skipChildren();
        continue;
      }
      String name = "";
      String version = "";
      boolean link = false;
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken value = p.nextToken();
        if (value == JsonToken.VALUE_STRING && field.equals("name")) {
          name = p.getText();
        } else if (value == JsonToken.VALUE_STRING && field.equals("version")) {
          version = p.getText();
        } else if (value == JsonToken.VALUE_TRUE && field.equals("link")) {
          link = true;
        } else {
          p.skipChildren();
        }
      }
      int at = key.lastIndexOf(NODE_MODULES);
      if (link || version.isEmpty() || at < 0 || (at > 0 && key.charAt(at - 1) != '/')) {
        continue;
      }
      if (name.isEmpty()) {
        name = key.substring(at + NODE_MODULES.length());
      }
      if (!name.isEmpty()) {
        found.add(new String[] {name, version});
      }
    }
    return found;
  }

  /** Lockfile v1: {@code "dependencies": {name: {version, dependencies: {...}}}}, nested. */
  private static void dependenciesV1(JsonParser p, List<String[]> found) throws IOException {
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      if (p.nextToken() != JsonToken.START_OBJECT) {
        p.skipChildren();
        continue;
      }
      String version = "";
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken value = p.nextToken();
        if (value == JsonToken.VALUE_STRING && field.equals("version")) {
          version = p.getText();
        } else if (value == JsonToken.START_OBJECT && field.equals("dependencies")) {
          dependenciesV1(p, found);
        } else {
          p.skipChildren();
        }
      }
      if (!version.isEmpty()) {
        found.add(new String[] {name, version});
      }
    }
  }
}
