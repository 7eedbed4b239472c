package io.flotilla.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code flotilla repo set|show|versions|version|sync}: a repository's content settings, its
 * versions, and syncs from its remote ({@code /api/v1/repositories/{name}}; the name keeps its
 * slashes in the path).
 */
@Command(name = "repo", description = "Repository settings, versions and syncs.")
public final class RepoCommands {
  @ParentCommand private FlotillaCli cli;
  @Spec private CommandSpec spec;

  @Command(name = "set", description = "Change a repository's settings (only the options given).")
  int set(
      @Parameters(paramLabel = "NAME") String name,
      @Option(names = "--remote", paramLabel = "R", description = "The remote it syncs from.") String remote,
      @Option(names = "--mirror", negatable = true, description = "Remove tags gone upstream.") Boolean mirror,
      @Option(names = "--auto-publish", negatable = true, description = "Publish each new version.") Boolean autoPublish,
      @Option(names = "--auto-distribute", negatable = true,
          description = "Point distributions at each new publication.") Boolean autoDistribute,
      @Option(names = "--retain-versions", paramLabel = "N", description = "Versions to keep.") Integer retainVersions)
      throws Exception {
    ObjectNode body = cli.json().createObjectNode();
    RemoteCommands.putIf(body, "remote", remote);
    putIf(body, "mirror", mirror);
    putIf(body, "autoPublish", autoPublish);
    putIf(body, "autoDistribute", autoDistribute);
    if (retainVersions != null) {
      if (retainVersions < 1) {
        throw cli.usage(spec.subcommands().get("set"), "--retain-versions must be at least 1");
      }
      body.put("retainVersions", retainVersions);
    }
    if (body.isEmpty()) {
      throw cli.usage(spec.subcommands().get("set"), "nothing to set: give at least one option");
    }
    cli.output().show(cli.api().put(ApiClient.path("repositories", name), body));
    return ExitCodes.OK;
  }

  @Command(name = "show", description = "Show a repository's settings.")
  int show(@Parameters(paramLabel = "NAME") String name) throws Exception {
    cli.output().show(cli.api().get(ApiClient.path("repositories", name)));
    return ExitCodes.OK;
  }

  @Command(name = "versions", description = "List a repository's versions.")
  int versions(@Parameters(paramLabel = "NAME") String name) throws Exception {
    JsonNode answer = cli.api().get(ApiClient.path("repositories", name, "versions"));
    Output out = cli.output();
    if (out.json()) {
      out.document(answer);
      return ExitCodes.OK;
    }
    List<List<String>> rows = new ArrayList<>();
    for (JsonNode v : answer.path("versions")) {
      JsonNode s = v.path("summary");
      rows.add(List.of(v.path("number").asText(), Output.text(v.path("base")), v.path("created").asText("-"),
          v.path("cause").asText("-"), Output.text(s.path("added")), Output.text(s.path("removed")),
          Output.text(s.path("present")), Output.text(v.path("task"))));
    }
    out.table(List.of("VERSION", "BASE", "CREATED", "CAUSE", "ADDED", "REMOVED", "PRESENT", "TASK"), rows);
    return ExitCodes.OK;
  }

  @Command(name = "version", description = "Show one version of a repository, with its tags.")
  int version(@Parameters(index = "0", paramLabel = "NAME") String name,
      @Parameters(index = "1", paramLabel = "N") long number) throws Exception {
    JsonNode v = cli.api().get(ApiClient.path("repositories", name, "versions", Long.toString(number)));
    Output out = cli.output();
    if (out.json()) {
      out.document(v);
      return ExitCodes.OK;
    }
    ObjectNode head = v.deepCopy();
    head.remove("tags");
    out.fields(head, "");
    List<List<String>> rows = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = v.path("tags").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> t = it.next();
      rows.add(List.of(t.getKey(), t.getValue().asText()));
    }
    out.line("");
    out.table(List.of("TAG", "DIGEST"), rows);
    return ExitCodes.OK;
  }

  @Command(name = "sync", description = "Sync a repository from its remote; --wait follows the task.")
  int sync(
      @Parameters(paramLabel = "NAME") String name,
      @Option(names = "--remote", paramLabel = "R", description = "Sync from this remote.") String remote,
      @Option(names = "--mirror", negatable = true, description = "Remove tags gone upstream.") Boolean mirror,
      @Option(names = "--auto-publish", negatable = true, description = "Publish the new version.") Boolean autoPublish,
      @Option(names = "--auto-distribute", negatable = true,
          description = "Point distributions at the new publication.") Boolean autoDistribute,
      @Option(names = "--wait", description = "Follow the task's progress until it ends.") boolean wait)
      throws Exception {
    ObjectNode body = cli.json().createObjectNode();
    RemoteCommands.putIf(body, "remote", remote);
    putIf(body, "mirror", mirror);
    putIf(body, "autoPublish", autoPublish);
    putIf(body, "autoDistribute", autoDistribute);
    JsonNode started = cli.api().post(ApiClient.path("repositories", name, "sync"), body);
    return TaskCommands.started(cli, started, wait);
  }

  private static void putIf(ObjectNode body, String field, Boolean value) {
    if (value != null) {
      body.put(field, value);
    }
  }
}
