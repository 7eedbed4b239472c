package io.flotilla.storage;

/** The whole storage API, as the HTTP layer sees it and the cluster will route it. */
public interface RegistryStorage extends ManifestStorage, BlobStorage, StorageAdmin {}
