import io.flotilla.testing.CveData;
import io.flotilla.testing.OciClient;

/**
 * Pushes CveData's images (vuln/app-0 .. vuln/app-{n-1}) and its OSV database (version 1) to a node.
 * Run: java -cp target/test-classes:target/classes:$(cat cp.txt) bench/zui-check/PushCveData.java URL [n]
 */
public class PushCveData {
  public static void main(String[] args) {
    String url = args.length > 0 ? args[0] : "http://127.0.0.1:5000";
    int n = args.length > 1 ? Integer.parseInt(args[1]) : 4;
    OciClient c = new OciClient(url);
    System.out.println("pushed " + CveData.push(c, 0, n));
    System.out.println("database " + CveData.pushDatabase(c, CveData.database(1)));
  }
}
