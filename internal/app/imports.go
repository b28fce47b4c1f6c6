package app

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dataquarantine/dataquarantine/internal/dlqimport"
	"github.com/dataquarantine/dataquarantine/internal/kafka"
)

// ImportGroupSuffix ends the consumer group that follows topics.imports:
// <kafka.group_id>-dlq-import, apart from the input topics' group, so
// every gateway of a deployment shares the followed topics' partitions
// without joining them to the pipeline's assignment.
const ImportGroupSuffix = "-dlq-import"

// followImports builds the follower of topics.imports, if any: its records
// go through the same (spooled) stores as the pipeline's, with the
// pipeline's write metrics.
func (a *App) followImports(reg prometheus.Registerer) error {
	if len(a.cfg.Topics.Imports) == 0 {
		return nil
	}
	follows := make([]dlqimport.Follow, len(a.cfg.Topics.Imports))
	topics := make([]string, len(a.cfg.Topics.Imports))
	for i, im := range a.cfg.Topics.Imports {
		f, err := dlqimport.ParseFormat(im.From)
		if err != nil {
			return fmt.Errorf("topics.imports[%d].from: %w", i, err)
		}
		follows[i] = dlqimport.Follow{Topic: im.Topic, Format: f, SourceTopic: im.SourceTopic}
		topics[i] = im.Topic
	}
	group := a.cfg.Kafka.GroupID + ImportGroupSuffix
	cl, err := kafka.NewGroupClient(kafka.GroupOptions{
		Brokers: a.brokers, ClientID: a.cfg.Kafka.ClientID, GroupID: group, Topics: topics,
		SessionTimeout: a.cfg.Kafka.SessionTimeout, Logger: a.log,
	})
	if err != nil {
		return fmt.Errorf("creating the dead-letter import consumer: %w", err)
	}
	a.importCl = cl
	a.imports, err = dlqimport.NewFollower(dlqimport.FollowerOptions{
		Client: cl, Follows: follows, Metadata: a.meta, Payloads: a.payloads, Metrics: a.metrics,
		RetryBackoffMin: a.cfg.Pipeline.RetryBackoffMin, RetryBackoffMax: a.cfg.Pipeline.RetryBackoffMax,
		MaxBatchHold: a.cfg.Pipeline.MaxBatchHold, Registerer: reg, Logger: a.log,
	})
	if err != nil {
		return err
	}
	a.log.Info("following dead-letter topics into the quarantine", "topics", topics, "group", group)
	return nil
}
