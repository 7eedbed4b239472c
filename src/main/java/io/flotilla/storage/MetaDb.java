package io.flotilla.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.IndexType;
import org.rocksdb.InfoLogLevel;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;
import org.rocksdb.Statistics;
import org.rocksdb.TickerType;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteBufferManager;
import org.rocksdb.WriteOptions;

/**
 * The node's metadata database: an embedded RocksDB under {@code <dataDir>/metadata}, with the keys
 * of {@link MetaKeys}. Every {@link #commit} is one atomic {@link WriteBatch} written with
 * {@code sync=true}: it returns only once the write-ahead log is on disk, and concurrent committers
 * share one WAL fsync (RocksDB's write groups: the group commit).
 *
 * <p>Native memory is bounded: one {@value #BLOCK_CACHE_BYTES}-byte block cache that also holds the
 * index and filter blocks (in a high-priority half of it), and memtables of {@value #WRITE_BUFFER_BYTES} bytes (at most two) whose
 * memory is charged to the same cache. All methods block (disk I/O); they may be called from any
 * thread, also concurrently with {@link #close}, after which they throw {@link IllegalStateException}.
 */
final class MetaDb implements AutoCloseable {
  static final long BLOCK_CACHE_BYTES = 48L << 20;
  static final long WRITE_BUFFER_BYTES = 8L << 20;
  /**
   * The share of the cache reserved for index and filter blocks (inserted with high priority), so
   * memtables charged to the cache and data blocks cannot push them out: with 32 MiB of memtables
   * in a 32 MiB cache, every point lookup in a 1M-manifest database re-read and parsed index and
   * filter blocks (5-6 ms of CPU each).
   */
  static final double HIGH_PRIORITY_RATIO = 0.5;

  static {
    RocksDB.loadLibrary();
  }

  private final Path dir;
  private final LRUCache cache;
  private final WriteBufferManager writeBuffers;
  private final BloomFilter filter;
  private final Statistics statistics;
  private final Options options;
  private final WriteOptions sync;
  private final ReadOptions read;
  private final RocksDB db;
  /** Readers and writers hold it shared; {@link #close} exclusively, so no call runs on a closed DB. */
  private final ReentrantReadWriteLock open = new ReentrantReadWriteLock();
  private boolean closed;

  private MetaDb(Path dir, boolean statistics) throws RocksDBException {
    this.dir = dir;
    this.cache = new LRUCache(BLOCK_CACHE_BYTES, -1, false, HIGH_PRIORITY_RATIO);
    this.writeBuffers = new WriteBufferManager(2 * WRITE_BUFFER_BYTES, cache);
    this.filter = new BloomFilter(10);
    this.statistics = statistics ? new Statistics() : null;
    BlockBasedTableConfig table = new BlockBasedTableConfig()
        .setBlockCache(cache)
        .setFilterPolicy(filter)
        // partitioned index and filters: only a small top level per file stays pinned, the
        // partitions are cached like data, so a lookup never has to load a file's whole index
        .setIndexType(IndexType.kTwoLevelIndexSearch)
        .setPartitionFilters(true)
        .setMetadataBlockSize(4096)
        .setPinTopLevelIndexAndFilter(true)
        .setCacheIndexAndFilterBlocks(true)
        .setCacheIndexAndFilterBlocksWithHighPriority(true)
        .setPinL0FilterAndIndexBlocksInCache(true);
    Options o = new Options()
        .setCreateIfMissing(true)
        .setWriteBufferSize(WRITE_BUFFER_BYTES)
        .setMaxWriteBufferNumber(2)
        .setWriteBufferManager(writeBuffers)
        .setMaxBackgroundJobs(2)
        .setMaxTotalWalSize(4 * WRITE_BUFFER_BYTES)
        .setInfoLogLevel(InfoLogLevel.WARN_LEVEL)
        .setMaxLogFileSize(1L << 20)
        .setKeepLogFileNum(2)
        .setTableFormatConfig(table);
    if (this.statistics != null) {
      o.setStatistics(this.statistics);
    }
    this.options = o;
    this.sync = new WriteOptions().setSync(true);
    this.read = new ReadOptions();
    try {
      this.db = RocksDB.open(options, dir.toString());
    } catch (RocksDBException e) {
      closeNatives();
      throw e;
    }
  }

  /** Opens (creating if needed) the database in {@code dir}; blocking. */
  static MetaDb open(Path dir) throws IOException {
    return open(dir, false);
  }

