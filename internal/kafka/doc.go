// Package kafka owns DataQuarantine's side of the Kafka protocol: the
// embedded in-process broker (franz-go's kfake, persisted in the data dir),
// client construction with the settings zero loss depends on (idempotent
// producer, acks=all, manual commits, blocked rebalances while a batch is in
// flight), topic creation, and the partitioner that keeps per-partition order.
package kafka
