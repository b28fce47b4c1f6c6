package cli

import (
	"context"
	"flag"
	"fmt"

	"github.com/dataquarantine/dataquarantine/internal/app"
	"github.com/dataquarantine/dataquarantine/internal/config"
)

func runMigrate(ctx context.Context, env Env) int {
	fs := newFlagSet(env, "migrate", "[flags]", `
Apply the schema migrations of the stores (SQLite or PostgreSQL), the
quarantine metadata's then the schema registry's, and exit. serve applies
them at start as well; run this ahead of a rollout, or with a role allowed
to change the schema. Migrations are versioned and idempotent: running it
twice changes nothing the second time.`)
	var (
		cfgPath = fs.String("config", "", "YAML config `file` (storage.metadata.url)")
		dataDir = fs.String("data-dir", "", "data `dir` holding the default SQLite file (default ./data)")
	)
	fs.exitStatus(`0  the stores are up to date
1  migrating failed (why is on stderr)
2  bad flags or configuration`)
	if code := fs.parse(); code >= 0 {
		return code
	}
	cfg, err := config.Load(*cfgPath, env.Environ)
	if err != nil {
		fmt.Fprintf(env.Stderr, "migrate: %v\n", err)
		return exitUsage
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "data-dir" {
			cfg.DataDir = *dataDir
		}
	})
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(env.Stderr, "migrate: invalid configuration:\n%v\n", indent(err.Error()))
		return exitUsage
	}
	done, err := app.Migrate(ctx, cfg)
	for _, store := range done {
		fmt.Fprintf(env.Stdout, "%s is up to date\n", store)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "migrate: %v\n", err)
		return exitInvalid
	}
	return exitOK
}
