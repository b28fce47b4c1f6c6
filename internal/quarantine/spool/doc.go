// Package spool owns the local fallback of the quarantine stores (PRODUCT.md
// §6): when PostgreSQL or S3/MinIO is down, metadata rows and payload
// segments are written durably to a local directory instead, and a
// background syncer drains them into the backend once it is back. The
// pipeline keeps flowing and never commits an offset for a write that is
// neither in the backend nor safely spooled.
//
// Metadata wraps a quarantine.MetadataStore and Payloads a
// quarantine.PayloadStore; both implement the same interface, so the
// application wires them in front of the real driver.
//
// # Which errors spool
//
// Only operational failures of the primary, as retry.Transient tells them:
// timeouts, refused or reset connections, and the outages each driver marks
// with retry.ErrUnavailable (PostgreSQL connection and resource errors,
// SQLite's locked file, I/O errors or full disk, S3 5xx and throttling; the
// drivers' package comments list them). Anything else, such as a validation
// error for an entry with an empty id, is returned to the caller: spooling a
// batch the backend will never accept would only retry it forever.
//
// # Deferred: the spool as the write-ahead log
//
// With MetadataOptions.Deferred every batch goes to the spool, not only
// those the primary cannot take: Insert returns once the rows are fsync'd in
// a spool file, and the syncer, woken at once, indexes them into the primary
// in the background, oldest first. The gateway uses it for SQLite, whose
// inserts (a row and seven index entries, in transpiled C) cost several
// times what validating a record does: the pipeline pays for an append, and
// a flood of invalid records is quarantined at the rate the disk takes
// appends while the index catches up behind, at most MaxDeferredRows behind
// (then Insert waits: back-pressure). The durability contract is unchanged:
// a row is on disk before its offset is committed.
//
// # Ordering
//
// While anything is spooled, new writes go to the spool too, without trying
// the primary: the syncer drains in write order, so a later batch never
// reaches the backend before an earlier one, and a known-down backend does
// not cost every write a timeout. Once the spool is empty, writes go to the
// primary again.
//
// # Visibility
//
// Metadata List and CountByErrorType go to the primary only: a spooled row is
// listed once the syncer has drained it. Get finds a spooled row by id in the
// spool too. Payload reads
// look in the local spool first, then the primary, so a ref returned while
// S3 was down is readable at once and after the drain alike.
//
// # On-disk formats
//
// Metadata: one file per spooled batch, <Dir>/<seq>.batch, seq a 20-digit
// zero-padded counter (lexical order is write order):
//
//	file    = magic   "DQSPOOLM"       (8 bytes)
//	          version u8               (2)
//	          rows    u32 big-endian   (number of entries)
//	          bodyLen u32 big-endian
//	          body    the entries, binary (codec.go); version 1,
//	                  which older gateways wrote and which is still
//	                  read, has a JSON array of quarantine.Entry
//	          crc     u32 big-endian   (CRC-32C of version..body)
//
// Payloads: one file per spooled segment, <Dir>/<segment name>, holding the
// segment exactly as quarantine.EncodeSegment encodes it (its frames carry
// their own CRC-32C). Because the encoding is deterministic, the refs
// returned for a local segment are valid for the same segment in the primary.
//
// Every file is written to a temporary name containing '~' (a character no
// spool file or segment name has), fsynced, renamed into place, and the
// directory fsynced, so a crash leaves either the whole file or a temporary
// that the next open removes. A file that still does not decode (damaged
// media, a truncated file) is detected by its length and checksum, never
// mis-read: the syncer renames it to <name>~corrupt, logs it, and drains the
// rest. When the primary rejects a spooled metadata batch permanently, the
// syncer inserts its rows one by one and keeps only the rows still rejected
// in <seq>.batch~rejected (same format), logged as an error. A spooled payload
// segment the primary refuses stays at the head of the spool, retried, since
// refs handed out point into it. Set-aside files are never deleted here.
//
// A directory belongs to one Metadata or Payloads at a time. A new one opened
// on the directory an earlier process left drains what that process spooled.
package spool
