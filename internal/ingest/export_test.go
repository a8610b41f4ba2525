package ingest

// PartSize is partSize, for the tests of refreshes applied in parts.
const PartSize = partSize
