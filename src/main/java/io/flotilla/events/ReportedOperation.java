package io.flotilla.events;

import io.flotilla.storage.EventSink.Operation;
import io.flotilla.storage.RequestContext;

/**
 * What a request hands to the journal for its event: the operation, who asked, and when. Cheap to
 * make on the request's thread; the event's id and JSON ({@link #toJson}) are made later, on the
 * journal's writer thread.
 *
 * @param ctx the request (its id, address, host, method, user agent and identity go into the event)
 * @param op the operation
 * @param epochMillis when it was reported (the event's {@code timestamp})
 * @param source the reporting node
 */
record ReportedOperation(RequestContext ctx, Operation op, long epochMillis, RegistryEvent.Source source)
    implements EventJournal.EventLine {

  /** The event, with a new id: distribution's notification event, as one line of JSON. */
  @Override
  public String json() {
    return toEvent().toJson();
  }

  @Override
  public void writeJson(java.io.OutputStream out) throws java.io.IOException {
    toEvent().writeJson(out);
  }

  /** The event, with a new id. */
  RegistryEvent toEvent() {
    Long size = op.size() < 0 ? null : op.size();
    String url = op.resource() != null ? "http://" + source.addr() + op.resource() : op.digest() == null ? null : "http://" + source.addr() + "/v2/" + op.repository() + "/"
        + (EventHub.isManifestType(op.mediaType()) ? "manifests/" : "blobs/") + op.digest();
    RegistryEvent.Target target = new RegistryEvent.Target(op.mediaType(), size, op.digest(), size, op.repository(),
        op.fromRepository(), url, op.tag(), op.references().isEmpty() ? null : op.references(),
        op.order() < 0 ? null : op.order());
    return new RegistryEvent(EventHub.newId(), Timestamps.format(epochMillis), op.action(), target,
        new RegistryEvent.Request(ctx.requestId(), ctx.remoteAddress(), ctx.host(), ctx.method(), ctx.userAgent()),
        new RegistryEvent.Actor(ctx.identity()), source);
  }
}
