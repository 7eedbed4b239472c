package io.flotilla.bench;

import java.util.Arrays;

/** Entry point: {@code --url ...} runs the driver; {@code report ...} renders the table. */
public final class BenchMain {

  private BenchMain() {}

  public static void main(String[] args) {
    try {
      if (args.length > 0 && args[0].equals("report")) {
        Report.main(Arrays.copyOfRange(args, 1, args.length));
        System.exit(0);
      }
      if (args.length > 0 && args[0].equals("event-receiver")) {
        EventSinks.receiver(Arrays.copyOfRange(args, 1, args.length));
        System.exit(0);
      }
      if (args.length > 0 && args[0].equals("await-events")) {
        System.exit(EventSinks.await(Arrays.copyOfRange(args, 1, args.length)));
      }
      if (args.length > 0 && args[0].equals("stub-server")) {
        StubServer.main(Arrays.copyOfRange(args, 1, args.length));
        System.exit(0);
      }
      Options o;
      try {
        o = Options.parse(args);
      } catch (IllegalArgumentException e) {
        System.err.println("error: " + e.getMessage());
        Options.usage();
        System.exit(2);
        return;
      }
      int rc = new Driver(o).run();
      System.exit(rc);
    } catch (Throwable t) {
      System.err.println("BENCHMARK FAILED: " + t);
      t.printStackTrace();
      System.exit(1);
    }
  }
}
