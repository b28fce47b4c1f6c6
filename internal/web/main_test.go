package web

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that the tests, the browser tests' gateway and Chromium
// included, leave no goroutine behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
