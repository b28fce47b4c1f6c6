package cli

import (
	"os"
	"testing"
)

// TestMain lets this test binary stand in for dataquarantine: run with
// DATAQUARANTINE_TEST_MAIN=1 it is the command line, so 'bench' can start it
// as its broker process, as it starts the real binary.
func TestMain(m *testing.M) {
	if os.Getenv("DATAQUARANTINE_TEST_MAIN") == "1" {
		os.Exit(Main())
	}
	_ = os.Setenv("DATAQUARANTINE_TEST_MAIN", "1") // inherited by the processes the tests start
	os.Exit(m.Run())
}
