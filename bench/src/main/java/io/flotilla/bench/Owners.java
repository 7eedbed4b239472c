package io.flotilla.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Prints the owners of repositories, primary first, as a Flotilla cluster of the given nodes
 * places them. It calls the server's own {@code io.flotilla.cluster.Placement.score} (reflection,
 * so the bench project does not depend on the server), hence the Flotilla jar must be on the class
 * path; the selection (the {@code min(R, nodes)} highest scores, unsigned, equal scores to the
 * smaller node name) mirrors {@code Placement.owners}. Used by {@code cluster.sh}:
 *
 * <pre>
 *   java -cp flotilla-bench.jar:flotilla.jar io.flotilla.bench.Owners R node-1,node-2,node-3 &lt; repos.txt
 * </pre>
 *
 * <p>Reads one repository name per line; writes {@code repository owner1 owner2 ...} per line.
 */
public final class Owners {

  private Owners() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      System.err.println("usage: Owners R node1,node2,... < repositories");
      System.exit(2);
    }
    int r = Integer.parseInt(args[0]);
    List<String> nodes = new ArrayList<>(Arrays.asList(args[1].split(",")));
    nodes.sort(null);
    Method score = Class.forName("io.flotilla.cluster.Placement").getMethod("score", String.class, String.class);
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    StringBuilder out = new StringBuilder();
    for (String repo = in.readLine(); repo != null; repo = in.readLine()) {
      repo = repo.trim();
      if (repo.isEmpty()) {
        continue;
      }
      long[] s = new long[nodes.size()];
      for (int i = 0; i < s.length; i++) {
        s[i] = (long) score.invoke(null, nodes.get(i), repo);
      }
      List<Integer> order = new ArrayList<>();
      for (int i = 0; i < s.length; i++) {
        order.add(i);
      }
      // highest unsigned score first; the sort is stable, so ties keep the smaller name first
      order.sort(Comparator.comparing((Integer i) -> s[i], Long::compareUnsigned).reversed());
      out.append(repo);
      for (int k = 0; k < Math.min(r, nodes.size()); k++) {
        out.append(' ').append(nodes.get(order.get(k)));
      }
      out.append('\n');
    }
    System.out.print(out);
  }
}
