package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary bytes through Load and Validate, as a config file
// and as list-valued environment variables: they may fail, never panic.
func FuzzLoad(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("a: &a [*a, *a]\nkafka: *a\n"))
	f.Add([]byte("kafka: {<<: [{group_id: x}, {client_id: y}], partitions: 3}\n"))
	f.Add([]byte("[{topic: t, subject: s}, ~, {subject: x, schema: '{}'}]"))

	// One file per worker process, rewritten for each input: a new directory
	// per input would make the fuzzer spend its time creating them.
	path := filepath.Join(f.TempDir(), "config.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if c, err := Load(path, nil); err == nil {
			_ = c.Validate()
			_ = c.MetadataURL()
			_ = c.PayloadsURL()
			for i := range c.Schemas {
				_, _ = c.SchemaSource(i)
			}
		}
		for _, env := range []string{"DQ_TOPICS_INPUTS=", "DQ_SCHEMAS=", "DQ_KAFKA_BROKERS="} {
			if c, err := Load("", []string{env + string(data)}); err == nil {
				_ = c.Validate()
			}
		}
	})
}
