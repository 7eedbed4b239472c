package io.flotilla.scan;

import io.vertx.core.json.JsonObject;

/**
 * One node's vulnerability database as the cluster sees it: which artifact it last worked on and how
 * far it got, with its scanner's counters. Published by each node in the cluster-wide map that
 * {@link VulnDbRollout} keeps, and shown by {@code GET /api/v1/vulndb}. One JSON schema: {@link #toJson}.
 *
 * @param node the node's name
 * @param digest the database artifact it holds or works on, or {@code ""}
 * @param state {@code absent} (nothing configured was found), {@code fetching}, {@code compiling},
 *     {@code ready}, or {@code failed}
 * @param error why it failed, or {@code ""}
 * @param records advisories compiled ({@code ready} only)
 * @param active the digest of the database this node matches with now, or {@code ""}
 * @param updatedMillis when the state was last published
 * @param stats the node's scanner counters
 */
public record VulnDbState(String node, String digest, String state, String error, long records, String active,
    long updatedMillis, Scanner.Stats stats) {

  /** The JSON form (the API's and the cluster map's). */
  public JsonObject toJson() {
    return new JsonObject().put("node", node).put("digest", digest).put("state", state).put("error", error)
        .put("records", records).put("active", active).put("updated", updatedMillis)
        .put("scanner", new JsonObject().put("scans", stats.scans()).put("failures", stats.failures())
            .put("rematches", stats.rematches()).put("layerBytesRead", stats.layerBytesRead())
            .put("layersRead", stats.layersRead()).put("layersCached", stats.layersCached())
            .put("stored", stats.stored()).put("queued", stats.queued()));
  }

  /** Reads the JSON form. */
  public static VulnDbState of(JsonObject j) {
    JsonObject s = j.getJsonObject("scanner", new JsonObject());
    return new VulnDbState(j.getString("node", ""), j.getString("digest", ""), j.getString("state", ""),
        j.getString("error", ""), j.getLong("records", 0L), j.getString("active", ""), j.getLong("updated", 0L),
        new Scanner.Stats(s.getLong("scans", 0L), s.getLong("failures", 0L), s.getLong("rematches", 0L),
            s.getLong("layerBytesRead", 0L), s.getLong("layersRead", 0L), s.getLong("layersCached", 0L),
            s.getInteger("stored", 0), s.getInteger("queued", 0)));
  }
}
