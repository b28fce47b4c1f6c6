// Command dataquarantine is a streaming data-quality gateway for Kafka.
// See README.md, or run 'dataquarantine --help'.
package main

import (
	"os"

	"github.com/dataquarantine/dataquarantine/internal/cli"
)

func main() { os.Exit(cli.Main()) }
