package io.flotilla.oci;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Parses and validates manifest bodies: OCI image manifests and indexes (including artifact
 * manifests with {@code artifactType}) and Docker schema 2 manifests and manifest lists. Everything
 * it rejects is a MANIFEST_INVALID with a detail saying what is wrong. Stateless and thread-safe;
 * whether referenced content exists is the storage layer's check, not this one's.
 */
public final class ManifestParser {
  private static final ObjectMapper MAPPER = JsonMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .disable(JsonParser.Feature.ALLOW_COMMENTS)
      .build();
  private static final Pattern MEDIA_TYPE = Pattern.compile(
      "[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}");

  private ManifestParser() {}

  /**
   * Validates a manifest body.
   *
   * @param body the raw bytes as pushed
   * @param contentType the request's Content-Type, may be null
   */
  public static Manifest parse(byte[] body, String contentType) {
    JsonNode root;
    try {
      root = MAPPER.readTree(body);
    } catch (IOException e) {
      throw invalid("manifest is not valid JSON");
    }
    if (root == null || !root.isObject()) {
      throw invalid("manifest must be a JSON object");
    }
    JsonNode schemaVersion = root.get("schemaVersion");
    if (schemaVersion == null || !schemaVersion.isIntegralNumber() || schemaVersion.asInt() != 2) {
      throw invalid("schemaVersion must be 2 (schema 1 manifests are not supported)");
    }
    String mediaType = effectiveMediaType(root, MediaTypes.base(contentType));
    if (MediaTypes.isIndex(mediaType)) {
      return parseIndex(root, mediaType);
    }
    return parseImage(root, mediaType);
  }

  private static String effectiveMediaType(JsonNode root, String contentType) {
    String declared = optionalString(root, "mediaType", "mediaType");
    if (declared != null && !MediaTypes.isManifest(declared)) {
      throw invalid("unsupported manifest media type: " + declared);
    }
    boolean typedRequest = contentType != null && !contentType.isEmpty()
        && !contentType.equals(MediaTypes.JSON) && !contentType.equals(MediaTypes.OCTET_STREAM);
    if (typedRequest && !MediaTypes.isManifest(contentType)) {
      throw invalid("unsupported manifest media type: " + contentType);
    }
    if (typedRequest && declared != null && !declared.equals(contentType)) {
      throw invalid("mediaType " + declared + " does not match Content-Type " + contentType);
    }
    if (typedRequest) {
      return contentType;
    }
    if (declared != null) {
      return declared;
    }
    if (root.has("manifests")) {
      return MediaTypes.OCI_INDEX;
    }
    return MediaTypes.OCI_MANIFEST;
  }

  private static Manifest parseImage(JsonNode root, String mediaType) {
    if (root.has("manifests")) {
      throw invalid("an image manifest must not have a manifests field");
    }
    JsonNode config = root.get("config");
    if (config == null) {
      throw invalid("config descriptor is required");
    }
    Descriptor configDescriptor = descriptor(config, "config");
    JsonNode layersNode = root.get("layers");
    if (layersNode == null || !layersNode.isArray()) {
      throw invalid("layers must be an array");
    }
    List<Descriptor> layers = new ArrayList<>(layersNode.size());
    for (int i = 0; i < layersNode.size(); i++) {
      layers.add(descriptor(layersNode.get(i), "layers[" + i + "]"));
    }
    String artifactType = optionalMediaType(root, "artifactType");
    String reported = artifactType != null ? artifactType : configDescriptor.mediaType();
    return new Manifest(mediaType, reported, configDescriptor, layers, List.of(),
        subject(root), annotations(root.get("annotations"), "annotations"));
  }

  private static Manifest parseIndex(JsonNode root, String mediaType) {
    if (root.has("config") || root.has("layers")) {
      throw invalid("an index must not have config or layers");
    }
    JsonNode list = root.get("manifests");
    if (list == null || !list.isArray()) {
      throw invalid("manifests must be an array");
    }
    List<Descriptor> children = new ArrayList<>(list.size());
    for (int i = 0; i < list.size(); i++) {
      children.add(descriptor(list.get(i), "manifests[" + i + "]"));
    }
    return new Manifest(mediaType, optionalMediaType(root, "artifactType"), null, List.of(), children,
        subject(root), annotations(root.get("annotations"), "annotations"));
  }

  private static Descriptor subject(JsonNode root) {
    JsonNode subject = root.get("subject");
    if (subject == null || subject.isNull()) {
      return null;
    }
    return descriptor(subject, "subject");
  }

  private static Descriptor descriptor(JsonNode node, String where) {
    if (node == null || !node.isObject()) {
      throw invalid(where + " must be a descriptor object");
    }
    String mediaType = optionalMediaType(node, "mediaType");
    if (mediaType == null) {
      throw invalid(where + ".mediaType is required");
    }
    JsonNode digestNode = node.get("digest");
    if (digestNode == null || !digestNode.isTextual()) {
      throw invalid(where + ".digest is required");
    }
    Digest digest;
    try {
      digest = Digest.parse(digestNode.textValue());
    } catch (OciException e) {
      throw invalid(where + ".digest is not a valid digest");
    }
    JsonNode sizeNode = node.get("size");
    if (sizeNode == null || !sizeNode.isIntegralNumber() || !sizeNode.canConvertToLong() || sizeNode.asLong() < 0) {
      throw invalid(where + ".size must be a non-negative integer");
    }
    String os = null;
    String arch = null;
    JsonNode platform = node.get("platform");
    if (platform != null && !platform.isNull()) {
      if (!platform.isObject()) {
        throw invalid(where + ".platform must be an object");
      }
      os = optionalString(platform, "os", where + ".platform.os");
      arch = optionalString(platform, "architecture", where + ".platform.architecture");
    }
    return new Descriptor(mediaType, digest, sizeNode.asLong(), optionalMediaType(node, "artifactType"),
        annotations(node.get("annotations"), where + ".annotations"), os, arch);
  }

  private static String optionalMediaType(JsonNode node, String field) {
    String value = optionalString(node, field, field);
    if (value != null && !MEDIA_TYPE.matcher(value).matches()) {
      throw invalid(field + " is not a valid media type: " + value);
    }
    return value;
  }

  private static String optionalString(JsonNode node, String field, String where) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      return null;
    }
    if (!value.isTextual()) {
      throw invalid(where + " must be a string");
    }
    return value.textValue();
  }

  private static Map<String, String> annotations(JsonNode node, String where) {
    if (node == null || node.isNull()) {
      return Map.of();
    }
    if (!node.isObject()) {
      throw invalid(where + " must be an object of strings");
    }
    Map<String, String> out = new LinkedHashMap<>();
    var fields = node.fields();
    while (fields.hasNext()) {
      var e = fields.next();
      if (!e.getValue().isTextual()) {
        throw invalid(where + "." + e.getKey() + " must be a string");
      }
      out.put(e.getKey(), e.getValue().textValue());
    }
    return out;
  }

  private static OciException invalid(String detail) {
    return OciError.MANIFEST_INVALID.with(detail);
  }
}