  /** @param statistics whether to count RocksDB tickers ({@link #walSyncs}); costs a little per call */
  static MetaDb open(Path dir, boolean statistics) throws IOException {
    Files.createDirectories(dir);
    try {
      return new MetaDb(dir, statistics);
    } catch (RocksDBException e) {
      throw new IOException("cannot open the metadata database in " + dir + ": " + e.getMessage(), e);
    }
  }

  Path dir() {
    return dir;
  }

  /** The value of a key, or null. */
  byte[] get(byte[] key) {
    lockShared();
    try {
      return db.get(read, key);
    } catch (RocksDBException e) {
      throw failure("read", e);
    } finally {
      open.readLock().unlock();
    }
  }

  /** What {@link #scan} hands each entry to; returning false stops the scan. */
  @FunctionalInterface
  interface Visitor {
    boolean visit(byte[] key, byte[] value);
  }

  /** Every key that starts with {@code prefix}, in order. */
  void scan(byte[] prefix, Visitor visitor) {
    scan(prefix, prefix, visitor);
  }

  /** The keys that start with {@code prefix}, in order, from {@code from} (inclusive) on. */
  void scan(byte[] prefix, byte[] from, Visitor visitor) {
    byte[] end = MetaKeys.end(prefix);
    if (end == null) {
      throw new IllegalArgumentException("a prefix of 0xff bytes only has no upper bound");
    }
    lockShared();
    try (Slice upper = new Slice(end);
        ReadOptions ro = new ReadOptions().setIterateUpperBound(upper);
        RocksIterator it = db.newIterator(ro)) {
      for (it.seek(from); it.isValid(); it.next()) {
        byte[] key = it.key();
        if (!MetaKeys.startsWith(key, prefix)) {
          break;
        }
        if (!visitor.visit(key, it.value())) {
          break;
        }
      }
      it.status();
    } catch (RocksDBException e) {
      throw failure("scan", e);
    } finally {
      open.readLock().unlock();
    }
  }

  /** An atomic group of puts and deletes, written by {@link #commit}. Close it when done. */
  static final class Batch implements AutoCloseable {
    private final WriteBatch batch = new WriteBatch();
    private int ops;

    void put(byte[] key, byte[] value) {
      try {
        batch.put(key, value);
      } catch (RocksDBException e) {
        throw failure("batch", e);
      }
      ops++;
    }

    void delete(byte[] key) {
      try {
        batch.delete(key);
      } catch (RocksDBException e) {
        throw failure("batch", e);
      }
      ops++;
    }

    boolean isEmpty() {
      return ops == 0;
    }

    int size() {
      return ops;
    }

    @Override
    public void close() {
      batch.close();
    }
  }

  /** Writes a batch atomically and durably (WAL fsynced, shared with concurrent commits). */
  void commit(Batch b) {
    if (b.isEmpty()) {
      return;
    }
    lockShared();
    try {
      db.write(sync, b.batch);
    } catch (RocksDBException e) {
      throw failure("write", e);
    } finally {
      open.readLock().unlock();
    }
  }

  /** How many times the WAL was fsynced since open (needs {@code statistics}), or -1. */
  long walSyncs() {
    return statistics == null ? -1 : statistics.getTickerCount(TickerType.WAL_FILE_SYNCED);
  }

  /** A RocksDB property such as {@code rocksdb.block-cache-usage}, or null. */
  String property(String name) {
    lockShared();
    try {
      return db.getProperty(name);
    } catch (RocksDBException e) {
      return null;
    } finally {
      open.readLock().unlock();
    }
  }

  private void lockShared() {
    open.readLock().lock();
    if (closed) {
      open.readLock().unlock();
      throw new IllegalStateException("the metadata database in " + dir + " is closed");
    }
  }

  private static UncheckedIOException failure(String what, RocksDBException e) {
    return new UncheckedIOException(new IOException("metadata database " + what + " failed: " + e.getMessage(), e));
  }

  /** Closes the database (waiting for calls in progress) and frees its native memory; idempotent. */
  @Override
  public void close() {
    open.writeLock().lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      try {
        db.closeE();
      } catch (RocksDBException e) {
        throw failure("close", e);
      } finally {
        closeNatives();
      }
    } finally {
      open.writeLock().unlock();
    }
  }

  private void closeNatives() {
    read.close();
    sync.close();
    options.close();
    if (statistics != null) {
      statistics.close();
    }
    filter.close();
    writeBuffers.close();
    cache.close();
  }
}
